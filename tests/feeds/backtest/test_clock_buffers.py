"""Bounded line buffers (``keep_bars``): the same bars as unbounded buffers, a fixed size, loud over-reads."""

from __future__ import annotations

from datetime import date
from typing import Any

import backtrader as bt
import numpy as np
import pytest

from app.cerebro import add_symbol_feeds
from brokers.backtest.store import BacktestStore
from feeds.backtest.clock import CONTRACT_KEEP_BARS, FeedError, MacroFeed, UnderlyingFeed, _GridFeed
from feeds.backtest.contracts import ContractFeed
from options_scalper.calendar import sessions_between
from options_scalper.quotes import ContractSpec
from tests.support.memory_catalog import MemoryCatalog, session_stamps, synthetic_day

DAYS = tuple(sessions_between(date(2024, 11, 26), date(2024, 12, 4)))  # a half day (11-29) inside
STRIKE = 100.0


def catalog(days: tuple[date, ...] = DAYS) -> MemoryCatalog:
    cat = MemoryCatalog()
    for k, d in enumerate(days):
        rng = np.random.default_rng(k)
        prices = 100.0 + np.cumsum(rng.normal(0, 0.05, len(session_stamps(d))))
        bars, quotes = synthetic_day(
            "SPY", d, prices=prices, strikes=(STRIKE,), expiries=(d,), missing_bar_minutes=(2, 3, 40)
        )
        bars["volume"] = rng.integers(100, 5000, len(bars)).astype(float)
        cat.add_day("SPY", d, bars, quotes)
    return cat


def _value(line: Any, ago: int) -> float | None:
    try:
        return float(line[ago])
    except IndexError:
        return None


class Recorder(bt.Strategy):
    """Reads every line of every feed at [0] and a few bars back; binds contract feed 0 at times."""

    params = (("backs", (0, -1, -3, -7)),)

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.contracts = [d for d in self.datas if isinstance(d, ContractFeed)]

    def prenext(self) -> None:
        self.next()

    def stop(self) -> None:
        for f in self.contracts:  # a feed bound at the end would stay bound into an optstrategy's next run
            if f.bound:
                f.release()

    def next(self) -> None:
        clock = self.datas[0]
        for f in self.contracts[:1]:
            day = clock.current_day
            if len(clock) % 97 == 0 and not f.bound and day is not None:
                sym = str(sorted(clock.catalog.quotes[("SPY", day)]["symbol"].unique())[0])
                f.bind(ContractSpec(sym, True, STRIKE, day, clock.datetime.datetime(0)))
            elif len(clock) % 97 == 41 and f.bound:
                f.release()
        row: list[Any] = [len(clock)]
        for d in self.datas:
            if not len(d):
                row.append(None)
                continue
            row.append(tuple(_value(line, ago) for line in d.lines for ago in self.p.backs if -ago < len(d)))
            row.append(tuple(d.close.get(size=3)) if len(d) >= 3 else None)
        row.append(float(self.contracts[0].bid[0]) if self.contracts else None)
        self.rows.append(tuple(row))


def run(keep: int | None, fast: bool = True, pool: int = 2, days: tuple[date, ...] = DAYS) -> Any:
    cer = bt.Cerebro(stdstats=False, preload=False, runonce=False)
    add_symbol_feeds(
        cer,
        BacktestStore(catalog(days)),
        "SPY",
        days[1],
        None,
        warmup_days=1,
        pool_size=pool,
        macro_minutes=10,
    )
    if keep is not None:
        for d in cer.datas:
            if not isinstance(d, MacroFeed):  # rewound between its edges: never bounded
                d.p.keep_bars = keep
    cer.addstrategy(Recorder)
    if not fast:
        for d in cer.datas:
            d._fast_ok = lambda: False  # Backtrader's own DataBase.load / next
    strat = cer.run()[0]
    return strat, cer.datas


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "backtrader-load"])
def test_bounded_feeds_give_bar_for_bar_the_values_of_unbounded_feeds(fast: bool) -> None:
    full, _ = run(keep=0, fast=True)
    bounded, datas = run(keep=30, fast=fast)
    assert len(full.rows) == len(bounded.rows) == len(DAYS) * 390 - 180  # the half day closes at 13:00
    assert repr(full.rows) == repr(bounded.rows)  # NaN-aware, bit for bit (repr of floats is exact)
    assert all(d._fast is fast for d in datas)
    assert sum(r[-1] > 0 for r in full.rows) > 100  # contract 0 was bound and streamed quotes


