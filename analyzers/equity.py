"""Equity curve, drawdown and end-of-day equity, accumulated bar by bar: pure.

``EquityTracker.update`` takes one bar's UTC time, account value and cash;
``as_dict`` returns the JSON-friendly analysis that ``EquityCurve`` reports:

- ``bars``: column lists ``datetime`` (ISO-8601 UTC), ``value``, ``cash``,
  ``drawdown`` ($ below the running peak) and ``drawdown_pct`` (fraction of it);
- ``daily``: one row per US/Eastern session date: ``date``, ``equity`` (the last
  bar's value), ``pnl`` (change from the previous session's end, or from the
  initial value) and ``return_pct``;
- ``max_drawdown`` ($), ``max_drawdown_pct`` and when each was reached,
  ``initial_value``, ``end_value``, ``peak_value``, ``total_return_pct``.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

EASTERN = ZoneInfo("America/New_York")


def as_utc(ts: datetime) -> datetime:
    """Return ``ts`` as an aware UTC datetime; a naive ``ts`` is taken to be UTC already."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


class SessionDayOf:
    """US/Eastern date of an aware UTC time; the last day's UTC bounds are kept, so a bar costs two compares."""

    def __init__(self) -> None:
        self._window: tuple[datetime, datetime, date] | None = None  # UTC [start, end) of an ET date

    def __call__(self, ts: datetime) -> date:
        window = self._window
        if window is not None and window[0] <= ts < window[1]:
            return window[2]
        day = ts.astimezone(EASTERN).date()
        start = datetime.combine(day, time(0), tzinfo=EASTERN).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=EASTERN).astimezone(UTC)
        self._window = (start, end, day)
        return day


class DailyEquity:
    """End-of-day account value per US/Eastern session date, nothing per bar: ``EquityTracker.daily``
    without the curve and drawdown (what the success criteria read)."""

    def __init__(self, initial_value: float) -> None:
        self.initial_value = float(initial_value)
        self.daily: dict[date, float] = {}
        self._session_day = SessionDayOf()

    def update(self, ts: datetime, value: float) -> None:
        """Record the account value at the close of the bar stamped ``ts`` (UTC)."""
        if ts.tzinfo is not UTC:
            ts = as_utc(ts)
        self.daily[self._session_day(ts)] = float(value)


def _same(a: float, b: float) -> bool:
    """Bit-level equality of two floats that keeps -0.0 apart from 0.0 and NaN equal to NaN."""
    if a == b:
        return a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b)
    return a != a and b != b


class RunColumn:
    """A float column stored as runs of equal values, (value, count): a flat account costs nothing a bar.

    ``tolist()`` gives back every appended value, bit for bit; ``pop()`` drops the last one.
    """

    __slots__ = ("counts", "n", "values")

    def __init__(self) -> None:
        self.values: array[float] = array("d")
        self.counts: array[int] = array("q")
        self.n = 0

    def append(self, value: float) -> None:
        if self.values and _same(self.values[-1], value):
            self.counts[-1] += 1
        else:
            self.values.append(value)
            self.counts.append(1)
        self.n += 1

    def pop(self) -> None:
        if self.counts[-1] > 1:
            self.counts[-1] -= 1
        else:
            self.values.pop()
            self.counts.pop()
        self.n -= 1

    def __len__(self) -> int:
        return self.n

    def stored_values(self) -> int:
        return 2 * len(self.values)

    def tolist(self, jsonable: bool = False) -> list[float | None]:
        """Every value; with ``jsonable`` a non-finite one is ``None`` (what ``to_jsonable`` makes of it)."""
        out: list[float | None] = []
        for value, count in zip(self.values, self.counts, strict=True):
            out.extend([None if jsonable and not math.isfinite(value) else value] * count)
        return out


