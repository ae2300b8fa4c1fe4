"""How ``LiveBroker`` sends orders: Backtrader orders -> venue limit orders, the gate, lost replies.

``SendsOrders`` is the submission half of ``brokers.live.broker.LiveBroker`` (see its
module doc for the rules): a Limit is sent at its price, a Market order as a
marketable limit (``marketable_limit``) or kept waiting for a quote; the runtime's
``gate`` may refuse a request first; a venue refusal rejects the order with the
venue's message; a lost reply is looked up by ``client_order_id``, never resent.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import backtrader as bt

from brokers.live.venue import (
    EventKind,
    OrderEvent,
    OrderReport,
    OrderRequest,
    OrderStatus,
    VenueError,
    VenueErrorKind,
)

log = logging.getLogger(__name__)

TICK = 0.01
_EPS = 1e-9


def client_order_id(run_id: str, ref: int | str) -> str:
    """``<run_id>-<order ref>``, at most 48 characters (the run id is cut, never the ref).

    A re-priced exit's replacement is ``<run_id>-<ref>r<n>``."""
    tail = f"-{ref}"
    return f"{run_id[: 48 - len(tail)]}{tail}"


def marketable_limit(buy: bool, side_price: float, pct: float, cap: float) -> float:
    """A limit that takes ``side_price`` with a bounded slippage, on the tick grid, never below a tick."""
    slip = min(side_price * pct, cap)
    raw = side_price + slip if buy else side_price - slip
    ticks = math.ceil(raw / TICK - _EPS) if buy else math.floor(raw / TICK + _EPS)
    return round(max(TICK, ticks * TICK), 2)


