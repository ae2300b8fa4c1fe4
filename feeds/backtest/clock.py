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
    naive UTC. Strategies convert with ``strategies.bartime.BarTimes`` and
    ``options_scalper.calendar`` for US/Eastern decisions.

The clock is one bar per regular-session minute of every catalog day in
range (``warmup_days`` earlier sessions first, for the slowest indicator).
Minutes without a trade bar become a flat bar at the previous close with
volume 0 and are counted in ``filled_bars``. Volume NaN means unknown: a
session none of whose bars has a volume (an underlying derived from put-call
parity) keeps NaN on every bar, filled minutes included, so that volume rules
can tell "no data" (NaN, skipped) from "no trades" (0). Only one day of bars is held in
memory: ``_load()`` reads the next day when the current one is used up.
The 10-minute macro view is ``cerebro.resampledata(data0, timeframe=Minutes,
compression=10)``: with close stamps a 10-minute bar closes exactly on the
edge (09:40, 09:50, ...), the way Backtrader's resampler expects.

The day walk, the bounded line buffers (``keep_bars``) and the fast path into
Backtrader's buffers live in ``feeds.backtest.gridfeed``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from feeds.backtest.gapfill import fill_session
from feeds.backtest.gridfeed import (
    CONTRACT_KEEP_BARS,
    NAN,
    NS_PER_MINUTE,
    DayGrid,
    FeedError,
    _GridFeed,
    as_date,
    day_grid,
    session_days,
)
from feeds.catalog.api import open_catalog
from feeds.catalog.chain import ChainProvider

__all__ = [
    "CONTRACT_KEEP_BARS",
    "NS_PER_MINUTE",
    "DayGrid",
    "FeedError",
    "MacroFeed",
    "UnderlyingFeed",
    "as_date",
    "day_grid",
    "session_days",
]


class _MinuteBarsFeed(_GridFeed):
    """The underlying's 1-minute bars of each session, gaps filled (shared by the clock and its macro view).

    ``keep_bars`` defaults to 0 (every bar): these feeds are what ``cerebro.plot`` draws.
    """

    params: Any = (("keep_bars", 0),)

    def start(self) -> None:
        super().start()
        self.filled_bars = 0
        self.dropped_bars = 0
        self._last_close = float("nan")
        self._ohlcv: np.ndarray = np.empty((0, 5))
        self._rows: list[tuple[float, ...]] = []

    def _begin_day(self, grid: DayGrid) -> None:
        assert self.catalog is not None
        loaded = self._read_day_bars(grid.day)
        start_ns, values = loaded if loaded is not None else (None, None)
        filled = fill_session(grid.ns, start_ns, values, self._last_close)
        self.dropped_bars += filled.dropped
        self.filled_bars += int(filled.gaps.sum())
        out = filled.ohlcv
        if len(out):
            self._last_close = filled.last_close
        self._ohlcv = out
        # (open, high, low, close, volume, openinterest) as Python floats, in VALUE_LINES order
        self._rows = [(*row, 0.0) for row in out.tolist()]

    def _bar(self, i: int, grid: DayGrid) -> Sequence[float]:
        return self._rows[i]

    def _read_day_bars(self, day: date) -> tuple[np.ndarray, np.ndarray] | None:
        """The day's bar starts (int64 UTC ns) and (n, 5) float64 OHLCV values; None without bars."""
        assert self.catalog is not None
        read_arrow = getattr(self.catalog, "read_bars_arrow", None)  # feeds.catalog.Catalog has it
        if read_arrow is not None:
            loaded = _arrow_bars(read_arrow(self.symbol, day))
            if loaded is not None:
                return loaded
        bars = self.catalog.read_bars(self.symbol, day)
        if bars is None or not len(bars):
            return None
        ts = pd.to_datetime(bars["ts"], utc=True)
        start_ns = ts.dt.tz_localize(None).to_numpy("datetime64[ns]").astype(np.int64)
        return start_ns, bars[list(_OHLCV)].to_numpy(np.float64)


_OHLCV = ("open", "high", "low", "close", "volume")


