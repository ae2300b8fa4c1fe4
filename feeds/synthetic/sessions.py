"""NYSE sessions and listed expiries, from ``exchange_calendars`` (XNYS): no hand-written lists."""

from __future__ import annotations

import calendar as pycal
import warnings
from datetime import date, timedelta
from functools import lru_cache

import exchange_calendars as xcals
import numpy as np
import pandas as pd

from feeds.synthetic.spec import ExpiryRule, SyntheticDataError

NS_PER_MIN = 60_000_000_000
NS_PER_YEAR = 365 * 24 * 3600 * 1_000_000_000


@lru_cache(maxsize=1)
def xnys() -> xcals.ExchangeCalendar:
    with warnings.catch_warnings():
        # exchange_calendars itself still calls Series.values on tz-aware data (pandas 3.1).
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        return xcals.get_calendar("XNYS")


def is_session(day: date) -> bool:
    """Return True when NYSE holds a regular session on ``day``."""
    cal = xnys()
    ts = pd.Timestamp(day)
    if ts < cal.first_session or ts > cal.last_session:
        return False
    return bool(cal.is_session(ts))


def require_session(day: date) -> None:
    if not is_session(day):
        raise SyntheticDataError(f"{day.isoformat()} is not an NYSE session; pick a trading day")


def session_bounds_ns(day: date) -> tuple[int, int]:
    """Return the regular session's open and close as UTC nanoseconds (13:00 ET close on half days)."""
    require_session(day)
    cal = xnys()
    ts = pd.Timestamp(day)
    return int(cal.session_open(ts).value), int(cal.session_close(ts).value)


def sessions_between(start: date, end: date) -> list[date]:
    """Return every NYSE session from ``start`` to ``end`` inclusive."""
    if end < start:
        raise SyntheticDataError(f"end {end.isoformat()} is before start {start.isoformat()}")
    cal = xnys()
    lo = max(pd.Timestamp(start), cal.first_session)
    hi = min(pd.Timestamp(end), cal.last_session)
    if hi < lo:
        return []
    return [ts.date() for ts in cal.sessions_in_range(lo, hi)]


def previous_session(day: date) -> date:
    cal = xnys()
    return cal.date_to_session(pd.Timestamp(day - timedelta(days=1)), direction="previous").date()


def _roll_back(day: date, session: date) -> date | None:
    """The session on or before ``day`` (for an expiry on a holiday), never before ``session``."""
    while day >= session:
        if is_session(day):
            return day
        day -= timedelta(days=1)
    return None


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    offset = (pycal.FRIDAY - first.weekday()) % 7
    return first + timedelta(days=offset + 14)


def listed_expiries(rule: ExpiryRule, session: date) -> list[date]:
    """Return the expiries listed on ``session`` (sorted; today's 0DTE first when it exists)."""
    found: set[date] = set()
    last_cal = xnys().last_session.date()
    d, seen = session, 0
    while seen <= rule.daily_horizon_sessions and d <= last_cal:
        if is_session(d):
            seen += 1
            if d.weekday() in rule.daily_weekdays:
                found.add(d)
        d += timedelta(days=1)
    friday = session + timedelta(days=(pycal.FRIDAY - session.weekday()) % 7)
    while (friday - session).days <= rule.weekly_horizon_days:
        rolled = _roll_back(friday, session) if friday <= last_cal else friday
        if rolled is not None:
            found.add(rolled)
        friday += timedelta(days=7)
    year, month = session.year, session.month
    for _ in range(60):
        third = _third_friday(year, month)
        if (third - session).days > rule.monthly_horizon_days:
            break
        if third >= session:
            rolled = _roll_back(third, session) if third <= last_cal else third
            if rolled is not None:
                found.add(rolled)
        month += 1
        if month > 12:
            year, month = year + 1, 1
    for k in range(1, rule.leaps_years + 1):
        third = _third_friday(session.year + k, 1)
        rolled = _roll_back(third, session) if third <= last_cal else third
        if rolled is not None:
            found.add(rolled)
    return sorted(found)


def expiry_close_ns(expiry: date) -> int:
    """Return the UTC nanosecond at which an expiry stops trading (its session close)."""
    if is_session(expiry):
        return session_bounds_ns(expiry)[1]
    # Beyond the calendar's horizon (far LEAPS): assume a regular 16:00 ET close.
    return int(pd.Timestamp(f"{expiry.isoformat()} 16:00", tz="America/New_York").tz_convert("UTC").value)


def minute_grid_ns(day: date) -> np.ndarray:
    """Return the START of every regular-session minute of ``day`` in UTC nanoseconds."""
    open_ns, close_ns = session_bounds_ns(day)
    return np.arange(open_ns, close_ns, NS_PER_MIN, dtype=np.int64)
