"""The session-grid day walk every catalog feed shares, with bounded line buffers and a fast path.

Memory: ``keep_bars`` bounds every line buffer of a feed to its last
``keep_bars`` bars (Backtrader's own ``qbuffer`` ring buffers, as
``exactbars`` makes them), so a feed holds the same number of values after
1,000 days as after one. ``0`` keeps every bar (Backtrader's default, what
``cerebro.plot`` needs). Contract feeds keep ``CONTRACT_KEEP_BARS`` by default
(never plotted, read at ``[0]``); the clock and its macro view keep every bar
unless told otherwise. Reading further back than ``keep_bars`` raises
``IndexError`` (a plain Backtrader ring buffer would wrap round to a wrong bar).
Only feeds on the clock's grid can be bounded: Cerebro rewinds a feed whose next
bar is ahead of the others (the macro view, every minute between its edges),
which Backtrader's ring buffers cannot undo, so a bounded feed refuses a rewind.
"""

from __future__ import annotations

import collections
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import backtrader as bt
import numpy as np

from feeds.catalog.api import CatalogLike, open_catalog
from options_scalper.model import ScalperError

NS_PER_MINUTE = 60_000_000_000
CONTRACT_KEEP_BARS = 390  # a regular session of 1-minute bars
NAN = float("nan")
_EPOCH_NAIVE = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)


class FeedError(ScalperError):
    """A feed cannot be built from the given catalog, symbol or range."""