class StepColumn:
    """A float column stored as arithmetic runs (first, step, count): evenly spaced bar times cost nothing a bar.

    Element ``k >= 1`` of a run is ``first + step * k``; a value joins the run only when that
    expression gives it back bit for bit, so ``tolist()`` returns every appended value exactly.
    """

    __slots__ = ("counts", "firsts", "n", "steps")

    def __init__(self) -> None:
        self.firsts: array[float] = array("d")
        self.steps: array[float] = array("d")
        self.counts: array[int] = array("q")
        self.n = 0

    def append(self, value: float) -> None:
        self.n += 1
        if self.counts:
            first, count = self.firsts[-1], self.counts[-1]
            if count == 1:
                step = value - first
                if _same(first + step * 1, value):
                    self.steps[-1] = step
                    self.counts[-1] = 2
                    return
            elif _same(first + self.steps[-1] * count, value):
                self.counts[-1] = count + 1
                return
        self.firsts.append(value)
        self.steps.append(0.0)
        self.counts.append(1)

    def pop(self) -> None:
        if self.counts[-1] > 1:
            self.counts[-1] -= 1
        else:
            self.firsts.pop()
            self.steps.pop()
            self.counts.pop()
        self.n -= 1

    def __len__(self) -> int:
        return self.n

    def stored_values(self) -> int:
        return 3 * len(self.firsts)

    def tolist(self) -> list[float]:
        out: list[float] = []
        for first, step, count in zip(self.firsts, self.steps, self.counts, strict=True):
            out.append(first)  # not first + step * 0: an infinite step would make it NaN
            out.extend([first + step * k for k in range(1, count)])
        return out


class EquityTracker:
    """Accumulate an account's value bar by bar."""

    def __init__(self, initial_value: float, keep_bars: bool = True) -> None:
        self.initial_value = float(initial_value)
        self.keep_bars = keep_bars
        # Per-bar columns stored as runs (the time as UTC epoch seconds, evenly spaced within a
        # session; value, cash and drawdown constant while flat): a run's memory grows with the
        # account's changes, not with its bars. ISO strings and lists are made in as_dict().
        self.bars: dict[str, RunColumn | StepColumn] = {
            "epoch": StepColumn(),
            **{k: RunColumn() for k in ("value", "cash", "drawdown", "drawdown_pct")},
        }
        self.daily: dict[date, float] = {}
        self.peak = self.initial_value
        self.end_value = self.initial_value
        self.max_drawdown = 0.0
        self.max_drawdown_pct = 0.0
        self.max_drawdown_time: str | None = None
        self.max_drawdown_pct_time: str | None = None
        self._last_ts: datetime | None = None
        self._session_day = SessionDayOf()

    def update(self, ts: datetime, value: float, cash: float) -> None:
        """Record the account at the close of the bar stamped ``ts`` (UTC)."""
        if ts.tzinfo is not UTC:
            ts = as_utc(ts)
        value, cash = float(value), float(cash)
        keep = self.keep_bars
        if keep and self._last_ts == ts:  # same instant seen twice: keep the latest
            for col in self.bars.values():
                col.pop()
        self._last_ts = ts
        peak = self.peak
        if value > peak:
            peak = self.peak = value
        drawdown = peak - value
        drawdown_pct = drawdown / peak if peak > 0 else 0.0
        if drawdown > self.max_drawdown:
            self.max_drawdown, self.max_drawdown_time = drawdown, ts.isoformat()
        if drawdown_pct > self.max_drawdown_pct:
            self.max_drawdown_pct, self.max_drawdown_pct_time = drawdown_pct, ts.isoformat()
        if keep:
            bars = self.bars
            bars["epoch"].append(ts.timestamp())
            bars["value"].append(value)
            bars["cash"].append(cash)
            bars["drawdown"].append(drawdown)
            bars["drawdown_pct"].append(drawdown_pct)
        self.daily[self._session_day(ts)] = value
        self.end_value = value

    def stored_values(self) -> int:
        """Numbers held for the per-bar columns (2 or 3 per run): what grows with the run's changes."""
        return sum(col.stored_values() for col in self.bars.values())

    def daily_rows(self) -> list[dict[str, Any]]:
        rows = []
        previous = self.initial_value
        for day in sorted(self.daily):
            equity = self.daily[day]
            rows.append(
                {
                    "date": day.isoformat(),
                    "equity": equity,
                    "pnl": equity - previous,
                    "return_pct": equity / previous - 1.0 if previous > 0 else None,
                }
            )
            previous = equity
        return rows

    def as_dict(self, jsonable_bars: bool = False, lazy_bars: bool = False) -> dict[str, Any]:
        """Return the analysis described in the module notes (plain values only).

        ``jsonable_bars``: the per-bar columns hold ``None`` for non-finite values, as
        ``to_jsonable`` would make them, so that a caller need not copy the longest lists.
        ``lazy_bars``: ``bars`` is a ``BarColumns`` (the same lists, made when read).
        """
        return {
            "initial_value": self.initial_value,
            "end_value": self.end_value,
            "peak_value": self.peak,
            "total_return_pct": self.end_value / self.initial_value - 1.0 if self.initial_value > 0 else None,
            "max_drawdown": self.max_drawdown,
            "max_drawdown_pct": self.max_drawdown_pct,
            "max_drawdown_time": self.max_drawdown_time,
            "max_drawdown_pct_time": self.max_drawdown_pct_time,
            "bars": self.bar_columns(jsonable_bars) if lazy_bars else self._bars_columns(jsonable_bars),
            "daily": self.daily_rows(),
        }

    def _bars_columns(self, jsonable: bool) -> dict[str, list[Any]]:
        return dict(self.bar_columns(jsonable))

    def bar_columns(self, jsonable: bool = False) -> BarColumns:
        """The per-bar columns, made when read (``BarColumns``): nothing is copied per bar here."""
        return BarColumns(self.bars, jsonable)


