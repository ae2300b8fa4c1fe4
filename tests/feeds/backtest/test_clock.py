"""Clock feed, resampling, ChainProvider and contract feeds on tiny catalog days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from app.cerebro import add_symbol_feeds
from brokers.backtest.store import BacktestStore
from feeds.backtest.contracts import ContractFeed
from feeds.catalog.chain import ChainProvider
from strategies.bartime import BarTimes
from tests.support.memory_catalog import MemoryCatalog, session_stamps, synthetic_day

D1, D2, D3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)


def catalog(days=(D1, D2), missing=(), oi_day=None) -> MemoryCatalog:
    cat = MemoryCatalog()
    for k, d in enumerate(days):
        n = len(session_stamps(d))
        prices = 100.0 + k + np.arange(n) * 0.01
        bars, quotes = synthetic_day(
            "SPY", d, prices=prices, strikes=(100.0, 101.0), expiries=(d,), missing_bar_minutes=missing
        )
        oi = None
        if d == oi_day:
            oi = pd.DataFrame({"symbol": quotes["symbol"].unique(), "open_interest": 1234.0, "volume": 77.0})
        cat.add_day("SPY", d, bars, quotes, oi=oi, atm_iv=0.2 + k / 100)
    return cat


class Recorder(bt.Strategy):
    def __init__(self):
        self.rows = []

    def prenext(self):
        self.next()

    def next(self):
        d0 = self.datas[0]
        macro = self.datas[1] if len(self.datas) > 1 and not isinstance(self.datas[1], ContractFeed) else None
        self.rows.append(
            (
                BarTimes().bar(d0),
                d0.open[0],
                d0.close[0],
                d0.volume[0],
                d0.in_warmup(),
                (BarTimes().bar(macro), macro.open[0], macro.close[0], macro.volume[0])
                if macro is not None and len(macro)
                else None,
            )
        )


def run_clock(cat, fromdate=D2, warmup=1, macro=0, preload=False):
    cer = bt.Cerebro(stdstats=False, preload=preload, runonce=False)
    add_symbol_feeds(
        cer, BacktestStore(cat), "SPY", fromdate, None, warmup_days=warmup, pool_size=0, macro_minutes=macro
    )
    cer.addstrategy(Recorder)
    strat = cer.run()[0]
    return strat, cer.datas[0]


def test_bar_is_stamped_at_its_close_so_the_0930_bar_is_0931():
    strat, _ = run_clock(catalog(), warmup=0)
    first = strat.rows[0]
    assert first[0] == datetime(2024, 1, 3, 14, 31, tzinfo=UTC)  # 09:31 ET
    bars: Any = catalog().read_bars("SPY", D2)
    assert first[2] == bars["close"].iloc[0]  # the bar that STARTS 09:30
    assert strat.rows[-1][0] == datetime(2024, 1, 3, 21, 0, tzinfo=UTC)  # 16:00 ET
    assert len(strat.rows) == 390


def test_gaps_become_flat_bars_at_previous_close_with_zero_volume_and_are_counted():
    strat, feed = run_clock(catalog(missing=(5, 6)), warmup=0)
    r4, r5, r6, r7 = strat.rows[4:8]
    assert r5[1] == r5[2] == r4[2] and r5[3] == 0.0
    assert r6[2] == r4[2] and r6[3] == 0.0
    assert r7[3] > 0
    assert feed.filled_bars == 2
    assert len(strat.rows) == 390


def test_day_without_volume_keeps_nan_volume_on_every_bar_gaps_included():
    """A parity day (no volume data): gap minutes are NaN (unknown), not 0 (no trades)."""
    cat = MemoryCatalog()
    n = len(session_stamps(D2))
    bars, quotes = synthetic_day(
        "SPY", D2, prices=100.0 + np.arange(n) * 0.01, volume=float("nan"), missing_bar_minutes=(5, 6)
    )
    cat.add_day("SPY", D2, bars, quotes)
    strat, feed = run_clock(cat, warmup=0)
    assert feed.filled_bars == 2 and len(strat.rows) == 390
    assert all(np.isnan(r[3]) for r in strat.rows)
    assert strat.rows[5][2] == strat.rows[4][2]  # prices still carried


def test_warmup_sessions_precede_fromdate_and_are_flagged():
    strat, feed = run_clock(catalog(days=(D1, D2, D3)), fromdate=D3, warmup=1)
    assert len(strat.rows) == 2 * 390
    assert strat.rows[0][0].date() == D2 and strat.rows[0][4] is True
    assert strat.rows[-1][0].date() == D3 and strat.rows[-1][4] is False
    assert feed.trading_start == D3


def test_preload_true_gives_the_same_clock():
    a, _ = run_clock(catalog(missing=(3,)), preload=False)
    b, _ = run_clock(catalog(missing=(3,)), preload=True)
    assert a.rows == b.rows


def test_resample_to_10_minutes_closes_on_the_edge_with_the_1_minute_bar():
    strat, _ = run_clock(catalog(), warmup=0, macro=10)
    rows = strat.rows
    bars: Any = catalog().read_bars("SPY", D2)
    at_0940 = rows[9]
    assert at_0940[0] == datetime(2024, 1, 3, 14, 40, tzinfo=UTC)
    m_time, m_open, m_close, m_vol = at_0940[5]
    assert m_time == at_0940[0]  # delivered on the same bar, not one bar late
    assert m_open == bars["open"].iloc[0] and m_close == bars["close"].iloc[9]
    assert m_vol == bars["volume"].iloc[:10].sum()
    assert rows[10][5][0] == m_time  # 09:41 still sees the 09:40 macro bar
    assert rows[-1][5][0] == datetime(2024, 1, 3, 21, 0, tzinfo=UTC)


def test_chain_snapshot_serves_only_the_current_minute_without_look_ahead():
    cat = catalog()
    chain = ChainProvider(cat, "SPY")
    t = datetime(2024, 1, 3, 14, 31, tzinfo=UTC)
    snap = chain.snapshot(t, 101.0)
    quotes = cat.read_quotes("SPY", D2)
    want = quotes[quotes["ts"] == pd.Timestamp(t)]
    assert len(snap) == len(want) == 4
    assert list(snap.symbol) == list(want["symbol"])
    assert np.array_equal(snap.bid, want["bid_px"].to_numpy())
    assert snap.ts == t and snap.underlying_price == 101.0
    assert np.isnan(snap.open_interest).all() and not snap.oi_known
    assert chain._day is not None and np.shares_memory(snap.bid, chain._day.bid)  # zero-copy slice


def test_chain_quote_and_open_interest_when_known():
    cat = catalog(oi_day=D2)
    chain = ChainProvider(cat, "SPY")
    t = datetime(2024, 1, 3, 15, 0, tzinfo=UTC)
    snap = chain.snapshot(t, 101.0)
    assert snap.oi_known and (snap.open_interest == 1234.0).all()
    q = chain.quote(str(snap.symbol[1]), t)
    assert q is not None and q.bid == snap.bid[1] and q.ask == snap.ask[1]
    assert chain.quote("SPY240103C00999000", t) is None


def test_chain_holds_one_day_and_loads_lazily():
    cat = catalog(days=(D1, D2))
    chain = ChainProvider(cat, "SPY")
    assert chain.loaded_day is None and not cat.reads
    chain.snapshot(datetime(2024, 1, 2, 15, 0, tzinfo=UTC), 100.0)
    chain.snapshot(datetime(2024, 1, 2, 16, 0, tzinfo=UTC), 100.0)
    assert chain.loads == 1 and chain.loaded_day == D1
    chain.snapshot(datetime(2024, 1, 3, 15, 0, tzinfo=UTC), 100.0)
    assert chain.loads == 2 and chain.loaded_day == D2
    assert chain.rows_in_memory == len(cat.read_quotes("SPY", D2))


def test_iv_history_is_strictly_before_the_day():
    chain = ChainProvider(catalog(days=(D1, D2, D3)), "SPY")
    assert chain.iv_history(D1) == []
    assert chain.iv_history(D3) == pytest.approx([0.20, 0.21])


def _clock_with_resampledata(cat, fromdate, warmup, minutes):
    """The reference: the same clock with Backtrader's own resampler for the macro view."""
    from feeds.backtest.clock import UnderlyingFeed

    cer = bt.Cerebro(stdstats=False, preload=False, runonce=False)
    clock = UnderlyingFeed(dataname=cat, symbol="SPY", fromdate=fromdate, todate=None, warmup_days=warmup)
    cer.adddata(clock, name="SPY")
    cer.resampledata(clock, timeframe=bt.TimeFrame.Minutes, compression=minutes, name=f"SPY_{minutes}m")
    cer.addstrategy(Recorder)
    return cer.run()[0]


