"""The live clock emits the backtest clock's bars: close stamps, gap fill, backfill after a drop, macro view.

A recording strategy runs once on the backtest's ``UnderlyingFeed`` (with Backtrader's
resampler for the 10-minute view, and once with the backtest's ``MacroFeed``) and once
on the live clock over the replay, in lockstep; every 1-minute and 10-minute bar must
be the same, value for value.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import backtrader as bt
import pytest

from brokers.backtest.store import BacktestStore
from brokers.live.clock import LiveClock
from brokers.live.store import LiveStore
from feeds.catalog import Catalog
from tests.support.live_runs import FAST_CLOCK, SPY_DAY, replay
from tests.support.memory_catalog import MemoryCatalog
from tests.support.replay_venue import Lockstep, ReplayVenue


class Recorder(bt.Strategy):
    """Every bar of the clock and of its 10-minute view, and the clock's states."""

    def __init__(self) -> None:
        self.bars: list[tuple[float, ...]] = []
        self.macro: list[tuple[float, ...]] = []
        self.states: list[str] = []
        self._macro_len = 0

    def notify_data(self, data: Any, status: int, *args: Any, **kwargs: Any) -> None:
        if data is self.datas[0]:
            self.states.append(data._getstatusname(status))

    def prenext(self) -> None:
        self.next()

    def next(self) -> None:
        d = self.datas[0]
        self.bars.append((d.datetime[0], d.open[0], d.high[0], d.low[0], d.close[0], d.volume[0]))
        m = self.datas[1]
        if len(m) != self._macro_len:
            self._macro_len = len(m)
            self.macro.append((m.datetime[0], m.open[0], m.high[0], m.low[0], m.close[0], m.volume[0]))


def _same(a: list[tuple[float, ...]], b: list[tuple[float, ...]]) -> bool:
    return len(a) == len(b) and all(
        all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(r, s, strict=True))
        for r, s in zip(a, b, strict=True)
    )


def _backtest(catalog: Any, use_macro_feed: bool) -> Recorder:
    store = BacktestStore(catalog)
    cerebro = bt.Cerebro(preload=False, runonce=False, stdstats=False)
    clock = store.getdata("SPY", fromdate=SPY_DAY, todate=SPY_DAY, warmup_days=1)
    cerebro.adddata(clock, name="SPY")
    macro = store.getmacro(clock, 10) if use_macro_feed else None
    if macro is not None:
        cerebro.adddata(macro, name="SPY_10m")
    else:
        cerebro.resampledata(clock, timeframe=bt.TimeFrame.Minutes, compression=10, name="SPY_10m")
    cerebro.addstrategy(Recorder)
    result: Recorder = cerebro.run()[0]
    return result


def _live(venue: ReplayVenue) -> tuple[Recorder, LiveClock]:
    store = LiveStore(venue, clock_params=FAST_CLOCK)
    cerebro = bt.Cerebro(stdstats=False)
    clock = store.getdata("SPY", fromdate=SPY_DAY, todate=SPY_DAY, warmup_days=1)
    cerebro.adddata(clock, name="SPY")
    assert store.getmacro(clock, 10) is None  # cerebro_for resamples the live clock
    cerebro.resampledata(clock, timeframe=bt.TimeFrame.Minutes, compression=10, name="SPY_10m")
    cerebro.addstrategy(Recorder)
    result: Recorder = Lockstep(venue, cerebro).run()[0]
    return result, clock


def _until(rec: Recorder, end: datetime) -> tuple[list[tuple[float, ...]], list[tuple[float, ...]]]:
    last = bt.date2num(end.replace(tzinfo=None))
    return [b for b in rec.bars if b[0] <= last + 1e-9], [b for b in rec.macro if b[0] <= last + 1e-9]


@pytest.fixture(scope="module")
def backtest_bars(spy_catalog: Path) -> Recorder:
    return _backtest(str(spy_catalog), use_macro_feed=False)


def test_the_backtests_macro_feed_is_the_resampler(spy_catalog: Path, backtest_bars: Recorder) -> None:
    with_feed = _backtest(str(spy_catalog), use_macro_feed=True)
    assert _same(with_feed.macro, backtest_bars.macro) and len(with_feed.macro) == 2 * 39


def test_live_bars_and_macro_bars_equal_the_backtests(spy_catalog: Path, backtest_bars: Recorder) -> None:
    venue = replay(spy_catalog, "SPY", SPY_DAY, "11:00")
    rec, clock = _live(venue)
    bars, macro = _until(backtest_bars, venue.market.end_utc)
    assert len(bars) == 390 + 90 and _same(rec.bars, bars)
    assert len(macro) == 39 + 9 and _same(rec.macro, macro)
    # stamped at the close: the first bar of today is the one starting at the open
    first_today = bt.num2date(clock.trading_start_num).replace(tzinfo=UTC)
    assert first_today == venue.market.open_utc + timedelta(minutes=1)
    assert rec.states[:2] == ["DELAYED", "LIVE"] and clock.backfills == 1


def test_a_dropped_stream_is_backfilled_and_the_bars_are_the_same(
    spy_catalog: Path, backtest_bars: Recorder
) -> None:
    venue = replay(spy_catalog, "SPY", SPY_DAY, "10:30")
    drop_at = venue.market.open_utc + timedelta(minutes=23)
    venue.faults.drop_bars(6, at=drop_at)
    rec, clock = _live(venue)
    bars, macro = _until(backtest_bars, venue.market.end_utc)
    assert _same(rec.bars, bars) and _same(rec.macro, macro)
    assert clock.backfills == 2 and rec.states == ["DELAYED", "LIVE", "CONNBROKEN", "DELAYED", "LIVE"]
    start, end = venue.history_calls[-1][1:]
    assert start == venue.market.open_utc and end == drop_at + timedelta(minutes=5)
    assert clock.duplicate_bars == 22  # the backfill repeats the 22 minutes streamed before the drop


def test_gaps_are_filled_by_the_backtests_rule(spy_catalog: Path) -> None:
    venue = replay(spy_catalog, "SPY", SPY_DAY, "10:30")
    open_ = venue.market.open_utc
    prev_open = datetime(2024, 10, 28, 13, 30, tzinfo=UTC)
    hidden = {open_, open_ + timedelta(minutes=9), *(open_ + timedelta(minutes=k) for k in range(14, 19))}
    hidden |= {prev_open + timedelta(minutes=5), prev_open + timedelta(minutes=389)}
    venue.faults.hide_bars(hidden)
    rec, clock = _live(venue)
    # the backtest's clock over the same bars without the hidden minutes
    cat = Catalog(spy_catalog)
    memory = MemoryCatalog()
    for day in cat.days("SPY"):
        frame = cat.read_bars("SPY", day)
        keep = [ts.to_pydatetime().astimezone(UTC) not in hidden for ts in frame["ts"]]
        memory.add_day("SPY", day, frame[keep].reset_index(drop=True), cat.read_quotes("SPY", day))
    expected = _backtest(memory, use_macro_feed=False)
    bars, macro = _until(expected, venue.market.end_utc)
    assert _same(rec.bars, bars) and _same(rec.macro, macro)
    assert clock.filled_bars == len(hidden)
    flat = [b for b in rec.bars if b[5] == 0.0]
    assert len(flat) >= len(hidden) and all(b[1] == b[2] == b[3] == b[4] for b in flat)
