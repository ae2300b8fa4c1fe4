"""LiveBroker over the replay: partial then full fills, a rejection, a fill timeout, a lost reply, a gate.

A scripted strategy binds contract feeds and sends orders at given minutes of the live
session; the replay venue fills them by the backtest's rule (at most the displayed size
a minute) and injects faults. Every execution must be booked exactly once, and the
broker's cash and positions must be what the venue's account says.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import backtrader as bt
import numpy as np
import pytest

from brokers.live.store import LiveStore
from brokers.live.venue import EventKind, OrderEvent
from options_scalper.calendar import expiry_time_utc
from options_scalper.quotes import ContractSpec
from tests.support.live_runs import ANY_BID, FAST_CLOCK, TSLA_DAY, replay
from tests.support.replay_venue import Lockstep, ReplayVenue

Plan = Callable[["Script", int], None]


class Script(bt.Strategy):
    """Runs ``plan(self, k)`` on the k-th live bar of the session (k = 1, 2, ...)."""

    params: Any = (("plan", None), ("venue", None), ("events", None))

    def __init__(self) -> None:
        self.clock = self.datas[0]
        self.feeds = [d for d in self.datas[1:] if hasattr(d, "bind")]
        self.notes: list[tuple[int, str, float, float]] = []  # (ref, status, executed size, last price)
        self.trades: list[float] = []
        self.k = 0

    def notify_order(self, order: bt.Order) -> None:
        bits = list(order.executed.iterpending())
        price = bits[-1].price if bits else float("nan")
        self.notes.append((order.ref, order.getstatusname(), order.executed.size, price))

    def notify_trade(self, trade: bt.Trade) -> None:
        if trade.isclosed:
            self.trades.append(trade.pnlcomm)

    def next(self) -> None:
        if self.clock.datetime[0] < self.clock.trading_start_num:
            return
        self.k += 1
        self.p.plan(self, self.k)

    def contract(self, rank: int = 0) -> ContractSpec:
        """The ``rank``-th 0DTE call nearest the money in this minute's chain."""
        now = bt.num2date(self.clock.datetime[0])
        snap = self.clock.chain.snapshot(now.replace(tzinfo=UTC), self.clock.close[0])
        calls = np.flatnonzero(snap.is_call & (snap.ask > 0) & (snap.bid > 0))
        order = calls[np.argsort(np.abs(snap.strike[calls] - self.clock.close[0]), kind="stable")]
        i = int(order[rank])
        expiry = snap.expiry[i].astype(object)
        close = expiry_time_utc(expiry).replace(tzinfo=None)
        return ContractSpec(str(snap.symbol[i]), True, float(snap.strike[i]), expiry, close)

    def statuses(self, ref: int) -> list[str]:
        return [s for r, s, _, _ in self.notes if r == ref]


def run(catalog: Path, plan: Plan, end_et: str = "09:50", **store_kw: Any) -> tuple[Script, ReplayVenue, Any]:
    venue = replay(catalog, "TSLA", TSLA_DAY, end_et)
    events: list[OrderEvent] = []
    venue.market.on_event(events.append)
    store = LiveStore(venue, clock_params=FAST_CLOCK, **{**ANY_BID, **store_kw})
    cerebro = bt.Cerebro(stdstats=False)
    clock = store.getdata("TSLA", fromdate=TSLA_DAY, todate=TSLA_DAY, warmup_days=1)
    cerebro.adddata(clock, name="TSLA")
    for feed in store.getcontracts(clock, 2):
        cerebro.adddata(feed, name=feed.p.name)
    cerebro.broker = store.getbroker()
    cerebro.addstrategy(Script, plan=plan, venue=venue, events=events)
    strat: Script = Lockstep(venue, cerebro).run()[0]
    strat.venue_events = events  # type: ignore[attr-defined]
    return strat, venue, store.getbroker()


