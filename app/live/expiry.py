"""Expiry safety: when a 0DTE position must be flat.

Alpaca liquidates unfunded expiring in-the-money options from about 15:15 ET
(earlier when volatile), so the runtime never holds a 0DTE past 15:10 ET, nor past
the strategy's own 0DTE cutoff or session exit when that is earlier. On a half
day (13:00 close) both move earlier by the three hours the session loses
(``options_scalper.calendar.cutoff_utc``): 12:10 ET at the latest.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from options_scalper.calendar import cutoff_utc, session_date

SAFETY_CUTOFF_ET = time(15, 10)


def strategy_cutoff_et(config: Any) -> time | None:
    """The earliest of the strategy config's 0DTE cutoff and session exit (None: neither)."""
    times = [
        t
        for t in (getattr(config, "zero_dte_cutoff_et", None), getattr(config, "session_exit_et", None))
        if isinstance(t, time)
    ]
    return min(times) if times else None


def flat_by(day: date | datetime, config: Any = None) -> datetime:
    """The aware UTC instant by which every 0DTE of session ``day`` is closed."""
    d = session_date(day)
    own = strategy_cutoff_et(config)
    return cutoff_utc(d, min(own, SAFETY_CUTOFF_ET) if own else SAFETY_CUTOFF_ET)


def is_zero_dte(expiry: date, now: datetime) -> bool:
    return expiry <= session_date(now)


__all__ = ["SAFETY_CUTOFF_ET", "flat_by", "is_zero_dte", "strategy_cutoff_et"]
