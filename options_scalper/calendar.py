"""NYSE sessions, half days, expiry times, cutoffs and FOMC blackouts.

Sessions, holidays, early closes and DST come from ``exchange_calendars``
(XNYS, 2000-2035), built once on first use and flattened into a dict, so every
lookup after that is a dict hit. All inputs and outputs are timezone-aware
``datetime`` in UTC unless a name ends in ``_et``; days are ``date`` in US/Eastern.
A naive ``datetime`` is refused: it is the classic off-by-five-hours bug.

Half-day rule for cutoffs: a cutoff keeps its distance to the close. With
``shift = 16:00 - close`` (3 h on a 13:00 close), the effective cutoff is
``min(cutoff, cutoff - shift)`` (0DTE 14:00 -> 11:00, 1DTE 15:30 -> 12:30,
session exit 15:50 -> 12:50). The entry start time (09:35) is not shifted.

FOMC statement times ship in ``options_scalper/data/fomc.csv`` (source note in
the file); ``fomc_years()`` says which years it covers. Outside those years
``in_fomc_blackout`` is always False.
"""

from __future__ import annotations

import bisect
import csv
import functools
import io
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from importlib import resources
from typing import Protocol

from options_scalper.config import parse_hhmm
from options_scalper.eastern import ET, NaiveDatetimeError
from options_scalper.eastern import to_eastern as _to_eastern
from options_scalper.model import Rejection, ScalperError
from options_scalper.reasons import RejectReason

__all__ = [
    "ET",
    "CalendarError",
    "Settlement",
    "TimingConfig",
    "cutoff_utc",
    "effective_cutoff",
    "expiry_time_utc",
    "fomc_times_utc",
    "fomc_years",
    "in_fomc_blackout",
    "is_half_day",
    "is_market_open",
    "is_session",
    "is_tradable",
    "next_session",
    "parse_hhmm",
    "previous_session",
    "session_date",
    "session_open_close",
    "sessions_between",
    "to_eastern",
]

REGULAR_CLOSE_ET = time(16, 0)
CALENDAR_START = date(2000, 1, 1)
CALENDAR_END = date(2035, 12, 31)


class CalendarError(ScalperError, ValueError):
    """A day is outside the calendar or not a session, or a datetime is naive."""


class Settlement(StrEnum):
    """When an option's value is fixed: PM = the expiry day's close, AM = its open."""

    PM = "PM"
    AM = "AM"


class TimingConfig(Protocol):
    """What ``is_tradable`` reads; ``ScalpConfig`` and ``MomentumConfig`` both fit."""

    @property
    def scalp_start_et(self) -> time: ...
    @property
    def zero_dte_cutoff_et(self) -> time | None: ...
    @property
    def one_dte_cutoff_et(self) -> time | None: ...
    @property
    def session_exit_et(self) -> time | None: ...
    @property
    def no_scalp_around_fomc(self) -> bool: ...
    @property
    def fomc_blackout_minutes(self) -> int: ...


# --------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class _Sessions:
    days: tuple[date, ...]  # sorted
    open_close: dict[date, tuple[datetime, datetime]]


@functools.cache
def _sessions() -> _Sessions:
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        # exchange_calendars 4.x calls Series.values on tz-aware columns (pandas 3.1 deprecation)
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        cal = xcals.get_calendar("XNYS", start=CALENDAR_START.isoformat(), end=CALENDAR_END.isoformat())
    sched = cal.schedule
    opens = sched["open"].dt.to_pydatetime()
    closes = sched["close"].dt.to_pydatetime()
    days = tuple(ts.date() for ts in sched.index)
    table = {d: (o.astimezone(UTC), c.astimezone(UTC)) for d, o, c in zip(days, opens, closes, strict=True)}
    return _Sessions(days=days, open_close=table)


def _check_range(day: date) -> None:
    if not (CALENDAR_START <= day <= CALENDAR_END):
        raise CalendarError(
            f"{day.isoformat()} is outside the NYSE calendar range "
            f"{CALENDAR_START.isoformat()}..{CALENDAR_END.isoformat()}"
        )