@pytest.mark.parametrize("minutes", [5, 10, 15, 30])
def test_macro_feed_delivers_exactly_what_resampledata_delivers(minutes):
    """The engine's MacroFeed replaces cerebro.resampledata for speed; bar for bar it must be identical,
    across gaps, a warm-up session and a half day (2024-11-29 closes 13:00 ET)."""
    half = date(2024, 11, 29)
    cat = MemoryCatalog()
    for k, d in enumerate((date(2024, 11, 27), half)):
        n = len(session_stamps(d))
        rng = np.random.default_rng(k)
        prices = 100.0 + np.cumsum(rng.normal(0, 0.05, n))
        bars, quotes = synthetic_day(
            "SPY", d, prices=prices, strikes=(100.0,), expiries=(d,), missing_bar_minutes=(3, 4, 17)
        )
        bars["volume"] = rng.integers(100, 5000, len(bars)).astype(float)
        cat.add_day("SPY", d, bars, quotes)
    engine, _ = run_clock(cat, fromdate=half, warmup=1, macro=minutes)
    reference = _clock_with_resampledata(cat, fromdate=half, warmup=1, minutes=minutes)
    assert len(engine.rows) == len(reference.rows) == 390 + 210
    assert engine.rows == reference.rows


class TickRecorder(bt.Strategy):
    """Checks every feed's ``tick_*`` values against its lines on every bar."""

    def __init__(self):
        self.checked = 0
        self.mismatches = []

    def prenext(self):
        self.next()

    def next(self):
        for d in self.datas:
            if not len(d):
                continue
            for name in ("open", "high", "low", "close", "volume", "openinterest", "last"):
                line = "close" if name == "last" else name
                got, want = getattr(d, "tick_" + name), getattr(d.lines, line)[0]
                same = (np.isnan(got) and np.isnan(want)) if want != want else got == want
                if not same:
                    self.mismatches.append((d._name, len(d), name, got, want))
            self.checked += 1


def test_fast_path_tick_values_equal_the_current_bar_on_clock_macro_and_contract_feeds():
    cer = bt.Cerebro(stdstats=False, preload=False, runonce=False)
    add_symbol_feeds(
        cer, BacktestStore(catalog()), "SPY", D1, None, warmup_days=0, pool_size=2, macro_minutes=10
    )
    cer.addstrategy(TickRecorder)
    strat = cer.run()[0]
    assert strat.checked > 0 and strat.mismatches == []
    assert all(d._fast for d in cer.datas)  # every feed took the fast path


def test_chain_day_symbols_of_a_row_range_equal_the_full_symbol_column():
    chain = ChainProvider(catalog(), "SPY")
    t = datetime(2024, 1, 3, 14, 31, tzinfo=UTC)
    lazy = chain.snapshot(t, 101.0).symbol
    day = chain._day
    assert day is not None and day._symbol is None  # the whole column is not built for a snapshot
    lo, hi = day.bounds(int(pd.Timestamp(t).value))
    assert list(lazy) == list(day.symbol[lo:hi]) and lazy.dtype == object
    assert list(day.symbols(lo, hi)) == list(lazy)  # and reused once built
