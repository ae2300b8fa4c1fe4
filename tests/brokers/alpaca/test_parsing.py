"""alpaca-py models -> venue values: the cases the fake does not send (pending updates, shorts, padded OCC)."""

from __future__ import annotations

from datetime import UTC, datetime

from alpaca.trading.models import Order, Position, TradeAccount, TradeUpdate

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
