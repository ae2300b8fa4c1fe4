"""The fake's order book: Alpaca orders (UUID ids, cumulative fields) over the replay market's orders.

The market (``ReplayMarket``) decides acceptance and fills; this book gives each order
Alpaca's shape and turns each market event into the trade updates Alpaca would send
(``new``, ``partial_fill``/``fill`` with that execution's ``qty``/``price``, ``canceled``,
``expired``, ``rejected``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from brokers.live.venue import EventKind, OrderEvent, OrderRequest, OrderStatus
from tests.support.fake_alpaca import wire

_STATUS = {
    OrderStatus.PENDING: "pending_new",
    OrderStatus.ACCEPTED: "new",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "expired",
    OrderStatus.REJECTED: "rejected",
}
_EVENT = {
    EventKind.ACCEPTED: "new",
    EventKind.PARTIAL_FILL: "partial_fill",
    EventKind.FILL: "fill",
    EventKind.CANCELED: "canceled",
    EventKind.EXPIRED: "expired",
    EventKind.REJECTED: "rejected",
}
OPEN = {"new", "accepted", "pending_new", "partially_filled"}


@dataclass
class FakeOrder:
    id: str
    request: OrderRequest
    created: datetime
    market_id: str | None = None
    status: str = "pending_new"
    updated: datetime | None = None
    filled_qty: int = 0
    notional: float = 0.0
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.status in OPEN

    def json(self) -> dict[str, Any]:
        r = self.request
        return {
            "id": self.id,
            "client_order_id": r.client_order_id,
            "created_at": wire.stamp(self.created),
            "updated_at": wire.stamp(self.updated or self.created),
            "submitted_at": wire.stamp(self.created),
            "filled_at": wire.stamp(self.filled_at),
            "expired_at": wire.stamp(self.expired_at),
            "canceled_at": wire.stamp(self.canceled_at),
            "failed_at": wire.stamp(self.failed_at),
            "replaced_at": None, "replaced_by": None, "replaces": None,
            "asset_id": wire.uid("asset", r.option_symbol),
            "symbol": r.option_symbol,
            "asset_class": "us_option",
            "notional": None,
            "qty": str(r.qty),
            "filled_qty": str(self.filled_qty),
            "filled_avg_price": wire.money(self.notional / self.filled_qty) if self.filled_qty else None,
            "order_class": "simple", "order_type": "limit", "type": "limit",
            "side": r.side,
            "time_in_force": "day",
            "limit_price": wire.money(r.limit_price),
            "stop_price": None,
            "status": self.status,
            "extended_hours": False,
            "legs": None,
            "trail_percent": None, "trail_price": None, "hwm": None,
        }  # fmt: skip


class OrderBook:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.orders: dict[str, FakeOrder] = {}
        self._by_market: dict[str, FakeOrder] = {}

    def create(self, request: OrderRequest, now: datetime) -> FakeOrder:
        with self._lock:
            order = FakeOrder(
                wire.uid("order", request.client_order_id, now.isoformat(), len(self.orders)), request, now
            )
            self.orders[order.id] = order
            return order

    def bind(self, order: FakeOrder, market_id: str, status: OrderStatus) -> None:
        with self._lock:
            order.market_id, order.status = market_id, _STATUS[status]
            self._by_market[market_id] = order

    def forget(self, order: FakeOrder) -> None:
        with self._lock:
            self.orders.pop(order.id, None)
            if order.market_id:
                self._by_market.pop(order.market_id, None)

    def by_client_id(self, client_order_id: str) -> FakeOrder | None:
        with self._lock:
            return next(
                (o for o in self.orders.values() if o.request.client_order_id == client_order_id), None
            )

    def listed(self, status: str) -> list[FakeOrder]:
        with self._lock:
            orders = sorted(self.orders.values(), key=lambda o: o.created, reverse=True)
        if status == "all":
            return orders
        return [o for o in orders if o.open == (status == "open")]

    def reject(self, order: FakeOrder, now: datetime) -> dict[str, Any]:
        with self._lock:
            order.status, order.failed_at, order.updated = "rejected", now, now
            return {"event": "rejected", "order": order.json(), "timestamp": wire.stamp(now)}

    def updates(self, event: OrderEvent, split: bool, position_qty: int) -> list[dict[str, Any]]:
        """The trade updates for one market event (empty for an order this book does not know)."""
        with self._lock:
            order = self._by_market.get(event.order.venue_order_id)
            if order is None:
                return []
            ex = event.execution
            now = event.ts
            order.updated = now
            if ex is None:
                order.status = _STATUS[event.order.status]
                if event.kind is EventKind.CANCELED:
                    order.canceled_at = now
                elif event.kind is EventKind.EXPIRED:
                    order.expired_at = now
                elif event.kind is EventKind.REJECTED:
                    order.failed_at = now
                return [{"event": _EVENT[event.kind], "order": order.json(), "timestamp": wire.stamp(now)}]
            parts = [ex.qty // 2, ex.qty - ex.qty // 2] if split and ex.qty >= 2 else [ex.qty]
            out = []
            before = position_qty - (ex.qty if ex.side == "buy" else -ex.qty)
            for n, qty in enumerate(parts):
                last = n == len(parts) - 1
                order.filled_qty += qty
                order.notional += qty * ex.price
                order.status = _STATUS[event.order.status] if last else "partially_filled"
                kind = _EVENT[event.kind] if last else "partial_fill"
                if order.status == "filled":
                    order.filled_at = now
                before += qty if ex.side == "buy" else -qty
                out.append(
                    {
                        "event": kind,
                        "execution_id": wire.uid("execution", ex.execution_id, n),
                        "order": order.json(),
                        "timestamp": wire.stamp(now),
                        "position_qty": str(before),
                        "price": wire.money(ex.price),
                        "qty": str(qty),
                    }
                )
            return out


__all__ = ["OPEN", "FakeOrder", "OrderBook"]