def as_date(value: date | datetime | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dataclass(frozen=True)
class DayGrid:
    """The bar-close stamps of one session: naive UTC ``datetime`` s, their ns and bt floats."""

    day: date
    stamps: tuple[datetime, ...]
    ns: np.ndarray  # int64, naive UTC nanoseconds
    nums: np.ndarray  # float64, Backtrader date numbers
    half_day: bool
    num_list: tuple[float, ...] = ()  # ``nums`` as Python floats (what the feeds append)
    open_utc: datetime | None = None  # aware UTC session open
    close_utc: datetime | None = None  # aware UTC session close (== last stamp)


@functools.lru_cache(maxsize=16)
def day_grid(day: date) -> DayGrid:
    """Return the session's minute grid: open + 1 min .. close (bar-close stamps, UTC)."""
    from options_scalper.calendar import is_half_day, session_open_close

    open_aware, close_aware = session_open_close(day)
    open_ = open_aware.astimezone(UTC).replace(tzinfo=None)
    close = close_aware.astimezone(UTC).replace(tzinfo=None)
    n = int((close - open_).total_seconds() // 60)
    stamps = tuple(open_ + timedelta(minutes=k) for k in range(1, n + 1))
    open_ns = ((open_ - _EPOCH_NAIVE) // _US) * 1000
    ns = open_ns + NS_PER_MINUTE * np.arange(1, n + 1, dtype=np.int64)
    num_list = tuple(bt.date2num(s) for s in stamps)  # Backtrader's own (fsum-exact) numbers
    return DayGrid(
        day=day,
        stamps=stamps,
        ns=ns,
        nums=np.array(num_list, dtype=np.float64),
        half_day=is_half_day(day),
        num_list=num_list,
        open_utc=open_.replace(tzinfo=UTC),
        close_utc=close.replace(tzinfo=UTC),
    )


def session_days(
    catalog: CatalogLike, symbol: str, fromdate: date | None, todate: date | None, warmup_days: int
) -> tuple[list[date], date | None]:
    """Return (catalog days to stream, first trading day): ``warmup_days`` sessions precede the range."""
    days: list[date] = sorted(d for d in (as_date(x) for x in catalog.days(symbol)) if d is not None)
    inside = [d for d in days if (fromdate is None or d >= fromdate) and (todate is None or d <= todate)]
    if not inside:
        return [], None
    first = days.index(inside[0])
    warm = days[max(0, first - max(0, int(warmup_days))) : first]
    return [*warm, *inside], inside[0]


class _Ring(collections.deque[Any]):
    """A ``QBuffer`` line's deque that refuses to wrap: a read before its oldest value raises.

    Backtrader reads ``array[idx + ago]``; once the deque is full a negative index
    means a bar it no longer holds, which a plain deque would answer from the far end.
    """

    __slots__ = ("owner",)
    owner: str

    def __getitem__(self, i: Any, _get: Any = collections.deque.__getitem__) -> Any:
        if i < 0 and len(self) == self.maxlen:
            raise IndexError(
                f"{self.owner}: read before the last {self.maxlen} bars it keeps; "
                "pass a larger keep_bars (0 keeps every bar)"
            )
        return _get(self, i)


def bound_line_buffers(feed: Any, keep: int, owner: str) -> None:
    """Make every line of ``feed`` a ring buffer of ``keep`` values (before its first bar is loaded).

    Backtrader's ``LineBuffer.qbuffer`` + ``minbuffer``, exactly what ``exactbars`` does to
    a data feed; a buffer that Backtrader has already bounded keeps the larger size, and a
    feed with look-ahead room (``cerebro.run(lookahead=...)``) is left unbounded. ``keep``
    0 keeps every bar. Shared by the catalog feeds and the live feeds.
    """
    if keep < 0:
        raise FeedError(f"{type(feed).__name__}: keep_bars={keep}; pass a bar count >= 1, or 0 to keep all")
    lines = feed.lines.lines
    if not keep or any(line.extension for line in lines):
        return
    for line in lines:
        if line.mode != line.QBuffer:
            line.qbuffer(savemem=1)
        line.minbuffer(keep)
        ring = _Ring(line.array, maxlen=line.array.maxlen)
        ring.owner = owner
        line.array = ring
        # LineBuffer.reset() leaves a QBuffer's index where a previous run stopped (its
        # set_idx ignores moves once the index reached lenmark): start the run at -1
        line._idx = -1


class _GridFeed(bt.feed.DataBase):
    """Shared day-by-day walk over the session grid (used by the clock and the contract feeds).

    Subclasses implement ``_begin_day(grid)`` and ``_bar(i, grid)``, which
    returns the values of ``VALUE_LINES`` (every line but ``datetime``) for
    bar ``i`` of the day.
    """

    VALUE_LINES: tuple[str, ...] = ("open", "high", "low", "close", "volume", "openinterest")

    params = (
        ("symbol", ""),
        ("warmup_days", 0),
        ("timeframe", bt.TimeFrame.Minutes),
        ("compression", 1),
        ("keep_bars", CONTRACT_KEEP_BARS),  # bars each line keeps; 0 = all (see the module notes)
    )

    def __init__(self) -> None:
        super().__init__()
        # The feed filters by session itself so that warmup sessions before
        # ``fromdate`` reach the indicators; Backtrader's own fromdate/todate
        # filter would drop them, so the params are moved here and cleared.
        self.range_from: date | None = as_date(self.p.fromdate)
        self.range_to: date | None = as_date(self.p.todate)
        self.p.fromdate = None
        self.p.todate = None
        self.catalog: CatalogLike | None = None
        self.trading_start: date | None = None
        self._days: list[date] = []
        self._day_i = -1
        self._grid: DayGrid | None = None
        self._nums: Sequence[float] = ()
        self._n = 0
        self._i = 0
        self._append: tuple[Any, ...] | None = None  # line buffers of the fast path, in append order
        self._fast: bool | None = None
        self._bounded = False  # the fast path's buffers are Backtrader QBuffer ring buffers
        self.trading_start_num = float("inf")
        self._line0: Any = None  # the buffer ``len(self)`` / ``buflen()`` read (fast path only)
        self._loaded: Sequence[float] = ()  # values of the last bar the fast path appended ...
        self._loaded_len = -1  # ... and the feed's length once they were

    @property
    def symbol(self) -> str:
        return str(self.p.symbol or self.p.name or "")

    def start(self) -> None:
        super().start()
        if not self.symbol:
            raise FeedError(f"{type(self).__name__}: pass symbol='SPY' (the underlying)")
        self.catalog = open_catalog(self.p.dataname)
        self._days, self.trading_start = session_days(
            self.catalog, self.symbol, self.range_from, self.range_to, self.p.warmup_days
        )
        self._day_i = -1
        self._grid = None
        self._n = 0
        self._i = 0
        self._fast = None
        self._append = None
        self._line0 = None
        self._loaded_len = -1
        self._bound_buffers()
        # Backtrader number of the first trading bar (+inf without trading days); earlier bars are warmup
        self.trading_start_num = (
            float("inf") if self.trading_start is None else float(day_grid(self.trading_start).num_list[0])
        )

    def _bound_buffers(self) -> None:
        """Make every line a ring buffer of ``keep_bars`` values (``bound_line_buffers``)."""
        bound_line_buffers(
            self, int(self.p.keep_bars or 0), f"{self._name or self.symbol} ({type(self).__name__})"
        )

    def rewind(self, size: int = 1) -> None:
        if self.lines.lines[0].mode == bt.linebuffer.LineBuffer.QBuffer and self._keeps_bars():
            raise FeedError(
                f"{self._name or self.symbol}: Cerebro rewound a feed with keep_bars={self.p.keep_bars} "
                "(its bars are ahead of the clock's); bound only feeds on the clock's grid (keep_bars=0 here)"
            )
        super().rewind(size)

    def _keeps_bars(self) -> bool:
        return isinstance(self.lines.lines[0].array, _Ring)

    @property
    def days(self) -> Sequence[date]:
        return tuple(self._days)

    @property
    def current_day(self) -> date | None:
        return None if self._grid is None else self._grid.day

    def in_warmup(self) -> bool:
        """True while the current bar belongs to a warmup session (before ``fromdate``)."""
        return bool(not len(self) or self.datetime[0] < self.trading_start_num)

    def _next_day(self) -> DayGrid | None:
        """Advance to the next session with bars; None when the range is done."""
        while self._grid is None or self._i >= self._n:
            self._day_i += 1
            if self._day_i >= len(self._days):
                self._grid = None
                self._n = 0
                return None
            self._grid = day_grid(self._days[self._day_i])
            self._nums = self._grid.num_list
            self._n = len(self._nums)
            self._i = 0
            self._begin_day(self._grid)  # may regroup the day: sets _nums and _n
        return self._grid

    def _load(self) -> bool:
        grid = self._next_day()
        if grid is None:
            return False
        i = self._i
        ln: Any = self.lines
        ln.datetime[0] = self._nums[i]
        for name, value in zip(self.VALUE_LINES, self._bar(i, grid), strict=True):
            getattr(ln, name)[0] = value
        self._i = i + 1
        return True

    # ------------------------------------------------------------------ fast path
    def _fast_ok(self) -> bool:
        """True when appending to the buffers is exactly what ``DataBase.load`` would do."""
        names = ("datetime", *self.VALUE_LINES)
        if sorted(names) != sorted(self.getlinealiases()) or len(set(names)) != len(names):
            return False
        if self._filters or self._ffilters or self._tzinput or self._barstack or self._barstash:
            return False
        if not (math.isinf(self.fromdate) and math.isinf(self.todate)):
            return False
        alias0 = self._getlinealias(0)
        if alias0 not in self.VALUE_LINES:
            return False
        buffers = tuple(getattr(self.lines, n) for n in names)
        modes = {b.mode for b in buffers}
        for b in buffers:
            if type(b) is not bt.linebuffer.LineBuffer or len(modes) != 1 or b.bindings or b.extension:
                return False
            if b.mode == b.QBuffer and (b.extrasize or b.lenmark != b.maxlen - 1):
                return False
        self._bounded = modes == {bt.linebuffer.LineBuffer.QBuffer}
        self._append = buffers
        self._tick_names = tuple("tick_" + n for n in self.VALUE_LINES)
        self._tick0 = "tick_" + alias0
        self._tick_last_pos = self.VALUE_LINES.index(alias0)
        self._line0 = self.lines.lines[0]
        return True

    def next(self, datamaster: Any = None, ticks: bool = True) -> bool:
        # DataBase.next for Cerebro's plain call (no master, no ticks) without the line lookups
        line0 = self._line0
        if line0 is None or datamaster is not None or ticks:
            return bool(super().next(datamaster=datamaster, ticks=ticks))
        if line0.lencount >= len(line0.array) - line0.extension:  # len(self) >= self.buflen()
            return self.load()
        self.advance(ticks=False)
        return True

    def load(self) -> bool:
        fast = self._fast
        if fast is None:  # decided on the first bar: strategies have bound their lines by then
            fast = self._fast = self._fast_ok()
        if not fast or self._barstack or self._barstash:
            return bool(super().load())
        i = self._i
        if i >= self._n:
            grid = self._next_day()
            if grid is None:
                return False
            i = self._i
        else:
            grid = self._grid
        values = self._bar(i, grid)  # type: ignore[arg-type]
        buffers = self._append
        assert buffers is not None
        dt_buf = buffers[0]
        if self._bounded:
            # LineBuffer.forward + __setitem__ in QBuffer mode: the deque drops its oldest value;
            # the index stops at ``lenmark`` (set_idx), so [0] stays the newest value
            for b, v in zip(buffers, (self._nums[i], *values), strict=True):
                b.array.append(v)
                if b._idx < b.lenmark:
                    b._idx += 1
                b.lencount += 1
        else:
            dt_buf.array.append(self._nums[i])
            dt_buf._idx += 1
            dt_buf.lencount += 1
            for b, v in zip(buffers[1:], values, strict=True):
                b.array.append(v)
                b._idx += 1
                b.lencount += 1
        self._loaded = values
        self._loaded_len = dt_buf.lencount
        self._i = i + 1
        return True

    def _tick_fill(self, force: bool = False) -> None:
        # DataBase._tick_fill without the per-alias string building and line lookups; the bar
        # just appended is filled from its values (the buffers hold exactly those)
        buffers = self._append
        if buffers is None:
            super()._tick_fill(force)
            return
        if force or getattr(self, self._tick0, None) is None:
            if buffers[0].lencount == self._loaded_len:
                values = self._loaded
            else:
                values = tuple(b.array[b._idx] for b in buffers[1:])
            attrs = self.__dict__
            attrs.update(zip(self._tick_names, values, strict=True))
            attrs["tick_last"] = values[self._tick_last_pos]

    def _begin_day(self, grid: DayGrid) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _bar(self, i: int, grid: DayGrid) -> Sequence[float]:  # pragma: no cover - overridden
        raise NotImplementedError
