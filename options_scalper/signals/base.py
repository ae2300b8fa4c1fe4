"""Shared pieces of the signal modules: the parameter error, validators, session dates."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from options_scalper.calendar import session_date
from options_scalper.model import ScalperError

EASTERN = ZoneInfo("America/New_York")


class SignalParameterError(ScalperError, ValueError):
    """A signal parameter is out of range; the message names it and the valid range."""


def require_positive_int(name: str, value: int) -> int:
    """Return ``value`` if it is an int >= 1, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SignalParameterError(f"{name} must be a whole number of bars >= 1, got {value!r}")
    return value


def require_positive(name: str, value: float) -> float:
    """Return ``value`` if it is a finite number > 0, else raise naming ``name``."""
    if not math.isfinite(value) or value <= 0:
        raise SignalParameterError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def require_non_negative(name: str, value: float) -> float:
    """Return ``value`` if it is a finite number >= 0, else raise naming ``name``."""
    if not math.isfinite(value) or value < 0:
        raise SignalParameterError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def session_date_et(ts: datetime) -> date:
    """Trading date of a bar timestamp in US/Eastern.

    A naive ``ts`` is taken as UTC, the project's storage convention (Backtrader
    hands out naive UTC datetimes); an aware one is converted.
    """
    aware = ts.replace(tzinfo=UTC) if ts.tzinfo is None or ts.utcoffset() is None else ts
    return session_date(aware)


def is_finite(value: float | None) -> bool:
    """True for a real, finite number (not None, not NaN, not inf)."""
    return value is not None and math.isfinite(value)
