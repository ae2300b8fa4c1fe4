"""LiveBroker's pure pieces with plain venue values: order ids, marketable limits, booking, late commissions."""

from __future__ import annotations

import backtrader as bt
import pytest

from brokers.commission import OptionCommInfo
from brokers.live.booking import book
from brokers.live.sending import client_order_id, marketable_limit


def test_client_order_ids_fit_48_characters_and_keep_the_ref() -> None:
    assert client_order_id("20241030-ema-abc", 7) == "20241030-ema-abc-7"
    long = client_order_id("x" * 80, 123456)
    assert len(long) == 48 and long.endswith("-123456")
    assert client_order_id("run", "12r2") == "run-12r2"


@pytest.mark.parametrize(
    ("buy", "side", "pct", "cap", "expected"),
    [
        (False, 1.00, 0.10, 0.25, 0.90),  # 10% below the bid
        (False, 5.00, 0.10, 0.25, 4.75),  # capped at 25 cents
        (False, 0.05, 0.50, 0.25, 0.02),  # floor(0.025) on the tick grid
        (False, 0.01, 1.00, 1e9, 0.01),  # never below one tick
        (True, 1.00, 0.10, 0.25, 1.10),
        (True, 1.234, 0.0, 0.25, 1.24),  # a buy rounds up: it must still take the offer
        (False, 1.236, 0.0, 0.25, 1.23),  # a sell rounds down
    ],
)
def test_marketable_limits(buy: bool, side: float, pct: float, cap: float, expected: float) -> None:
    assert marketable_limit(buy, side, pct, cap) == expected


class _Data:
    """What ``bt.Order`` reads from its data when ``simulated``."""

    def __init__(self) -> None:
        self._name = "X_opt0"
        self._compensate = None


def _order(buy: bool, size: int) -> bt.Order:
    make = bt.BuyOrder if buy else bt.SellOrder
    order: bt.Order = make(
        owner=None, data=_Data(), size=size, price=1.0, exectype=bt.Order.Limit, simulated=True
    )
    return order


def test_booking_a_round_trip_leaves_the_backtest_brokers_cash_and_pnl() -> None:
    comminfo = OptionCommInfo(commission=0.65)
    position = bt.Position()
    cash = 10_000.0
    buy = _order(True, 5)
    cash, c1 = book(buy, position, comminfo, 3, 1.20, 1.0, None, cash)  # model commission
    cash, c2 = book(buy, position, comminfo, 2, 1.30, 1.1, 1.00, cash)  # the venue's commission
    assert (c1, c2) == (pytest.approx(1.95), 1.00) and position.size == 5
    assert position.price == pytest.approx((3 * 1.20 + 2 * 1.30) / 5)
    sell = _order(False, 5)
    cash, c3 = book(sell, position, comminfo, -5, 1.50, 1.2, None, cash)
    assert position.size == 0 and c3 == pytest.approx(3.25)
    expected = 10_000 - 100 * (3 * 1.20 + 2 * 1.30) + 100 * 5 * 1.50 - (1.95 + 1.00 + 3.25)
    assert cash == pytest.approx(expected)
    closed = sum(b.pnl for b in sell.executed.exbits)
    assert closed == pytest.approx(100 * 5 * (1.50 - position_price_before(3, 1.20, 2, 1.30)))
    assert sum(b.closedcomm for b in sell.executed.exbits) == pytest.approx(3.25)
    assert sum(b.openedcomm for b in buy.executed.exbits) == pytest.approx(2.95)
    assert buy.executed.size == 5 and sell.executed.size == -5


def position_price_before(q1: int, p1: float, q2: int, p2: float) -> float:
    return (q1 * p1 + q2 * p2) / (q1 + q2)
