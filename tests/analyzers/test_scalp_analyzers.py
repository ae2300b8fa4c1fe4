"""ScalpStats, EquityCurve and SuccessCriteria on a tiny real Cerebro run (no mocks)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import backtrader as bt
import pandas as pd
import pytest

from analyzers.scalp_analyzers import EquityCurve, ScalpProtocolError, ScalpStats, SuccessCriteria
from options_scalper.records import ClosedScalp

START_VALUE = 10_000.0


class OptionComm(bt.CommInfoBase):
    """$0.65 per contract, x100 multiplier on value, cost and P&L."""

    params = (
        ("stocklike", True),
        ("commtype", bt.CommInfoBase.COMM_FIXED),
        ("commission", 0.65),
        ("mult", 100),
    )

    def getoperationcost(self, size, price):
        return abs(size) * price * self.p.mult

    def getvaluesize(self, size, price):
        return size * price * self.p.mult

    def getvalue(self, position, price):
        return position.size * price * self.p.mult


def minute_bars() -> pd.DataFrame:
    """Two sessions of 20 one-minute bars (naive UTC), an 'option premium' that rises then falls."""
    closes = [1.00, 1.02, 1.05, 1.10, 1.20, 1.30, 1.25, 1.20, 1.10, 1.00] * 2
    stamps = [datetime(2024, 1, d, 14, 31) + timedelta(minutes=i) for d in (10, 11) for i in range(20)]
    prices = (closes * 2)[:40]
    return pd.DataFrame(
        {"open": prices, "high": prices, "low": prices, "close": prices, "volume": 100.0},
        index=pd.DatetimeIndex(stamps, name="datetime"),
    )


class ScriptedScalps(bt.Strategy):
    """Buy 2 contracts on given bars, sell them N bars later; keep the analyzer protocol."""

    params = (("entries", (1, 6, 21, 27)), ("hold", 3), ("synthetic_at", 35))

    def __init__(self) -> None:
        self.closed_scalps: list[ClosedScalp] = []
        self.rejections: Counter[str] = Counter()
        self.exit_price = 0.0
        self.bt_trades: list[bt.Trade] = []
        self.entry_bar = -1

    def next(self) -> None:
        bar = len(self) - 1
        if bar in self.p.entries and not self.position:
            self.buy(size=2)
            self.entry_bar = bar
        elif self.position and bar >= self.entry_bar + self.p.hold:
            self.close()
        else:
            self.rejections["spread_too_wide" if bar % 2 else "no_signal"] += 1
        if bar == self.p.synthetic_at:  # a record with no Backtrader trade (e.g. an expiry settlement)
            self.closed_scalps.append(
                make_record("expiry", 1.0, 0.0, 1, -100.0, self.datetime.datetime(0), 5)
            )

    def notify_order(self, order: bt.Order) -> None:
        if order.status == order.Completed and order.issell():
            self.exit_price = order.executed.price

    def notify_trade(self, trade: bt.Trade) -> None:
        if not trade.isclosed:
            return
        self.bt_trades.append(trade)
        reason = "take_profit" if trade.pnlcomm > 0 else "stop_loss"
        self.closed_scalps.append(
            make_record(
                reason,
                trade.price,
                self.exit_price,
                2,
                trade.pnlcomm,
                trade.open_datetime(),
                (trade.close_datetime() - trade.open_datetime()).total_seconds() / 60,
                commission=trade.commission,
            )
        )


def make_record(
    reason: str,
    entry: float,
    exit_: float,
    contracts: int,
    pnl: float,
    entry_naive_utc: datetime,
    hold_minutes: float,
    commission: float = 0.0,
) -> ClosedScalp:
    t0 = entry_naive_utc.replace(tzinfo=UTC)
    return ClosedScalp(
        signal_id=f"s{t0:%H%M}",
        ticker="SPY",
        option_symbol="SPY240110C00470000",
        option_type="call",
        strike=470.0,
        expiry=t0.date(),
        dte=0,
        direction="long_call",
        contracts=contracts,
        entry_premium=entry,
        exit_premium=exit_,
        entry_delta=0.4,
        entry_theta=-0.3,
        entry_iv=0.2,
        exit_reason=reason,
        pnl=pnl,
        pnl_pct=pnl / (entry * 100 * contracts),
        entry_time=t0,
        exit_time=t0 + timedelta(minutes=hold_minutes),
        commission=commission,
        conviction=80,
    )


def run(strategy: type[bt.Strategy] = ScriptedScalps, **kw) -> bt.Strategy:
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=minute_bars()))
    cerebro.broker.setcash(START_VALUE)
    cerebro.broker.addcommissioninfo(OptionComm())
    cerebro.addstrategy(strategy, **kw)
    cerebro.addanalyzer(ScalpStats, _name="scalps")
    cerebro.addanalyzer(EquityCurve, _name="equity")
    cerebro.addanalyzer(SuccessCriteria, _name="criteria")
    return cerebro.run()[0]


@pytest.fixture(scope="module")
def strat() -> bt.Strategy:
    return run()


def test_scalp_stats_match_backtrader_trades(strat: bt.Strategy) -> None:
    stats = strat.analyzers.scalps.get_analysis()
    assert len(strat.bt_trades) == 4
    assert stats["total_trades"] == 5  # 4 trades + 1 record without a trade
    bt_pnl = sum(t.pnlcomm for t in strat.bt_trades)
    assert stats["total_pnl"] == pytest.approx(bt_pnl - 100.0)
    # the x100 multiplier: the first trade bought 2 at 1.05 and sold 2 at 1.30 (next-bar opens)
    first = strat.closed_scalps[0]
    assert (first.entry_premium, first.exit_premium) == (pytest.approx(1.05), pytest.approx(1.30))
    assert first.pnl == pytest.approx((1.30 - 1.05) * 100 * 2 - 4 * 0.65)
    assert stats["total_commission"] == pytest.approx(4 * 4 * 0.65)
    assert stats["exit_breakdown"]["expiry"] == 1
    assert sum(stats["exit_breakdown"].values()) == 5
    assert stats["winning_trades"] + stats["losing_trades"] == 5


def test_scalp_stats_reports_rejections(strat: bt.Strategy) -> None:
    rejections = strat.analyzers.scalps.get_analysis()["rejections"]
    assert rejections == dict(strat.rejections)
    assert list(rejections.values()) == sorted(rejections.values(), reverse=True)


def test_equity_curve_tracks_broker(strat: bt.Strategy) -> None:
    eq = strat.analyzers.equity.get_analysis()
    bars = eq["bars"]
    assert len(bars["datetime"]) == 40 == len(bars["value"]) == len(bars["drawdown_pct"])
    assert bars["datetime"][0] == "2024-01-10T14:31:00+00:00"
    assert eq["initial_value"] == START_VALUE
    assert eq["end_value"] == pytest.approx(strat.broker.getvalue())
    # all trades closed: the account moved by exactly the Backtrader trades' net P&L
    assert eq["end_value"] - START_VALUE == pytest.approx(sum(t.pnlcomm for t in strat.bt_trades))
    assert [d["date"] for d in eq["daily"]] == ["2024-01-10", "2024-01-11"]
    assert sum(d["pnl"] for d in eq["daily"]) == pytest.approx(eq["end_value"] - START_VALUE)
    # max drawdown recomputed from the bar values
    peak, max_dd = START_VALUE, 0.0
    for v in bars["value"]:
        peak = max(peak, v)
        max_dd = max(max_dd, peak - v)
    assert max_dd > 0
    assert eq["max_drawdown"] == pytest.approx(max_dd)
    assert max(bars["drawdown"]) == pytest.approx(max_dd)


def test_success_criteria_rows(strat: bt.Strategy) -> None:
    crit = strat.analyzers.criteria.get_analysis()
    rows = {r["key"]: r for r in crit["overall"]}
    stats = strat.analyzers.scalps.get_analysis()
    assert rows["win_rate"]["value"] == pytest.approx(stats["win_rate"])
    assert rows["losing_streak"]["value"] == stats["longest_losing_streak"]
    assert rows["return_2024"]["value"] == pytest.approx(strat.broker.getvalue() / START_VALUE - 1)
    assert rows["return_2022"]["passed"] is None
    assert crit["by_year"] == {}


def test_analyses_are_plain_json(strat: bt.Strategy) -> None:
    for name in ("scalps", "equity", "criteria"):
        analysis = getattr(strat.analyzers, name).get_analysis()
        assert json.loads(json.dumps(analysis, allow_nan=False)) == analysis


def test_strategy_without_protocol_is_a_clear_error() -> None:
    class Plain(bt.Strategy):
        pass

    with pytest.raises(ScalpProtocolError, match="closed_scalps"):
        run(Plain)


def test_no_trades_gives_empty_stats() -> None:
    strat = run(entries=(), synthetic_at=-1)
    stats = strat.analyzers.scalps.get_analysis()
    assert stats["total_trades"] == 0 and stats["profit_factor"] is None
    assert strat.analyzers.equity.get_analysis()["max_drawdown"] == 0.0
    assert date.fromisoformat(strat.analyzers.equity.get_analysis()["daily"][-1]["date"]) == date(2024, 1, 11)


def test_analyses_come_back_from_optstrategy_workers() -> None:
    cerebro = bt.Cerebro(stdstats=False, maxcpus=2)
    cerebro.adddata(bt.feeds.PandasData(dataname=minute_bars()))
    cerebro.broker.setcash(START_VALUE)
    cerebro.broker.addcommissioninfo(OptionComm())
    cerebro.optstrategy(ScriptedScalps, hold=[2, 4])
    cerebro.addanalyzer(ScalpStats, _name="scalps")
    cerebro.addanalyzer(EquityCurve, _name="equity", bars=False)
    cerebro.addanalyzer(SuccessCriteria, _name="criteria")
    results = [r[0] for r in cerebro.run()]  # OptReturn objects pickled back from the pool
    assert sorted(r.params.hold for r in results) == [2, 4]
    for r in results:
        stats, equity = r.analyzers.scalps.get_analysis(), r.analyzers.equity.get_analysis()
        assert stats["total_trades"] == 5
        assert equity["bars"]["datetime"] == [] and len(equity["daily"]) == 2
        assert equity["end_value"] - START_VALUE == pytest.approx(
            stats["total_pnl"] + 100.0
        )  # + the synthetic loss
        assert r.analyzers.criteria.get_analysis()["overall"]
