"""``IBStore``: the live store over an IB session (``LiveStore(IBVenue(...))``)."""

from __future__ import annotations

from typing import Any

from brokers.ibkr.config import IBConfig
from brokers.ibkr.venue import IBVenue
from brokers.live.store import LiveStore


def IBStore(venue: IBVenue | IBConfig | None = None, **store_options: Any) -> LiveStore:
    """The Backtrader store of an IB paper (or, with ``live``, live) session: ``LiveStore`` over ``IBVenue``."""
    return LiveStore(venue if isinstance(venue, IBVenue) else IBVenue(venue), **store_options)


__all__ = ["IBStore"]
