"""Backtrader feeds over the catalog: the underlying's 1-minute clock.

Time convention (see DESIGN.md sec. 3 "Alignment")
    Every bar is stamped at its CLOSE: the catalog bar that starts at 09:30 ET
    becomes the Backtrader bar stamped 09:31 ET, the same instant as the quote
    row with ``ts`` 09:31. A decision taken in ``next()`` on the bar stamped t
    sees quotes up to t; an order placed then fills at the quotes of the bar
    stamped t + 1 minute.

    Datetimes are UTC-naive floats, which is what Backtrader uses internally.
    ``tz`` and ``tzinput`` are deliberately left ``None``: the input already is
    UTC (no per-bar localisation cost) and ``data.datetime.datetime()`` returns
    naive UTC. Strategies convert with ``options_scalper.calendar`` (or
    :func:`bar_time_utc` + ``astimezone``) for US/Eastern decisions.

The clock is one bar per regular-session minute of every catalog day in
range (``warmup_days`` earlier sessions first, for the slowest indicator).
Minutes without a trade bar become a flat bar at the previous close with
volume 0 and are counted in ``filled_bars``. Only one day of bars is held in
memory: ``_load()`` reads the next day when the current one is used up.
The 10-minute macro view is ``cerebro.resampledata(data0, timeframe=Minutes,
compression=10)``: with close stamps a 10-minute bar closes exactly on the
edge (09:40, 09:50, ...), the way Backtrader's resampler expects.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import backtrader as bt
import numpy as np
import pandas as pd

from options_scalper.model import ScalperError

NS_PER_MINUTE = 60_000_000_000


class FeedError(ScalperError):
    """A feed cannot be built from the given catalog, symbol or range."""


class CatalogLike(Protocol):
    """The part of ``feeds.catalog.Catalog`` the Backtrader side reads."""

    def days(self, symbol: str) -> list[date]: ...

    def read_bars(self, symbol: str, day: date) -> pd.DataFrame | None: ...

    def read_quotes(self, symbol: str, day: date) -> pd.DataFrame: ...

    def read_open_interest(self, symbol: str, day: date) -> pd.DataFrame | None: ...

    def day_summary(self, symbol: str) -> pd.DataFrame: ...


def open_catalog(dataname: Any) -> CatalogLike:
    """Return a catalog: ``dataname`` is a catalog root (str / Path) or a catalog object."""
    if isinstance(dataname, str | Path):
        from feeds.catalog import Catalog

        return Catalog(Path(dataname))  # type: ignore[no-any-return,unused-ignore]
    if dataname is None:
        raise FeedError("no catalog given: pass dataname=<catalog root folder>")
    return dataname  # type: ignore[no-any-return,unused-ignore]


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


@functools.lru_cache(maxsize=8)
def day_grid(day: date) -> DayGrid:
    """Return the session's minute grid: open + 1 min .. close (bar-close stamps, UTC)."""
    from options_scalper.calendar import is_half_day, session_open_close

    open_aware, close_aware = session_open_close(day)
    open_ = open_aware.astimezone(UTC).replace(tzinfo=None)
    close = close_aware.astimezone(UTC).replace(tzinfo=None)
    n = int((close - open_).total_seconds() // 60)
    stamps = tuple(open_ + timedelta(minutes=k) for k in range(1, n + 1))
    ns = np.array([int(pd.Timestamp(s).value) for s in stamps], dtype=np.int64)
    nums = np.array([bt.date2num(s) for s in stamps], dtype=np.float64)
    return DayGrid(day=day, stamps=stamps, ns=ns, nums=nums, half_day=is_half_day(day))


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


def bar_time_utc(data: Any, ago: int = 0) -> datetime:
    """Return the bar's stamp (its close) as an aware UTC datetime."""
    return bt.num2date(data.datetime[-ago] if ago else data.datetime[0]).replace(tzinfo=UTC)


class _GridFeed(bt.feed.DataBase):
    """Shared day-by-day walk over the session grid (used by the clock and the contract feeds)."""

    params = (
        ("symbol", ""),
        ("warmup_days", 0),
        ("timeframe", bt.TimeFrame.Minutes),
        ("compression", 1),
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
        self._i = 0

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
        self._i = 0
        self._trading_start_num = (
            float("inf") if self.trading_start is None else day_grid(self.trading_start).nums[0]
        )

    @property
    def days(self) -> Sequence[date]:
        return tuple(self._days)

    @property
    def current_day(self) -> date | None:
        return None if self._grid is None else self._grid.day

    def in_warmup(self) -> bool:
        """True while the current bar belongs to a warmup session (before ``fromdate``)."""
        return bool(not len(self) or self.datetime[0] < self._trading_start_num)

    def _load(self) -> bool:
        while self._grid is None or self._i >= len(self._grid.stamps):
            self._day_i += 1
            if self._day_i >= len(self._days):
                self._grid = None
                return False
            self._grid = day_grid(self._days[self._day_i])
            self._i = 0
            self._begin_day(self._grid)
        self.lines.datetime[0] = self._grid.nums[self._i]
        self._fill_bar(self._i, self._grid)
        self._i += 1
        return True

    def _begin_day(self, grid: DayGrid) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _fill_bar(self, i: int, grid: DayGrid) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class UnderlyingFeed(_GridFeed):
    """The clock: one OHLCV bar per session minute, stamped at the bar's close (UTC-naive).

    ``dataname`` is the catalog root (or a catalog object), ``symbol`` the
    underlying, ``fromdate``/``todate`` the trading range (dates), and
    ``warmup_days`` the sessions streamed before ``fromdate``. ``filled_bars``
    counts flat bars inserted for minutes without a trade bar;
    ``dropped_bars`` counts source bars off the session grid.
    """

    def start(self) -> None:
        super().start()
        self.filled_bars = 0
        self.dropped_bars = 0
        self._last_close = float("nan")
        self._ohlcv: np.ndarray = np.empty((0, 5))

    def _begin_day(self, grid: DayGrid) -> None:
        assert self.catalog is not None
        bars = self.catalog.read_bars(self.symbol, grid.day)
        n = len(grid.ns)
        out = np.full((n, 5), np.nan)
        have = np.zeros(n, dtype=bool)
        if bars is not None and len(bars):
            ts = pd.to_datetime(bars["ts"], utc=True)
            close_ns = ts.dt.tz_localize(None).to_numpy("datetime64[ns]").astype(np.int64) + NS_PER_MINUTE
            order = np.argsort(close_ns, kind="stable")
            close_ns = close_ns[order]
            values = bars[["open", "high", "low", "close", "volume"]].to_numpy(np.float64)[order]
            idx = np.searchsorted(grid.ns, close_ns)
            on_grid = (idx < n) & (grid.ns[np.minimum(idx, n - 1)] == close_ns)
            self.dropped_bars += int((~on_grid).sum())
            out[idx[on_grid]] = values[on_grid]
            have[idx[on_grid]] = True
        # Flat bars at the previous close for minutes without a trade bar.
        prev = self._last_close
        if np.isnan(prev) and have.any():
            prev = out[np.argmax(have), 0]  # very first day: open of the first real bar
        pos = np.where(have, np.arange(n), -1)
        np.maximum.accumulate(pos, out=pos)
        prev_close = np.where(pos >= 0, out[np.maximum(pos, 0), 3], prev)
        # a gap's flat price is the close of the latest real bar before it
        carry = np.r_[prev, prev_close[:-1]]
        gaps = ~have
        for col in range(4):
            out[gaps, col] = carry[gaps]
        out[gaps, 4] = 0.0
        self.filled_bars += int(gaps.sum())
        if n:
            self._last_close = float(out[-1, 3])
        self._ohlcv = out

    def _fill_bar(self, i: int, grid: DayGrid) -> None:
        o, h, lo, c, v = self._ohlcv[i]
        ln: Any = self.lines
        ln.open[0] = o
        ln.high[0] = h
        ln.low[0] = lo
        ln.close[0] = c
        ln.volume[0] = v
        ln.openinterest[0] = 0.0