def _as_day(day: date | datetime) -> date:
    return session_date(day) if isinstance(day, datetime) else day


def to_eastern(dt: datetime) -> datetime:
    """Convert an aware datetime to US/Eastern; naive datetimes are refused (``CalendarError``)."""
    try:
        return _to_eastern(dt)
    except NaiveDatetimeError as exc:
        raise CalendarError(str(exc)) from None


def session_date(dt: datetime | date) -> date:
    """The US/Eastern calendar date of ``dt`` (a ``date`` is returned unchanged)."""
    return to_eastern(dt).date() if isinstance(dt, datetime) else dt


def is_session(day: date | datetime) -> bool:
    """True when NYSE trades on ``day`` (US/Eastern date)."""
    d = _as_day(day)
    _check_range(d)
    return d in _sessions().open_close


def session_open_close(day: date | datetime) -> tuple[datetime, datetime]:
    """Open and close of the session on ``day``, UTC; ``CalendarError`` if none."""
    d = _as_day(day)
    _check_range(d)
    try:
        return _sessions().open_close[d]
    except KeyError:
        raise CalendarError(f"{d.isoformat()} ({d:%A}) is not an NYSE session") from None


def is_half_day(day: date | datetime) -> bool:
    """True for an early-close session (13:00 ET); False for other days."""
    d = _as_day(day)
    if not is_session(d):
        return False
    close_et = session_open_close(d)[1].astimezone(ET).time()
    return close_et < REGULAR_CLOSE_ET


def is_market_open(now: datetime) -> bool:
    """True when ``now`` is in [open, close) of a session."""
    d = session_date(now)
    if not is_session(d):
        return False
    open_utc, close_utc = session_open_close(d)
    return open_utc <= now < close_utc


def next_session(day: date | datetime) -> date:
    """The first session strictly after ``day``."""
    d = _as_day(day)
    _check_range(d)
    days = _sessions().days
    i = bisect.bisect_right(days, d)
    if i >= len(days):
        raise CalendarError(f"no session after {d.isoformat()} in the calendar")
    return days[i]


def previous_session(day: date | datetime) -> date:
    """The last session strictly before ``day``."""
    d = _as_day(day)
    _check_range(d)
    days = _sessions().days
    i = bisect.bisect_left(days, d)
    if i == 0:
        raise CalendarError(f"no session before {d.isoformat()} in the calendar")
    return days[i - 1]


def sessions_between(start: date, end: date) -> tuple[date, ...]:
    """Sessions in [start, end], inclusive, in order."""
    _check_range(start)
    _check_range(end)
    days = _sessions().days
    return days[bisect.bisect_left(days, start) : bisect.bisect_right(days, end)]


@functools.lru_cache(maxsize=4096)
def expiry_time_utc(expiry: date, settlement: Settlement | str = Settlement.PM) -> datetime:
    """When an option expiring on ``expiry`` stops trading and settles, UTC.

    PM-settled: the session close (16:00 ET, 13:00 on half days). AM-settled
    (monthly SPX): the open (09:30 ET) of that day. An expiry date that is not
    a session (a holiday) resolves to the previous session.
    """
    try:
        style = Settlement(settlement.upper())
    except ValueError:
        raise CalendarError(f"settlement {settlement!r}: use 'PM' or 'AM'") from None
    day = expiry if is_session(expiry) else previous_session(expiry)
    open_utc, close_utc = session_open_close(day)
    return open_utc if style is Settlement.AM else close_utc


# --------------------------------------------------------------------------- cutoffs


def effective_cutoff(day: date | datetime, cutoff_et: time) -> time:
    """``cutoff_et`` moved earlier by as much as the session closes early (see module doc)."""
    d = _as_day(day)
    if not is_half_day(d):
        return cutoff_et
    close_et = session_open_close(d)[1].astimezone(ET)
    shift = datetime.combine(d, REGULAR_CLOSE_ET) - datetime.combine(d, close_et.time())
    shifted = (datetime.combine(d, cutoff_et) - shift).time()
    return min(cutoff_et, shifted)