def test_partial_then_full_fill_is_booked_once_per_execution(tsla_catalog: Path) -> None:
    orders: dict[str, Any] = {}

    def plan(s: Script, k: int) -> None:
        if k == 1:
            s.feeds[0].bind(s.contract(), s)
        elif k == 2:
            size = int(s.feeds[0].asksize[0]) * 3 + 1  # more than the offer shows in a minute
            orders["buy"] = s.buy(
                data=s.feeds[0], size=size, exectype=bt.Order.Limit, price=s.feeds[0].ask[0] + 1
            )
        elif orders.get("buy") is not None and not orders["buy"].alive() and "sell" not in orders:
            orders["sell"] = s.sell(
                data=s.feeds[0], size=orders["buy"].executed.size, exectype=bt.Order.Market
            )

    strat, venue, broker = run(tsla_catalog, plan, end_et="10:10")
    buy = orders["buy"]
    assert strat.statuses(buy.ref)[:2] == ["Submitted", "Accepted"] and "Partial" in strat.statuses(buy.ref)
    assert strat.statuses(buy.ref)[-1] == "Completed" and buy.executed.size == buy.size
    fills = [e for e in strat.venue_events if e.execution is not None]  # type: ignore[attr-defined]
    assert len(fills) >= 3 and len(broker._executions) == len(fills)
    assert sum(b.size for b in buy.executed.exbits) == buy.size
    assert strat.statuses(orders["sell"].ref)[-1] == "Completed" and len(strat.trades) == 1
    assert broker.getposition(strat.feeds[0]).size == 0 and not venue.market.positions()
    assert abs(broker.getcash() - venue.market.account().cash) < 1e-6 and not broker.mismatches
    commission = sum(e.execution.commission for e in fills if e.execution is not None)
    assert strat.trades[0] == pytest.approx(broker.getcash() - broker.startingcash) and commission > 0


def test_rejection_timeout_and_lost_reply(tsla_catalog: Path) -> None:
    orders: dict[str, Any] = {}

    def plan(s: Script, k: int) -> None:
        venue = s.p.venue
        if k == 1:
            s.feeds[0].bind(s.contract(0), s)
            s.feeds[1].bind(s.contract(1), s)
        elif k == 2:  # never reached: a limit of one tick, two minutes to fill
            orders["timeout"] = s.buy(data=s.feeds[1], size=1, exectype=bt.Order.Limit, price=0.01,
                                      valid=timedelta(minutes=2))  # fmt: skip
            venue.faults.reject_next("insufficient options buying power")
            orders["rejected"] = s.buy(
                data=s.feeds[0], size=1, exectype=bt.Order.Limit, price=s.feeds[0].ask[0]
            )
            venue.faults.lose_next_reply()
            orders["lost"] = s.buy(
                data=s.feeds[0], size=1, exectype=bt.Order.Limit, price=s.feeds[0].ask[0] + 1
            )

    strat, venue, broker = run(tsla_catalog, plan)
    rejected, timeout, lost = orders["rejected"], orders["timeout"], orders["lost"]
    assert strat.statuses(rejected.ref) == ["Submitted", "Rejected"]
    assert rejected.info["reject_reason"] == "insufficient options buying power"
    assert strat.statuses(timeout.ref) == ["Submitted", "Accepted", "Expired"] and not timeout.executed.size
    assert timeout.executed.dt > timeout.valid  # reported when the clock passed ``valid``, as the backtest
    report = venue.market.find_order(timeout.info["client_order_id"])
    assert report is not None and report.status == "canceled" and report.filled_qty == 0
    # the lost reply: found by its client_order_id, never sent twice, filled and booked once
    coid = lost.info["client_order_id"]
    assert venue.market.find_order(coid) is not None
    assert strat.statuses(lost.ref)[-1] == "Completed" and lost.executed.size == 1
    fills = [e for e in strat.venue_events if e.kind in (EventKind.FILL, EventKind.PARTIAL_FILL)]  # type: ignore[attr-defined]
    assert len(fills) == 1 and broker.getposition(strat.feeds[0]).size == 1
    assert (
        len(
            [
                e
                for e in strat.venue_events
                if e.order.client_order_id == coid and e.kind == EventKind.ACCEPTED
            ]
        )
        == 1
    )  # type: ignore[attr-defined]


def test_the_gate_refuses_before_the_venue_sees_the_order(tsla_catalog: Path) -> None:
    seen: list[OrderEvent] = []
    orders: dict[str, Any] = {}

    def plan(s: Script, k: int) -> None:
        if k == 1:
            s.feeds[0].bind(s.contract(), s)
        elif k == 2:
            orders["big"] = s.buy(data=s.feeds[0], size=50, exectype=bt.Order.Limit, price=s.feeds[0].ask[0])

    def gate(request: Any) -> str | None:
        return "daily loss limit reached" if request.qty > 10 else None

    strat, venue, _ = run(tsla_catalog, plan, end_et="09:40", gate=gate, listener=seen.append)
    big = orders["big"]
    assert (
        strat.statuses(big.ref) == ["Submitted", "Rejected"]
        and big.info["reject_reason"] == "daily loss limit reached"
    )
    assert venue.market.find_order(big.info["client_order_id"]) is None
    assert [e.kind for e in seen if e.order.client_order_id == big.info["client_order_id"]] == [
        EventKind.REJECTED
    ]