class SendsOrders:
    """``buy``/``sell``/``cancel`` of ``LiveBroker`` (state and ``notify`` live on the broker)."""

    venue: Any
    run_id: str
    gate: Any
    listener: Any
    clocks: list[Any]
    p: Any
    _orders: dict[str, bt.Order]
    _venue_ids: dict[int, str]
    _waiting: list[bt.Order]
    _cancelled: set[int]
    _clock_now: Callable[[], Any]

    notify: Callable[[bt.Order], None]  # the broker's
    getcommissioninfo: Callable[[Any], Any]

    def buy(self, owner: Any, data: Any, size: float, price: float | None = None, plimit: Any = None,
            exectype: Any = None, valid: Any = None, tradeid: int = 0, oco: Any = None,
            trailamount: Any = None, trailpercent: Any = None, parent: Any = None, transmit: bool = True,
            histnotify: bool = False, _checksubmit: bool = True, **kwargs: Any) -> bt.Order:  # fmt: skip
        order = bt.BuyOrder(owner=owner, data=data, size=size, price=price, pricelimit=plimit,
                            exectype=exectype, valid=valid, tradeid=tradeid)  # fmt: skip
        return self._submit(order, kwargs)

    def sell(self, owner: Any, data: Any, size: float, price: float | None = None, plimit: Any = None,
             exectype: Any = None, valid: Any = None, tradeid: int = 0, oco: Any = None,
             trailamount: Any = None, trailpercent: Any = None, parent: Any = None, transmit: bool = True,
             histnotify: bool = False, _checksubmit: bool = True, **kwargs: Any) -> bt.Order:  # fmt: skip
        order = bt.SellOrder(owner=owner, data=data, size=size, price=price, pricelimit=plimit,
                             exectype=exectype, valid=valid, tradeid=tradeid)  # fmt: skip
        return self._submit(order, kwargs)

    def _submit(self, order: bt.Order, info: dict[str, Any]) -> bt.Order:
        order.addinfo(**info)
        order.addcomminfo(self.getcommissioninfo(order.data))
        coid = client_order_id(self.run_id, order.ref)
        order.addinfo(client_order_id=coid)
        self._orders[coid] = order
        order.submit(self)
        self.notify(order)
        not_live = [c for c in self.clocks if getattr(c, "_laststatus", c.LIVE) != c.LIVE]
        if not_live:
            return self._refuse(order, f"{not_live[0].symbol}: market data not live yet (backfilling)")
        if order.exectype not in (bt.Order.Limit, bt.Order.Market, None):
            return self._refuse(order, "only limit and market orders are supported live")
        self._send(order)
        return order

    def _request(self, order: bt.Order) -> OrderRequest | None:
        spec = getattr(order.data, "spec", None)
        if spec is None:
            return None
        buy = order.isbuy()
        if order.exectype == bt.Order.Limit:
            limit = round(float(order.created.price), 2)
        else:
            side = float(order.data.ask[0] if buy else order.data.bid[0])
            if not side > 0:
                return None  # no quote to price a marketable limit: wait for one
            limit = marketable_limit(
                buy, side, float(self.p.exit_slippage_pct), float(self.p.exit_slippage_max)
            )
        qty = round(abs(order.created.size) - abs(order.executed.size))
        return OrderRequest(order.info["client_order_id"], spec.option_symbol, "buy" if buy else "sell",
                            qty, limit)  # fmt: skip

    def _send(self, order: bt.Order) -> None:
        if getattr(order.data, "spec", None) is None:
            self._refuse(order, "the order's feed is bound to no contract")
            return
        request = self._request(order)
        if request is None:
            if order not in self._waiting:
                self._waiting.append(order)
            return
        order.addinfo(sent_limit=request.limit_price, sent_at=self._clock_now())
        if self.gate is not None:
            reason = self.gate(request)
            if reason:
                self._refuse(order, reason, request)
                return
        try:
            report = self.venue.submit(request)
        except VenueError as err:
            if err.kind is not VenueErrorKind.LOST_REPLY:
                self._refuse(order, str(err), request)
                return
            found = self._find(request.client_order_id)
            if found is None:
                self._refuse(order, f"the reply to {request.client_order_id} was lost and the venue has no such order; not resent", request)  # fmt: skip
                return
            log.warning("reply lost; %s found at the venue (%s)", request.client_order_id, found.status)
            report = found
            if self.listener is not None:
                why = f"the submit reply was lost; found at the venue by client_order_id ({found.status}), not resent"
                self.listener(
                    OrderEvent(EventKind.LOST, found, self._clock_now() or datetime.now(UTC), message=why)
                )
        self._venue_ids[order.ref] = report.venue_order_id
        if report.status is OrderStatus.REJECTED and order.alive():
            self._refuse(order, report.message or "rejected by the venue")

    def _find(self, coid: str) -> OrderReport | None:
        try:
            return self.venue.find_order(coid)
        except VenueError as err:
            log.error("find_order(%s) failed: %s", coid, err)
            return None

    def _refuse(self, order: bt.Order, reason: str, request: OrderRequest | None = None) -> bt.Order:
        log.warning("order %s rejected: %s", order.info.get("client_order_id"), reason)
        order.addinfo(reject_reason=reason)
        order.reject(self)
        self.notify(order)
        if self.listener is not None and request is not None:
            report = OrderReport("", request.client_order_id, request.option_symbol, request.side, request.qty,
                                 0, request.limit_price, OrderStatus.REJECTED, reason)  # fmt: skip
            self.listener(OrderEvent(EventKind.REJECTED, report, datetime.now(UTC), message=reason))
        return order

    def cancel(self, order: bt.Order) -> None:
        if not order.alive():
            return
        self._cancelled.add(order.ref)  # a cancel wins over a re-pricing in flight
        if order in self._waiting:
            self._waiting.remove(order)
            order.cancel()
            self.notify(order)
            return
        venue_id = self._venue_ids.get(order.ref)
        if venue_id is None:
            return
        try:
            self.venue.cancel(venue_id)
        except VenueError as err:
            log.warning("cancel of %s failed: %s", order.info.get("client_order_id"), err)


__all__ = ["TICK", "SendsOrders", "client_order_id", "marketable_limit"]
