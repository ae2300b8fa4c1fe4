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


def _live(venue: ReplayVenue, recorder: type[Recorder] | None = None) -> tuple[Recorder, LiveClock]:
    store = LiveStore(venue, clock_params=FAST_CLOCK)
    cerebro = bt.Cerebro(stdstats=False)
    clock = store.getdata("SPY", fromdate=SPY_DAY, todate=SPY_DAY, warmup_days=1)
    cerebro.adddata(clock, name="SPY")
    assert store.getmacro(clock, 10) is None  # cerebro_for resamples the live clock
    cerebro.resampledata(clock, timeframe=bt.TimeFrame.Minutes, compression=10, name="SPY_10m")
    cerebro.addstrategy(recorder or Recorder)
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
    venue.faults.history_failures_after_drop = 2  # the first backfill attempts time out: retried
    rec, clock = _live(venue)
    bars, macro = _until(backtest_bars, venue.market.end_utc)
    assert _same(rec.bars, bars) and _same(rec.macro, macro)
    assert clock.backfills == 2 and rec.states == ["DELAYED", "LIVE", "CONNBROKEN", "DELAYED", "LIVE"]
    assert len(venue.history_calls) == 1 + 3  # the warm-up, two failed attempts, the backfill
    start, end = venue.history_calls[-1][1:]
    assert start == venue.market.open_utc and end >= drop_at + timedelta(minutes=5)
    assert clock.duplicate_bars == 22  # the backfill repeats the 22 minutes streamed before the drop
    assert "SPY: the bar stream dropped; 1 backfill(s) after reconnecting" in clock.data_notes()


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
    assert f"SPY: {len(hidden)} minute(s) without a bar filled flat at the last close" in clock.data_notes()
    flat = [b for b in rec.bars if b[5] == 0.0]
    assert len(flat) >= len(hidden) and all(b[1] == b[2] == b[3] == b[4] for b in flat)


def test_the_clock_ends_after_its_last_session_and_the_run_returns(spy_catalog: Path) -> None:
    import threading

    venue = replay(spy_catalog, "SPY", SPY_DAY, "16:00", start_et="15:45")
    store = LiveStore(venue, clock_params=FAST_CLOCK)
    cerebro = bt.Cerebro(stdstats=False)
    clock = store.getdata("SPY", fromdate=SPY_DAY, todate=SPY_DAY, warmup_days=1)
    cerebro.adddata(clock, name="SPY")
    for feed in store.getcontracts(clock, 1):
        cerebro.adddata(feed, name=feed.p.name)
    cerebro.addstrategy(Recorder.__base__)  # a plain bt.Strategy

    def steps() -> None:
        while not venue.market.finished.is_set():
            venue.step()
            threading.Event().wait(0.01)

    driver = threading.Thread(target=steps, daemon=True)
    driver.start()
    cerebro.run()  # returns on its own: the clock said its last session is over
    driver.join(timeout=5)
    assert clock.ended and clock.produced == 2 * 390
    assert bt.num2date(clock.stamp(clock.produced - 1)[0]).replace(tzinfo=UTC) == venue.market.close_utc


def test_late_and_repeated_stream_bars_are_dropped_and_counted(
    spy_catalog: Path, backtest_bars: Recorder
) -> None:
    venue = replay(spy_catalog, "SPY", SPY_DAY, "10:00")
    open_ = venue.market.open_utc
    late, twice = open_ + timedelta(minutes=12), open_ + timedelta(minutes=20)
    venue.faults.late.add(late)
    venue.faults.repeat.add(twice)
    rec, clock = _live(venue)
    bars, _ = _until(backtest_bars, venue.market.end_utc)
    late_close = bt.date2num((late + timedelta(minutes=1)).replace(tzinfo=None))
    differ = [k for k, (a, b) in enumerate(zip(rec.bars, bars, strict=True)) if a != b]
    # the late minute was emitted flat (it was a gap when its time came); its bar then dropped
    assert len(rec.bars) == len(bars) and [rec.bars[k][0] for k in differ] == [late_close]
    flat = rec.bars[differ[0]]
    assert flat[1] == flat[2] == flat[3] == flat[4] == rec.bars[differ[0] - 1][4] and flat[5] == 0.0
    assert clock.dropped_bars == 1 and clock.duplicate_bars == 1 and clock.filled_bars == 1


def test_a_run_started_mid_session_enters_only_from_the_newest_closed_minute(spy_catalog: Path) -> None:
    """The minutes replayed from history warm the indicators but never trigger an entry."""
    venue = replay(spy_catalog, "SPY", SPY_DAY, "11:00", start_et="10:30")
    rec, clock = _live(venue)
    start = bt.num2date(clock.trading_start_num).replace(tzinfo=UTC)
    assert start == venue.market.start_utc  # the bar that closed as the run started: the newest
    assert len(rec.bars) == 390 + 90 and rec.states[:2] == ["DELAYED", "LIVE"]


def test_a_reconnect_holds_entries_until_the_stream_is_live_again(spy_catalog: Path) -> None:
    venue = replay(spy_catalog, "SPY", SPY_DAY, "10:30")
    venue.faults.drop_bars(6, at=venue.market.open_utc + timedelta(minutes=23))
    seen: list[tuple[str, float]] = []

    class Watch(Recorder):
        def notify_data(self, data: Any, status: int, *args: Any, **kwargs: Any) -> None:
            super().notify_data(data, status, *args, **kwargs)
            seen.append((data._getstatusname(status), data.trading_start_num))

    _live(venue, recorder=Watch)
    held = [num for state, num in seen if state in ("CONNBROKEN", "DELAYED")]
    assert held and all(math.isinf(num) for num in held)
    assert seen[-1][0] == "LIVE" and seen[-1][1] > seen[1][1]  # resumed after the replayed minutes