def test_a_marketable_exit_the_bid_ran_away_from_is_repriced_not_left_working(tsla_catalog: Path) -> None:
    from feeds.catalog import Catalog
    from feeds.catalog.chain import ChainProvider, to_ns

    provider = ChainProvider(Catalog(tsla_catalog), "TSLA")
    orders: dict[str, Any] = {}

    def plan(s: Script, k: int) -> None:
        feed = s.feeds[0]
        if k == 1:
            feed.bind(s.contract(), s)
        elif k == 2:
            orders["buy"] = s.buy(data=feed, size=1, exectype=bt.Order.Limit, price=feed.ask[0] + 1)
        elif "sell" not in orders and s.getposition(feed).size == 1:
            now = bt.num2date(s.clock.datetime[0])
            nxt = provider.quote(feed.spec.option_symbol, to_ns(now + timedelta(minutes=1)))
            if (
                nxt is not None and 0 < nxt.bid < feed.bid[0]
            ):  # the next minute's bid is lower: the limit misses
                orders["sell"] = s.sell(data=feed, size=1, exectype=bt.Order.Market)

    strat, venue, broker = run(tsla_catalog, plan, end_et="10:30", exit_slippage_pct=0.0)
    sell = orders["sell"]
    assert sell.status == bt.Order.Completed and sell.info["repriced"] >= 1
    first = venue.market.find_order(f"run-{sell.ref}")
    again = venue.market.find_order(f"run-{sell.ref}r1")
    assert first is not None and first.status == "canceled" and first.filled_qty == 0
    assert again is not None and again.limit_price is not None and again.limit_price < first.limit_price
    assert strat.statuses(sell.ref)[-1] == "Completed" and "Canceled" not in strat.statuses(sell.ref)
    assert broker.getposition(strat.feeds[0]).size == 0 and len(strat.trades) == 1


def test_a_venue_side_liquidation_and_a_late_commission_are_booked(tsla_catalog: Path) -> None:
    from brokers.live.venue import Execution, OrderReport, OrderStatus

    orders: dict[str, Any] = {}
    cash: dict[str, float] = {}

    def plan(s: Script, k: int) -> None:
        feed, broker = s.feeds[0], s.broker
        if k == 1:
            feed.bind(s.contract(), s)
        elif k == 2:
            orders["buy"] = s.buy(data=feed, size=2, exectype=bt.Order.Limit, price=feed.ask[0] + 1)
        elif "late" not in orders and s.getposition(feed).size == 2:
            ex_id = next(iter(broker._executions))
            ex = next(e.execution for e in s.p.events if e.execution and e.execution.execution_id == ex_id)
            cash["before"] = broker.getcash()
            late = Execution(ex.execution_id, ex.venue_order_id, ex.client_order_id, ex.option_symbol, ex.side,
                             ex.qty, ex.price, ex.ts, commission=ex.commission + 0.50)  # fmt: skip
            broker._events.put(OrderEvent(EventKind.COMMISSION, OrderReport(
                ex.venue_order_id, ex.client_order_id, ex.option_symbol, "buy", 2, 2, None, OrderStatus.FILLED),
                ex.ts, late))  # fmt: skip
            # the venue liquidates the position itself (an order this run never sent)
            now = bt.num2date(s.clock.datetime[0]).replace(tzinfo=UTC)
            sym = feed.spec.option_symbol
            report = OrderReport("venue-liq-1", "liquidation-1", sym, "sell", 2, 2, None, OrderStatus.FILLED)
            fill = Execution("liq-x1", "venue-liq-1", "liquidation-1", sym, "sell", 2, feed.bid[0], now, 0.0)
            broker._events.put(OrderEvent(EventKind.FILL, report, now, fill, message="liquidation"))
            orders["late"] = True

    strat, venue, broker = run(tsla_catalog, plan, end_et="09:45", refresh_minutes=0)
    venue_events = strat.venue_events  # type: ignore[attr-defined]
    assert broker.getposition(strat.feeds[0]).size == 0 and len(strat.trades) == 1
    assert "liq-x1" in broker._executions
    bought = [e.execution for e in venue_events if e.execution is not None]
    paid = sum(x.qty * x.price * 100 + x.commission for x in bought)
    # the replay never saw that liquidation: the position check tells the runtime
    broker._check_positions(venue.market.now())
    assert [m[1:] for m in broker.mismatches] == [(strat.feeds[0].option_symbol, 0, 2)]
    liquidated = [n for n in strat.notes if n[1] == "Completed"][-1]  # notified like any order
    assert liquidated[2] == -2
    bid = liquidated[3]
    assert broker.getcash() == pytest.approx(100_000 - paid - 0.50 + 2 * bid * 100)