class BarColumns(Mapping[str, list[Any]]):
    """An ``EquityTracker``'s per-bar columns, each list made only when it is read.

    Keys ``datetime`` (ISO-8601 UTC), ``value``, ``cash``, ``drawdown``, ``drawdown_pct``;
    with ``jsonable`` a non-finite value reads ``None``. ``arrays()`` gives the same columns
    as numpy float arrays (the times as epoch seconds, non-finite values kept), which is
    what a chart of a long run reads without a Python object per bar.
    """

    KEYS = ("datetime", "value", "cash", "drawdown", "drawdown_pct")

    def __init__(self, columns: Mapping[str, RunColumn | StepColumn], jsonable: bool) -> None:
        self._columns = dict(columns)
        self._jsonable = jsonable

    def __getitem__(self, key: str) -> list[Any]:
        if key == "datetime":
            epoch = self._columns["epoch"]
            assert isinstance(epoch, StepColumn)
            return [datetime.fromtimestamp(t, UTC).isoformat() for t in epoch.tolist()]
        if key not in self.KEYS:
            raise KeyError(key)
        col = self._columns[key]
        assert isinstance(col, RunColumn)
        return col.tolist(self._jsonable)

    def __iter__(self) -> Iterator[str]:
        return iter(self.KEYS)

    def __len__(self) -> int:
        return len(self.KEYS)

    def __eq__(self, other: object) -> bool:
        return dict(self) == other if isinstance(other, Mapping) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def arrays(self) -> dict[str, np.ndarray]:
        """``epoch`` (UTC seconds) and the four value columns as float64 arrays, bit for bit the lists."""
        epoch = self._columns["epoch"]
        assert isinstance(epoch, StepColumn)
        counts = np.frombuffer(epoch.counts, dtype=np.int64)
        firsts = np.repeat(np.frombuffer(epoch.firsts, dtype=np.float64), counts)
        steps = np.repeat(np.frombuffer(epoch.steps, dtype=np.float64), counts)
        k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)  # index in its run
        out = {"epoch": np.where(k == 0, firsts, firsts + steps * k)}  # first itself, as tolist() gives it
        for key in self.KEYS[1:]:
            col = self._columns[key]
            assert isinstance(col, RunColumn)
            n = np.frombuffer(col.counts, dtype=np.int64)
            vals = np.frombuffer(col.values, dtype=np.float64)
            out[key] = np.repeat(vals, n)
        return out


def daily_equity_map(equity_analysis: Mapping[str, Any]) -> dict[date, float]:
    """Return session date -> end-of-day equity from an ``EquityTracker.as_dict`` result."""
    return {date.fromisoformat(r["date"]): float(r["equity"]) for r in equity_analysis.get("daily", [])}