def test_bounded_feed_holds_keep_bars_values_however_many_days_it_streamed() -> None:
    _, short = run(keep=25, days=DAYS[:3])
    _, long = run(keep=25)
    for a, b in zip(short, long, strict=True):
        if isinstance(b, MacroFeed):
            continue
        assert [len(line.array) for line in a.lines] == [len(line.array) for line in b.lines]
        assert {len(line.array) for line in b.lines} == {25}
        assert len(b) > len(a)  # len() still counts every bar delivered


def test_contract_feeds_keep_a_session_by_default_and_the_clock_and_macro_view_keep_every_bar() -> None:
    _, datas = run(keep=None)
    clock, macro, *contracts = datas
    assert {len(line.array) for line in clock.lines} == {len(clock)}
    assert {len(line.array) for line in macro.lines} == {len(macro)}
    for f in contracts:
        assert {len(line.array) for line in f.lines} == {CONTRACT_KEEP_BARS}
        assert f._fast


class ReadsTooFarBack(bt.Strategy):
    def next(self) -> None:
        if len(self.data) > 12:
            self.data.close[-12]


def test_a_read_before_the_kept_bars_raises_instead_of_wrapping_round() -> None:
    cer = bt.Cerebro(stdstats=False, preload=False, runonce=False)
    cer.adddata(UnderlyingFeed(dataname=catalog(DAYS[:1]), symbol="SPY", keep_bars=10), name="SPY")
    cer.addstrategy(ReadsTooFarBack)
    with pytest.raises(IndexError, match="keep_bars"):
        cer.run()


def test_negative_keep_bars_is_refused_with_the_value() -> None:
    feed: _GridFeed = UnderlyingFeed(dataname=catalog(DAYS[:1]), symbol="SPY", keep_bars=-5)
    with pytest.raises(FeedError, match="keep_bars=-5"):
        feed.start()


def test_a_bounded_feed_that_cerebro_rewinds_is_refused_with_what_to_do() -> None:
    cer = bt.Cerebro(stdstats=False, preload=False, runonce=False)
    add_symbol_feeds(
        cer, BacktestStore(catalog(DAYS[:1])), "SPY", None, None, warmup_days=0, pool_size=0, macro_minutes=10
    )
    cer.datas[1].p.keep_bars = 50  # the macro view: its 09:40 bar is ahead of the 09:31 clock bar
    cer.addstrategy(bt.Strategy)
    with pytest.raises(FeedError, match="rewound a feed with keep_bars=50"):
        cer.run()


def test_bounded_feeds_start_every_run_of_an_optstrategy_afresh() -> None:
    cer = bt.Cerebro(stdstats=False, preload=False, runonce=False, maxcpus=1, optreturn=False)
    add_symbol_feeds(
        cer,
        BacktestStore(catalog(DAYS[:3])),
        "SPY",
        DAYS[1],
        None,
        warmup_days=1,
        pool_size=2,
        macro_minutes=10,
    )
    for d in cer.datas:
        if not isinstance(d, MacroFeed):
            d.p.keep_bars = 20
    cer.optstrategy(Recorder, backs=[(0, -1, -3), (0, -1, -3)])
    first, second = (run[0] for run in cer.run())
    assert len(first.rows) == len(second.rows) == 3 * 390 - 180
    assert repr(first.rows) == repr(second.rows)