def cutoff_utc(day: date | datetime, cutoff_et: time) -> datetime:
    """The half-day-adjusted cutoff on ``day`` as a UTC datetime."""
    d = _as_day(day)
    local = datetime.combine(d, effective_cutoff(d, cutoff_et), tzinfo=ET)
    return local.astimezone(UTC)


# --------------------------------------------------------------------------- FOMC


@functools.cache
def fomc_times_utc() -> tuple[datetime, ...]:
    """Scheduled FOMC statement times from the bundled ``data/fomc.csv``, sorted, UTC."""
    try:
        text = resources.files("options_scalper").joinpath("data/fomc.csv").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CalendarError(
            "bundled options_scalper/data/fomc.csv is missing; reinstall the package"
        ) from exc
    rows = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    out: list[datetime] = []
    for row in csv.DictReader(io.StringIO("\n".join(rows))):
        day = date.fromisoformat(row["date"].strip())
        at = parse_hhmm(row["time_et"], "fomc.csv time_et")
        out.append(datetime.combine(day, at, tzinfo=ET).astimezone(UTC))
    return tuple(sorted(out))


def fomc_years() -> tuple[int, int]:
    """First and last year the bundled FOMC file covers."""
    times = fomc_times_utc()
    return times[0].year, times[-1].year


def in_fomc_blackout(now: datetime, minutes: int = 30) -> bool:
    """True when ``now`` is within +/- ``minutes`` (inclusive) of an FOMC statement."""
    to_eastern(now)  # refuses naive datetimes
    times = fomc_times_utc()
    window = timedelta(minutes=minutes)
    i = bisect.bisect_left(times, now - window)
    return i < len(times) and times[i] <= now + window


# --------------------------------------------------------------------------- entries


def is_tradable(
    now: datetime,
    expiry: date | None,
    cfg: TimingConfig,
    settlement: Settlement | str = Settlement.PM,
) -> Rejection | None:
    """Whether a new scalp may be opened at ``now`` in an option expiring on ``expiry``.

    Checks in order: market open, expiry not passed, after ``scalp_start_et``,
    outside the FOMC blackout, before the half-day-adjusted 0DTE cutoff (expiry
    today) or 1DTE cutoff (later expiry), before the session exit time.
    ``expiry=None`` checks only the expiry-independent rules (signal pre-filter).
    """
    now_et = to_eastern(now)
    today = now_et.date()
    if not is_market_open(now):
        return Rejection(
            RejectReason.MARKET_CLOSED, f"market closed at {now_et:%Y-%m-%d %H:%M} ET (NYSE calendar)"
        )
    if expiry is not None and (expiry < today or now >= expiry_time_utc(expiry, settlement)):
        return Rejection(RejectReason.EXPIRED, f"option expiring {expiry.isoformat()} has expired")
    start = cfg.scalp_start_et
    if now_et.time() < start:
        return Rejection(
            RejectReason.BEFORE_START, f"{now_et:%H:%M} ET is before scalp_start_time {start:%H:%M}"
        )
    if cfg.no_scalp_around_fomc and in_fomc_blackout(now, cfg.fomc_blackout_minutes):
        return Rejection(
            RejectReason.FOMC_BLACKOUT,
            f"{now_et:%Y-%m-%d %H:%M} ET is within {cfg.fomc_blackout_minutes} min of an FOMC statement",
        )
    checks: list[tuple[time | None, RejectReason, str]] = []
    if expiry is not None:
        if expiry == today:
            checks.append((cfg.zero_dte_cutoff_et, RejectReason.ZERO_DTE_CUTOFF, "0DTE cutoff"))
        else:
            checks.append((cfg.one_dte_cutoff_et, RejectReason.ONE_DTE_CUTOFF, "1DTE cutoff"))
    checks.append((cfg.session_exit_et, RejectReason.AFTER_SESSION_EXIT, "session exit time"))
    for cutoff, code, label in checks:
        if cutoff is None:
            continue
        at_utc = cutoff_utc(today, cutoff)
        if now >= at_utc:
            half = " (half day)" if is_half_day(today) else ""
            return Rejection(
                code, f"{now_et:%H:%M} ET is past the {label} {at_utc.astimezone(ET):%H:%M} ET{half}"
            )
    return None