def _arrow_bars(table: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``_read_day_bars`` from an Arrow table; None (take the pandas path) unless it is the catalog's shape."""
    import pyarrow as pa

    if table is None or not table.num_rows or not {"ts", *_OHLCV} <= set(table.column_names):
        return None
    ts_col = table.column("ts")
    if not pa.types.is_timestamp(ts_col.type) or ts_col.null_count:
        return None
    # UTC instants as int64 ns, whatever the unit or zone (a naive ts is UTC, as pd.to_datetime(utc=True))
    start_ns = ts_col.cast(pa.timestamp("ns", tz=ts_col.type.tz)).cast(pa.int64()).to_numpy()
    values = np.empty((table.num_rows, len(_OHLCV)), dtype=np.float64)
    for k, name in enumerate(_OHLCV):
        values[:, k] = table.column(name).cast(pa.float64()).to_numpy()
    return np.asarray(start_ns, dtype=np.int64), values


class UnderlyingFeed(_MinuteBarsFeed):
    """The clock: one OHLCV bar per session minute, stamped at the bar's close (UTC-naive).

    ``dataname`` is the catalog root (or a catalog object), ``symbol`` the
    underlying, ``fromdate``/``todate`` the trading range (dates), and
    ``warmup_days`` the sessions streamed before ``fromdate``. ``filled_bars``
    counts flat bars inserted for minutes without a trade bar;
    ``dropped_bars`` counts source bars off the session grid. ``chain`` is the
    underlying's option chain over the same catalog (the ``ClockFeed`` port of
    ``options_scalper.ports``), made on first use.
    """

    def __init__(self) -> None:
        super().__init__()
        self._chain: ChainProvider | None = None

    @property
    def chain(self) -> ChainProvider:
        """The underlying's ``ChainProvider`` over this feed's catalog (one day of quotes in memory)."""
        if self._chain is None:
            catalog = self.catalog if self.catalog is not None else open_catalog(self.p.dataname)
            self._chain = ChainProvider(catalog, self.symbol)
        return self._chain


class MacroFeed(_MinuteBarsFeed):
    """The clock's bars grouped into ``compression``-minute bars, exactly as ``cerebro.resampledata`` does.

    Same catalog, symbol and range as the clock; pass the clock as ``source``
    to share its day arrays (no second read). Valid when every session opens
    and closes on a ``compression`` boundary (NYSE: any divisor of 30
    minutes), where Backtrader's resampler (bar2edge, adjbartime, rightedge)
    reduces to: update the bar with each 1-minute bar; on a boundary minute
    deliver it, stamped at that minute, if it has an open, and start a new one.
    The aggregation below repeats its arithmetic step by step (``max``, ``min``,
    ``+=`` in bar order, first non-NaN open), so the values are the same to the
    bit, and a bar is delivered on the same clock bar as the resampler's.
    """

    params: Any = (("source", None),)  # the clock feed whose day arrays to reuse

    def start(self) -> None:
        super().start()
        self._pending = _MacroBar()

    def _begin_day(self, grid: DayGrid) -> None:
        src = self.p.source
        if (
            src is not None
            and getattr(src, "current_day", None) == grid.day
            and len(src._ohlcv) == len(grid.ns)
        ):
            self._ohlcv = src._ohlcv  # the clock already built this day (same inputs, same result)
            self._last_close = src._last_close
        else:
            super()._begin_day(grid)
        comp = int(self.p.compression)
        first = grid.stamps[0] - timedelta(minutes=1) if grid.stamps else None
        if first is not None and (
            (first.hour * 60 + first.minute) % comp
            or (grid.stamps[-1].hour * 60 + grid.stamps[-1].minute) % comp
        ):
            raise FeedError(
                f"{self.symbol} {grid.day}: the session does not open and close on a {comp}-minute boundary; "
                "use cerebro.resampledata for this macro bar size"
            )
        nums: list[float] = []
        rows: list[tuple[float, ...]] = []
        bar = self._pending
        for k, (o, h, lo, c, v) in enumerate(self._ohlcv.tolist()):
            bar.update(grid.num_list[k], o, h, lo, c, v, 0.0)
            stamp = grid.stamps[k]
            if (stamp.hour * 60 + stamp.minute) % comp == 0 and not math.isnan(bar.open):  # edge, open
                nums.append(bar.datetime)
                rows.append((bar.open, bar.high, bar.low, bar.close, bar.volume, bar.openinterest))
                bar.reset()
        self._nums = nums
        self._rows = rows
        self._n = len(nums)


class _MacroBar:
    """``backtrader.dataseries._Bar``'s arithmetic: the bar being built."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.close = NAN
        self.low = math.inf
        self.high = -math.inf
        self.open = NAN
        self.volume = 0.0
        self.openinterest = 0.0
        self.datetime = NAN

    def update(self, dt: float, o: float, h: float, lo: float, c: float, v: float, oi: float) -> None:
        self.datetime = dt
        self.high = max(self.high, h)
        self.low = min(self.low, lo)
        self.close = c
        self.volume += v
        self.openinterest = oi
        if math.isnan(self.open):  # Backtrader: ``not o == o``
            self.open = o
