"""Closed scalps as columns (numpy arrays): what the success criteria and the execution cost compute on. Pure.

A backtest hands its ``ClosedScalp`` records (``ScalpColumns.of``), the dashboard the
frame it read from the journal (``ScalpColumns.from_frame``); both then run the same
array code in ``analyzers.criteria`` and ``analyzers.execution``: one pass per column,
not one Python call per scalp (100,000 scalps: ~400,000 time-zone conversions before).

Conventions: times are int64 nanoseconds since the epoch, UTC; a scalp's US/Eastern
entry date and hour come from ``eastern_wall_ns`` (the array form of
``options_scalper.eastern.to_eastern``, same ``ET`` zone, DST included). Unknown
metadata is NaN (``decision_ask``) or -1 (``depth_limited``). The arrays keep the order
of the records (or rows) they were read from; ``exit_order`` gives the streak order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from options_scalper.eastern import ET, NaiveDatetimeError
from options_scalper.records import ClosedScalp

DECISION_ASK_KEY = "decision_ask"  # metadata: the chosen contract's ask in the decision minute
DEPTH_LIMITED_KEY = "depth_limited"  # metadata: some fill was cut to the displayed size (bool)
NS_PER_DAY = 86_400 * 10**9
NS_PER_HOUR = 3_600 * 10**9
UNKNOWN_FLAG = -1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
# the frame columns ``ScalpColumns.from_frame`` reads
FRAME_COLUMNS = (
    "entry_time",
    "exit_time",
    "pnl",
    "pnl_pct",
    "entry_premium",
    "exit_premium",
    "exit_reason",
    "signal_id",
    "option_symbol",
    DECISION_ASK_KEY,
    DEPTH_LIMITED_KEY,
)


def finite_number(value: Any) -> float | None:
    """Return ``value`` as a float when it is a finite int or float (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def eastern_wall_ns(utc_ns: np.ndarray) -> np.ndarray:
    """Return US/Eastern wall-clock nanoseconds (int64) of UTC instants given as int64 nanoseconds."""
    utc = pd.DatetimeIndex(np.asarray(utc_ns, dtype=np.int64).view("datetime64[ns]"), tz=UTC)
    return np.asarray(utc.tz_convert(ET).tz_localize(None).asi8, dtype=np.int64)


def eastern_dates(utc_ns: np.ndarray) -> np.ndarray:
    """Return the US/Eastern calendar dates (``datetime64[D]``) of UTC instants in int64 nanoseconds."""
    return (eastern_wall_ns(utc_ns) // NS_PER_DAY).astype("datetime64[D]")


def eastern_hours(utc_ns: np.ndarray) -> np.ndarray:
    """Return the US/Eastern hours (0-23, int64) of UTC instants in int64 nanoseconds."""
    return (eastern_wall_ns(utc_ns) // NS_PER_HOUR) % 24


def as_date(day: np.datetime64) -> date:
    """A ``datetime64[D]`` value as a ``datetime.date``."""
    value = day.astype("datetime64[D]").item()
    if not isinstance(value, date):
        raise ValueError(f"{day!r} is not a calendar date")
    return value


def utc_datetime(ns: int) -> datetime:
    """An int64 nanosecond instant as an aware UTC ``datetime`` (microsecond precision, as ``ClosedScalp``)."""
    return EPOCH + timedelta(microseconds=int(ns) // 1000)


def _utc_ns(times: Iterable[datetime]) -> np.ndarray:
    out = []
    for t in times:
        if t.tzinfo is None or t.utcoffset() is None:
            raise NaiveDatetimeError(
                f"naive datetime {t.isoformat()} in a closed scalp: its times must be UTC"
            )
        out.append((t - EPOCH) // _ONE_US * 1000)
    return np.array(out, dtype=np.int64)


def _frame_ns(times: pd.Series) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(times).tz_convert(UTC).as_unit("ns").asi8, dtype=np.int64)


def _flag(value: Any) -> int:
    return int(value) if isinstance(value, bool | np.bool_) else UNKNOWN_FLAG


@dataclass(frozen=True, eq=False)
class ScalpColumns:
    """One array per field of the closed scalps, all of one length (see the module notes for units)."""

    entry_ns: np.ndarray  # int64, UTC
    exit_ns: np.ndarray  # int64, UTC
    pnl: np.ndarray  # float64 dollars, net of commission
    pnl_pct: np.ndarray  # float64 fraction of the dollars paid at entry
    entry_premium: np.ndarray  # float64 per share
    exit_premium: np.ndarray  # float64 per share
    exit_reason: np.ndarray  # object (str)
    signal_id: np.ndarray  # object (str)
    option_symbol: np.ndarray  # object (str)
    decision_ask: np.ndarray  # float64 per share; NaN: not recorded or not a finite number
    depth_limited: np.ndarray  # int8: 1 / 0, UNKNOWN_FLAG when not recorded as a bool
    entry_day: np.ndarray = field(init=False)  # datetime64[D]: US/Eastern date of the entry
    entry_hour: np.ndarray = field(init=False)  # int64: US/Eastern hour of the entry

    def __post_init__(self) -> None:
        n = len(self.entry_ns)
        lengths = {name: len(getattr(self, name)) for name in _ARRAYS}
        if set(lengths.values()) != {n}:
            raise ValueError(f"ScalpColumns: arrays of different lengths {lengths}")
        wall = eastern_wall_ns(self.entry_ns)
        object.__setattr__(self, "entry_day", (wall // NS_PER_DAY).astype("datetime64[D]"))
        object.__setattr__(self, "entry_hour", (wall // NS_PER_HOUR) % 24)

    def __len__(self) -> int:
        return len(self.entry_ns)

    @property
    def win(self) -> np.ndarray:
        """True where the scalp won (net P&L strictly positive, ``ClosedScalp.is_win``)."""
        return np.asarray(self.pnl > 0)

    def take(self, rows: np.ndarray) -> ScalpColumns:
        """The scalps selected by a boolean mask or an index array, in that order."""
        return ScalpColumns(**{name: getattr(self, name)[rows] for name in _ARRAYS})

    @classmethod
    def of(cls, trades: Iterable[ClosedScalp]) -> ScalpColumns:
        """The columns of ``ClosedScalp`` records (times must be timezone-aware)."""
        scalps = list(trades)

        def floats(name: str) -> np.ndarray:
            return np.array([getattr(t, name) for t in scalps], dtype=np.float64)

        def texts(name: str) -> np.ndarray:
            return _objects([getattr(t, name) for t in scalps])

        asks = [finite_number(t.metadata.get(DECISION_ASK_KEY)) for t in scalps]
        return cls(
            entry_ns=_utc_ns(t.entry_time for t in scalps),
            exit_ns=_utc_ns(t.exit_time for t in scalps),
            pnl=floats("pnl"),
            pnl_pct=floats("pnl_pct"),
            entry_premium=floats("entry_premium"),
            exit_premium=floats("exit_premium"),
            exit_reason=texts("exit_reason"),
            signal_id=texts("signal_id"),
            option_symbol=texts("option_symbol"),
            decision_ask=np.array([math.nan if a is None else a for a in asks], dtype=np.float64),
            depth_limited=np.array([_flag(t.metadata.get(DEPTH_LIMITED_KEY)) for t in scalps], dtype=np.int8),
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> ScalpColumns:
        """The columns of a frame with ``FRAME_COLUMNS`` (times tz-aware; ``decision_ask`` NaN when unknown,
        ``depth_limited`` of pandas' nullable ``boolean`` dtype, or objects: a bool, else unknown),
        e.g. ``dashboard.scalps.load_scalps``."""
        missing = [c for c in FRAME_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"ScalpColumns.from_frame: the frame has no column {', '.join(missing)}")

        def floats(name: str) -> np.ndarray:
            return frame[name].to_numpy(dtype=np.float64, na_value=np.nan)

        def texts(name: str) -> np.ndarray:
            return frame[name].to_numpy(dtype=object)

        flags = frame[DEPTH_LIMITED_KEY]
        if isinstance(flags.dtype, pd.BooleanDtype) or flags.dtype == np.bool_:  # no per-value check needed
            depth = flags.astype("Int8").fillna(UNKNOWN_FLAG).to_numpy(dtype=np.int8)
        else:
            depth = np.array([_flag(v) for v in flags.to_numpy(dtype=object)], dtype=np.int8)
        asks = floats(DECISION_ASK_KEY)
        return cls(
            entry_ns=_frame_ns(frame["entry_time"]),
            exit_ns=_frame_ns(frame["exit_time"]),
            pnl=floats("pnl"),
            pnl_pct=floats("pnl_pct"),
            entry_premium=floats("entry_premium"),
            exit_premium=floats("exit_premium"),
            exit_reason=texts("exit_reason"),
            signal_id=texts("signal_id"),
            option_symbol=texts("option_symbol"),
            decision_ask=np.where(np.isfinite(asks), asks, np.nan),
            depth_limited=depth,
        )


_ARRAYS = tuple(f.name for f in fields(ScalpColumns) if f.init)


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


Trades = ScalpColumns | Iterable[ClosedScalp]  # records, or their columns


def as_columns(trades: Trades) -> ScalpColumns:
    """``trades`` as columns (columns are returned as they are)."""
    return trades if isinstance(trades, ScalpColumns) else ScalpColumns.of(trades)


def exit_order(columns: ScalpColumns) -> np.ndarray:
    """Row indices in exit-time order, then entry time, ties in their given order (a stable sort)."""
    return np.lexsort((columns.entry_ns, columns.exit_ns))


def longest_run(flags: np.ndarray) -> int:
    """Return the length of the longest run of True in a boolean array (0 with none)."""
    if not flags.any():
        return 0
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def longest_losing_streak(columns: ScalpColumns) -> int:
    """Return the most consecutive losses (zero P&L counts) in exit-time order."""
    return longest_run(~columns.win[exit_order(columns)])


def total(values: np.ndarray) -> float:
    """The left-to-right sum of ``values`` (what ``sum()`` of the same floats gives, bit for bit)."""
    return float(sum(values.tolist()))


def mean(values: np.ndarray) -> float | None:
    """``total(values) / len(values)``; None when empty."""
    return total(values) / len(values) if len(values) else None
