"""Three generated SPY sessions, ingested once per test session: the app tests' small real dataset."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

TINY_DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]


def tiny_spy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of ``TINY_DAYS`` of SPY in DataBento's layout, with its catalog in ``.catalog``."""
    root = tmp_path_factory.getbasetemp() / "tiny-spy"
    if not (root / ".done").exists():
        from feeds.catalog import Catalog
        from feeds.synthetic.generate import generate_dataset
        from feeds.synthetic.spec import SPY_SPEC

        generate_dataset(root, [SPY_SPEC], TINY_DAYS, progress=False)
        Catalog(root / ".catalog").ingest(root, progress=False)
        (root / ".done").write_text("ok")
    return root
