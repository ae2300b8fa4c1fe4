"""Journal errors and the URL masking used in every message about a database."""

from __future__ import annotations

import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from options_scalper.model import ScalperError


class JournalError(ScalperError):
    """The journal database cannot be opened, migrated or written."""


class JournalFileError(JournalError):
    """A SQLite journal file is no usable journal: not a database, half-created, damaged or newer."""


def mask_url(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(url))
