"""The day catalog: ingest DataBento CBBO-1m days once, backtest on small Parquet days many times.

``Catalog(root).ingest(data_dir)`` turns each source day into filtered, forward-filled
quotes, the underlying's bars, per-contract OI/volume when known and a summary row;
``read_quotes`` / ``read_bars`` / ``read_open_interest`` / ``day_summary`` /
``data_notes`` read it back. CLI: ``python -m feeds.catalog ingest|info``.

Names are imported lazily, so ``feeds.catalog.sessions`` stays cheap to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feeds.catalog.catalog import Catalog
    from feeds.catalog.settings import (
        CatalogError,
        DayFailure,
        IngestSettings,
        IngestSummary,
        SourceFileError,
    )

__all__ = ["Catalog", "CatalogError", "DayFailure", "IngestSettings", "IngestSummary", "SourceFileError"]

_HOMES = {"Catalog": "feeds.catalog.catalog"} | {
    name: "feeds.catalog.settings" for name in __all__ if name != "Catalog"
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'feeds.catalog' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
