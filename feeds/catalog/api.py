"""What the catalog's readers (the chain, the Backtrader feeds) read of a catalog: a Protocol and an opener."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from options_scalper.model import ScalperError


class CatalogOpenError(ScalperError):
    """No catalog was given where one is needed."""


class CatalogLike(Protocol):
    """The part of ``feeds.catalog.Catalog`` the Backtrader side reads."""

    def days(self, symbol: str) -> list[date]: ...

    def read_bars(self, symbol: str, day: date) -> pd.DataFrame | None: ...

    def read_quotes(self, symbol: str, day: date) -> pd.DataFrame: ...

    def read_open_interest(self, symbol: str, day: date) -> pd.DataFrame | None: ...

    def day_summary(self, symbol: str) -> pd.DataFrame: ...


def open_catalog(dataname: Any) -> CatalogLike:
    """Return a catalog: ``dataname`` is a catalog root (str / Path) or a catalog object."""
    if isinstance(dataname, str | Path):
        from feeds.catalog.catalog import Catalog

        return Catalog(Path(dataname))  # type: ignore[no-any-return,unused-ignore]
    if dataname is None:
        raise CatalogOpenError("no catalog given: pass dataname=<catalog root folder>")
    return dataname  # type: ignore[no-any-return,unused-ignore]
