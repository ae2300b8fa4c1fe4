"""alpaca-py models -> venue values: the cases the fake does not send (pending updates, shorts, padded OCC)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alpaca.trading.models import OptionContract, Order, Position, TradeAccount, TradeUpdate

from brokers.alpaca import parsing
from brokers.live.venue import EventKind, OrderRequest, OrderStatus, PositionReport

T = "2024-01-04T15:00:00Z"
ORDER = {
    "id": "7a6bf9b7-9f4c-5777-b2e7-9d153d9c553a", "client_order_id": "r-1", "created_at": T, "updated_at": T,
    "submitted_at": T, "symbol": "SPY240104C00571000", "qty": "3", "filled_qty": "1", "order_class": "simple",
    "type": "limit", "side": "sell", "time_in_force": "day", "limit_price": "1.25", "status": "pending_new",
    "extended_hours": False,
}  # fmt: skip


def test_order_status_and_side() -> None:
    r = parsing.order(Order(**ORDER))
    assert (r.status, r.side, r.qty, r.filled_qty, r.limit_price) == (OrderStatus.PENDING, "sell", 3, 1, 1.25)
    assert r.submitted_at == datetime(2024, 1, 4, 15, tzinfo=UTC)
    for alpaca, ours in [("done_for_day", OrderStatus.EXPIRED), ("held", OrderStatus.ACCEPTED),
                         ("pending_cancel", OrderStatus.ACCEPTED), ("canceled", OrderStatus.CANCELED)]:  # fmt: skip
        assert parsing.order(Order(**{**ORDER, "status": alpaca})).status is ours


def test_updates_that_change_nothing_are_dropped_and_fills_need_their_own_qty() -> None:
    order = Order(**ORDER)
    for event in ("pending_new", "pending_cancel", "replaced", "restated"):
        assert parsing.trade_update(TradeUpdate(event=event, order=order, timestamp=T)) is None
    fill = parsing.trade_update(TradeUpdate(event="partial_fill", order=order, timestamp=T, qty=1, price=1.3,
                                            execution_id="0c1c6a6e-0000-4000-8000-000000000001"))  # fmt: skip
    assert fill is not None and fill.kind is EventKind.PARTIAL_FILL
    assert fill.execution is not None and (fill.execution.qty, fill.execution.price) == (1, 1.3)


def test_a_short_position_is_negative_and_padded_symbols_are_compacted() -> None:
    p = Position(asset_id="0c1c6a6e-0000-4000-8000-000000000002", symbol="SPY   240104P00570000", exchange="",
                 asset_class="us_option", avg_entry_price="1.5", qty="2", side="short", cost_basis="300")  # fmt: skip
    assert parsing.position(p) == PositionReport("SPY240104P00570000", -2, 1.5, "option")
    req = parsing.limit_order(OrderRequest("r-2", "SPY   240104P00570000", "buy", 2, 1.1))
    assert (req.symbol, req.qty, req.limit_price, req.client_order_id) == (
        "SPY240104P00570000",
        2,
        1.1,
        "r-2",
    )
    assert (req.time_in_force.value, req.type.value, req.side.value) == ("day", "limit", "buy")


def test_paper_accounts_and_options_levels() -> None:
    base = {"id": "0c1c6a6e-0000-4000-8000-000000000003", "status": "ACTIVE", "cash": "10", "equity": "12"}
    paper = parsing.account(TradeAccount(**base, account_number="PA123", options_trading_level=2))
    assert paper.paper and paper.options_approved and (paper.cash, paper.equity) == (10.0, 12.0)
    real = parsing.account(TradeAccount(**base, account_number="6Z123", options_approved_level=1))
    assert not real.paper and not real.options_approved
    unknown = parsing.account(TradeAccount(**base, account_number="PA9"))
    assert unknown.options_approved  # Alpaca did not say: the order's answer decides


# a chain snapshot as Alpaca sends it: daily bars stamped at midnight ET of their day
QUOTE = {"t": "2024-10-29T15:00:00Z", "bx": "C", "bp": 1.1, "bs": 5, "ax": "C", "ap": 1.2, "as": 7, "c": "A"}
SESSION = date(2024, 10, 29)  # a Tuesday: the previous session is Monday 2024-10-28


def _bar(day: str, volume: int) -> dict[str, object]:
    return {"t": f"{day}T04:00:00Z", "o": 1.0, "h": 1.3, "l": 0.9, "c": 1.2, "v": volume, "n": 9, "vw": 1.1}


@pytest.mark.parametrize(
    ("bars", "volume"),
    [
        (
            {"dailyBar": _bar("2024-10-29", 40), "prevDailyBar": _bar("2024-10-28", 1234)},
            1234.0,
        ),  # traded today
        (
            {"dailyBar": _bar("2024-10-28", 1234), "prevDailyBar": _bar("2024-10-25", 99)},
            1234.0,
        ),  # not yet today
        ({"dailyBar": _bar("2024-10-29", 40), "prevDailyBar": _bar("2024-10-25", 99)}, 0.0),  # idle on Monday
        ({"dailyBar": _bar("2024-10-25", 99)}, 0.0),  # last traded on Friday
        ({}, None),  # no bars: unknown
    ],
)
def test_the_previous_sessions_volume_never_todays(bars: dict[str, object], volume: float | None) -> None:
    q = parsing.raw_snapshot("SPY241029C00580000", {"latestQuote": QUOTE, **bars}, delayed=False, session=SESSION,
                             open_interest=5000.0)  # fmt: skip
    assert q is not None and (q.bid, q.ask, q.open_interest, q.volume) == (1.1, 1.2, 5000.0, volume)


def _contract(**over: object) -> OptionContract:
    base = {
        "id": "0c1c6a6e-0000-4000-8000-000000000004", "symbol": "SPY   241029C00580000", "name": "SPY call",
        "status": "active", "tradable": True, "expiration_date": "2024-10-29", "root_symbol": "SPY",
        "underlying_symbol": "SPY", "underlying_asset_id": "0c1c6a6e-0000-4000-8000-000000000005",
        "type": "call", "style": "american", "strike_price": "580", "size": "100", "open_interest": "2110",
        "open_interest_date": "2024-10-28", "close_price": "1.05", "close_price_date": "2024-10-28",
    }  # fmt: skip
    return OptionContract(**{**base, **over})


def test_open_interest_counts_only_when_published_before_the_session() -> None:
    listed = parsing.listed_contract(_contract(), SESSION)
    assert listed == parsing.ListedContract("SPY241029C00580000", SESSION, 2110.0, date(2024, 10, 28))
    assert (
        parsing.open_interest(_contract(open_interest_date="2024-10-29"), SESSION) is None
    )  # today's: not yet
    assert parsing.open_interest(_contract(open_interest_date=None), SESSION) is None  # undated
    assert parsing.open_interest(_contract(open_interest=None, open_interest_date=None), SESSION) is None
    assert (
        parsing.open_interest(_contract(open_interest_date="2024-10-24"), SESSION) == 2110.0
    )  # stale, still published
