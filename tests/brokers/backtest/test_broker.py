"""QuoteBroker on a one-contract day: ask/bid fills, limits, timeouts, cash, commission, expiry."""

from __future__ import annotations

from datetime import UTC, date

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from app.cerebro import add_symbol_feeds
from brokers.backtest.broker import QuoteBroker, install
from brokers.backtest.store import BacktestStore
from brokers.commission import OptionCommInfo
from feeds.backtest.contracts import ContractFeed, ContractSpec
from feeds.catalog.chain import ChainProvider
from options_scalper.calendar import expiry_time_utc
from tests.support.memory_catalog import MemoryCatalog, session_stamps, synthetic_day

DAY = date(2024, 1, 3)
OSYM = "SPY240103C00100000"


def one_contract_catalog(bids, asks, sizes=50, ages=0, price=100.0) -> MemoryCatalog:
    stamps = session_stamps(DAY)
    n = len(stamps)

    def pad(v):
        a = np.asarray(v, dtype=float) if np.ndim(v) else np.full(1, float(v))
        return np.r_[a, np.full(n - len(a), a[-1])]

    prices = pad(price) if np.ndim(price) else np.full(n, price)
    bars, _ = synthetic_day("SPY", DAY, prices=prices)
    quotes = pd.DataFrame(
        {
            "ts": pd.to_datetime(stamps, utc=True),
            "symbol": OSYM,
            "underlying": "SPY",
            "expiry": DAY,
            "option_type": "C",
            "strike": 100.0,
            "bid_px": pad(bids),
            "ask_px": pad(asks),
            "bid_sz": pad(sizes).astype(int),
            "ask_sz": pad(sizes).astype(int),
            "quote_age_min": pad(ages).astype(int),
        }
    )
    cat = MemoryCatalog()
    cat.add_day("SPY", DAY, bars, quotes)
    return cat


class Script(bt.Strategy):
    """Runs ``actions[i](self)`` on bar i (0 = the bar stamped 09:31 ET) and logs notifications."""

    params = (("actions", None),)

    def __init__(self):
        self.clock = self.datas[0]
        self.feed = next(d for d in self.datas if isinstance(d, ContractFeed))
        self.feed.attach(ChainProvider(self.clock.catalog, "SPY"), self.clock)
        self.orders: list = []
        self.trades: list = []
        self.bars: list = []

    def bind(self):
        close = expiry_time_utc(DAY).astimezone(UTC).replace(tzinfo=None)
        self.feed.bind(ContractSpec(OSYM, True, 100.0, DAY, close), owner=self)

    def next(self):
        i = len(self.clock) - 1
        self.bars.append((i, self.feed.bid[0], self.feed.ask[0]))
        action = (self.p.actions or {}).get(i)
        if action:
            action(self)

    def notify_order(self, order):
        self.orders.append(
            (len(self.clock) - 1, order.getstatusname(), order.executed.size, order.executed.price)
        )

    def notify_trade(self, trade):
        if trade.isclosed:
            self.trades.append(trade)


def run(cat, actions, cash=100_000.0, cap=False, max_age=2.0):
    cer = bt.Cerebro(preload=False, runonce=False, stdstats=False)
    add_symbol_feeds(cer, BacktestStore(cat), "SPY", DAY, DAY, warmup_days=0, pool_size=1, macro_minutes=0)
    broker = install(cer, cash=cash, cap_to_size=cap, max_quote_age_min=max_age)
    cer.addstrategy(Script, actions=actions)
    return cer.run()[0], broker


def fills(strat, buys_only=False):
    out = [(i, size, price) for i, status, size, price in strat.orders if status in ("Completed", "Partial")]
    return [f for f in out if f[1] > 0] if buys_only else out


def test_market_buy_fills_at_next_bar_ask_and_sell_at_bid_never_mid():
    cat = one_contract_catalog(bids=[1.00, 1.10, 1.20, 1.30], asks=[1.10, 1.20, 1.30, 1.40])
    actions = {
        0: lambda s: s.bind(),
        1: lambda s: s.buy(data=s.feed, size=2),  # placed on the 09:32 bar
        3: lambda s: s.sell(data=s.feed, size=2),
    }
    strat, _ = run(cat, actions)
    assert fills(strat) == [(2, 2, 1.30), (4, -2, 1.30)]  # 09:33 ask, 09:35 bid


def test_bound_feed_streams_from_the_next_bar_only():
    cat = one_contract_catalog(bids=[1.00, 1.10, 1.20], asks=[1.10, 1.20, 1.30])
    strat, _ = run(cat, {0: lambda s: s.bind()})
    _, b0, _ = strat.bars[0]
    assert np.isnan(b0)  # bound during bar 0: bar 0 stays unbound
    assert strat.bars[1][1:] == (1.10, 1.20)  # the 09:32 quote on the 09:32 bar


def test_limit_buy_fills_only_when_ask_at_or_below_limit_at_the_ask():
    cat = one_contract_catalog(bids=[1.0, 1.0, 1.0, 0.9], asks=[1.2, 1.2, 1.2, 1.05])
    valid = pd.Timedelta(minutes=5).to_pytimedelta()
    actions = {
        0: lambda s: s.bind(),
        1: lambda s: s.buy(data=s.feed, size=1, exectype=bt.Order.Limit, price=1.10, valid=valid),
    }
    strat, _ = run(cat, actions)
    assert fills(strat, buys_only=True) == [
        (3, 1, 1.05)
    ]  # ask 1.05 <= 1.10 on bar 3: pays the ask, not the limit


