"""The regular NYSE session of a trading date, as the catalog needs it (UTC bounds).

A thin view over :mod:`options_scalper.calendar` (exchange_calendars XNYS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from feeds.catalog.settings import CatalogError
from options_scalper import calendar


@dataclass(frozen=True)
class Session:
    """Regular session of ``day``: ``open`` and ``close`` are UTC timestamps."""

    day: date
    open: pd.Timestamp
    close: pd.Timestamp
    half_day: bool


def session_for(day: date) -> Session:
    """Return the NYSE regular session of ``day``; raise CatalogError when it is not a session."""
    try:
        open_utc, close_utc = calendar.session_open_close(day)
    except calendar.CalendarError as exc:
        raise CatalogError(
            f"{day} is not an NYSE trading session ({exc}); remove or rename that day's file"
        ) from exc
    return Session(
        day=day,
        open=pd.Timestamp(open_utc).tz_convert("UTC"),
        close=pd.Timestamp(close_utc).tz_convert("UTC"),
        half_day=calendar.is_half_day(day),
    )
