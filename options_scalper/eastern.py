"""US/Eastern, where every decision is taken: the zone and the session date of an instant.

A leaf module (it imports nothing of the project), so the value types of
``options_scalper.model`` can use it; ``options_scalper.calendar`` re-exports both.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

ET = ZoneInfo("America/New_York")


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone where an instant is needed."""


def to_eastern(dt: datetime) -> datetime:
    """Convert an aware datetime to US/Eastern; naive datetimes are refused."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise NaiveDatetimeError(f"naive datetime {dt.isoformat()}: pass a timezone-aware UTC datetime")
    return dt.astimezone(ET)


def session_date(dt: datetime | date) -> date:
    """The US/Eastern calendar date of ``dt`` (a ``date`` is returned unchanged)."""
    if isinstance(dt, datetime):
        return to_eastern(dt).date()
    return dt