def test_limit_order_expires_after_the_timeout_bars():
    cat = one_contract_catalog(bids=[1.0, 1.0, 1.0, 1.0, 0.9], asks=[1.2, 1.2, 1.2, 1.2, 1.0])
    valid = pd.Timedelta(minutes=1).to_pytimedelta()  # 15 s -> the next bar only
    actions = {
        0: lambda s: s.bind(),
        1: lambda s: s.buy(data=s.feed, size=1, exectype=bt.Order.Limit, price=1.10, valid=valid),
    }
    strat, _ = run(cat, actions)
    assert fills(strat) == []
    assert "Expired" in [st for _, st, _, _ in strat.orders]
    assert [i for i, st, _, _ in strat.orders if st == "Expired"] == [3]


@pytest.mark.parametrize(
    ("bids", "asks", "ages", "max_age"),
    [
        ([1.0, 1.0, 1.0], [1.1, np.nan, np.nan], 0, 2.0),  # NaN ask
        ([1.0, 1.0, 1.0], [1.1, 0.0, 0.0], 0, 2.0),  # zero ask
        ([1.0, 1.0, 1.0], [1.1, 1.1, 1.1], [0, 5, 5], 2.0),  # stale quote
    ],
)
def test_no_fill_when_the_side_is_missing_zero_or_stale(bids, asks, ages, max_age):
    cat = one_contract_catalog(bids=bids, asks=asks, ages=ages)
    strat, broker = run(
        cat, {0: lambda s: s.bind(), 1: lambda s: s.buy(data=s.feed, size=1, price=1.1)}, max_age=max_age
    )
    assert fills(strat) == []
    assert broker.no_fill["no_ask"] > 0


def test_entry_refused_when_premium_plus_commission_exceeds_cash():
    cat = one_contract_catalog(bids=[2.0], asks=[2.1])
    # 5 contracts * 2.10 * 100 = 1050 + 3.25 commission > 1000 cash
    strat, broker = run(
        cat, {0: lambda s: s.bind(), 1: lambda s: s.buy(data=s.feed, size=5, price=2.1)}, cash=1000.0
    )
    assert "Margin" in [st for _, st, _, _ in strat.orders]
    assert fills(strat) == []
    assert broker.getcash() == 1000.0


def test_round_trip_pnl_uses_x100_and_commission_on_both_legs():
    cat = one_contract_catalog(bids=[1.00, 1.00, 1.00, 1.50], asks=[1.10, 1.10, 1.10, 1.60])
    actions = {
        0: lambda s: s.bind(),
        1: lambda s: s.buy(data=s.feed, size=3),
        2: lambda s: s.sell(data=s.feed, size=3),
    }
    strat, broker = run(cat, actions, cash=10_000.0)
    (trade,) = strat.trades
    assert trade.pnl == pytest.approx(3 * (1.50 - 1.10) * 100)
    assert trade.commission == pytest.approx(6 * 0.65)
    assert trade.pnlcomm == pytest.approx(120.0 - 3.9)
    assert broker.getcash() == pytest.approx(10_000.0 + 116.1)


def test_cap_to_size_fills_partially_over_several_bars():
    cat = one_contract_catalog(bids=[1.0], asks=[1.1], sizes=[2, 2, 2, 1, 10])
    strat, _ = run(cat, {0: lambda s: s.bind(), 1: lambda s: s.buy(data=s.feed, size=5)}, cap=True)
    assert [(i, size) for i, size, _ in fills(strat, buys_only=True)] == [
        (2, 2),
        (3, 3),
        (4, 5),
    ]  # cumulative: 2 + 1 + 2
    assert "Partial" in [st for _, st, _, _ in strat.orders]


def test_open_position_at_expiry_settles_at_intrinsic_from_the_underlying():
    n = len(session_stamps(DAY))
    prices = np.full(n, 100.0)
    prices[-1] = 101.37  # the 16:00 close
    cat = one_contract_catalog(bids=[1.0], asks=[1.1], price=prices)
    strat, broker = run(cat, {0: lambda s: s.bind(), 1: lambda s: s.buy(data=s.feed, size=2)})
    assert fills(strat)[-1] == (n - 1, -2, pytest.approx(1.37))
    (trade,) = strat.trades
    assert trade.pnlcomm == pytest.approx(2 * (1.37 - 1.10) * 100 - 4 * 0.65)
    assert broker.settlements == 1


def test_option_comminfo_value_is_zero_for_empty_positions_with_nan_prices():
    ci = OptionCommInfo()
    pos = bt.Position(size=0, price=0.0)
    assert ci.getvalue(pos, float("nan")) == 0.0
    assert ci.getoperationcost(2, 1.5) == pytest.approx(300.0)
    assert isinstance(QuoteBroker(), bt.brokers.BackBroker)


def test_depth_is_real_by_default_and_can_be_switched_off():
    from strategies import registry

    assert BacktestStore(MemoryCatalog()).getbroker().p.cap_to_size is True
    assert BacktestStore(MemoryCatalog(), cap_to_size=False).getbroker().p.cap_to_size is False
    cls = registry.load_strategy("momentum_burst")
    assert registry.resolve_params("momentum_burst", cls, ["cap_to_size=false"]) == {"cap_to_size": False}
