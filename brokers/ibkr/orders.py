"""The order half of ``IBVenue``: DAY limit orders by ``orderRef``, fills per execution, rejections, reconciliation.

A ``placeOrder`` waits (bounded) for IB's acknowledgement (``openOrder``/``orderStatus`` with a
permId); none is a ``lost_reply`` VenueError and the order is then looked up by its orderRef,
never resent. Each ``execDetails`` is one ``Execution`` booked at once, its commission report a
later COMMISSION event; error 201 + ``Inactive`` is a rejection with IB's text. After a reconnect
the executions IB replays that were not booked yet are booked (they happened while away).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from brokers.ibkr import ibapi
from brokers.ibkr.errors import IBError
from brokers.ibkr.loop import awaited
from brokers.ibkr.parsing import action_of, aware_utc, execution_of, occ_of_contract, report_of
from brokers.live.venue import (
    EventKind,
    OrderEvent,
    OrderReport,
    OrderRequest,
    OrderStatus,
    VenueError,
    VenueErrorKind,
)

_ACK_STATES = frozenset({"PreSubmitted", "Submitted", "Filled", "Cancelled", "ApiCancelled", "Inactive"})


class OrdersMixin:
    """Orders of ``IBVenue`` (it provides ``ib``, ``_loop``, ``_run``, ``_classify`` and the state below)."""

    ib: Any
    _loop: Any
    account_number: str
    order_ack_timeout: float
    notices: list[str]
    _run: Callable[..., Any]
    _classify: Callable[..., IBError]
    venue_now: Callable[[], datetime | None]
    qualified: Callable[[str], Any]
    _order_listeners: list[Callable[[OrderEvent], None]]
    _booked: dict[str, int]
    _commissioned: set[str]
    _rejections: dict[int, str]
    _reported: dict[str, OrderStatus]
    _submitted: dict[str, datetime]

    def open_orders(self) -> list[OrderReport]:
        trades = self._run(awaited(self.ib.reqAllOpenOrdersAsync), what="IB open orders")
        return [self._report(t) for t in trades if t.contract.secType == "OPT" and not t.isDone()]

    def find_order(self, client_order_id: str) -> OrderReport | None:
        trade = self._trade_by_ref(client_order_id)
        if trade is None or trade.orderStatus.status in (
            "PendingSubmit",
            "ApiPending",
            "",
        ):  # ask IB, not our cache
            self._run(
                awaited(self.ib.reqAllOpenOrdersAsync), what=f"IB open orders (looking for {client_order_id})"
            )
            trade = self._trade_by_ref(client_order_id)
        if trade is not None:
            return self._report(trade)
        fills = self._run(
            awaited(self.ib.reqExecutionsAsync), what=f"IB executions (looking for {client_order_id})"
        )
        mine = [f for f in fills if f.execution.orderRef == client_order_id]
        if not mine:
            return None
        ex = mine[-1].execution
        return OrderReport(
            venue_order_id=str(ex.permId), client_order_id=client_order_id, option_symbol=occ_of_contract(mine[-1].contract),
            side="buy" if ex.side == "BOT" else "sell", qty=int(ex.cumQty), filled_qty=int(ex.cumQty),
            limit_price=None, status=OrderStatus.FILLED, submitted_at=aware_utc(mine[0].execution.time),
        )  # fmt: skip

    def _report(self, trade: Any, *, message: str = "") -> OrderReport:
        return report_of(trade, message=message, submitted_at=self._submitted.get(trade.order.orderRef))

    def _trade_by_ref(self, client_order_id: str) -> Any:
        found = [t for t in self._loop.call(self.ib.trades) if t.order.orderRef == client_order_id]
        return found[-1] if found else None

    def _trade_by_venue_id(self, venue_order_id: str) -> Any:
        for t in self._loop.call(self.ib.trades):
            if (
                str(t.order.permId or t.orderStatus.permId) == venue_order_id
                or f"o{t.order.orderId}" == venue_order_id
            ):
                return t
        return None

    # ------------------------------------------------------------------ orders
    def submit(self, request: OrderRequest) -> OrderReport:
        contract = self.qualified(request.option_symbol)
        order = ibapi.LimitOrder(action_of(request.side), request.qty, round(float(request.limit_price), 2),
                                 orderRef=request.client_order_id, tif="DAY", account=self.account_number)  # fmt: skip
        self._reported.setdefault(request.client_order_id, OrderStatus.PENDING)
        self._submitted.setdefault(request.client_order_id, self._event_ts())
        trade = self._loop.call(self.ib.placeOrder, contract, order)
        return self._run(
            self._await_ack(trade, request),
            self.order_ack_timeout + 2,
            what=f"order {request.client_order_id}",
        )

    async def _await_ack(self, trade: Any, request: OrderRequest) -> OrderReport:
        deadline = asyncio.get_running_loop().time() + self.order_ack_timeout
        while asyncio.get_running_loop().time() < deadline:
            rejection = self._rejections.get(trade.order.orderId)
            if rejection or trade.orderStatus.status == "Inactive":
                self._reported[request.client_order_id] = OrderStatus.REJECTED
                raise VenueError(
                    VenueErrorKind.REJECTED, rejection or f"IB rejected order {request.client_order_id}"
                )
            last = trade.log[-1] if trade.log else None
            code = int(getattr(last, "errorCode", 0) or 0)
            if code:  # 201 rejections cancel the trade; 321 (read-only, validation) only flags it
                err = self._classify(code, _ib_text(getattr(last, "message", "")), request.option_symbol)
                if err.kind is not None:
                    self._reported[request.client_order_id] = OrderStatus.REJECTED
                    raise err.venue_error()
            if trade.orderStatus.status in _ACK_STATES and (trade.order.permId or trade.orderStatus.permId):
                return self._report(trade)
            await asyncio.sleep(0.01)
        raise VenueError(
            VenueErrorKind.LOST_REPLY,
            f"no acknowledgement from IB for order {request.client_order_id} within {self.order_ack_timeout:g} s: "
            "look it up by its orderRef before any resend",
        )

    def cancel(self, venue_order_id: str) -> None:
        trade = self._trade_by_venue_id(venue_order_id)
        if trade is None:
            self._run(awaited(self.ib.reqAllOpenOrdersAsync), what="IB open orders")
            trade = self._trade_by_venue_id(venue_order_id)
        if trade is None:
            raise VenueError(VenueErrorKind.REJECTED, f"IB has no order {venue_order_id} to cancel")
        if not trade.isDone():
            self._loop.call(self.ib.cancelOrder, trade.order)

    def subscribe_orders(self, on_event: Callable[[OrderEvent], None]) -> None:
        self._order_listeners.append(on_event)

    def _emit(self, event: OrderEvent) -> None:
        for listener in list(self._order_listeners):
            listener(event)

    def _event_ts(self) -> datetime:
        return self.venue_now() or datetime.now(UTC)

    def _on_order_status(self, trade: Any) -> None:
        ref = trade.order.orderRef
        if not ref or trade.contract.secType != "OPT":
            return
        status = trade.orderStatus.status
        last = self._reported.get(ref)
        rejection = self._rejections.get(trade.order.orderId)
        last_log = trade.log[-1] if trade.log else None
        code = int(getattr(last_log, "errorCode", 0) or 0)
        if last is OrderStatus.REJECTED:
            return
        if rejection or status == "Inactive" or (code and code != 202 and status == "Cancelled"):
            message = rejection or (
                self._classify(code, _ib_text(getattr(last_log, "message", ""))).line
                if code
                else "IB rejected the order (Inactive)"
            )
            self._reported[ref] = OrderStatus.REJECTED
            if last is not OrderStatus.PENDING:  # a submit still waiting raises the rejection itself
                self._emit(
                    OrderEvent(
                        EventKind.REJECTED,
                        self._report(trade, message=message),
                        self._event_ts(),
                        message=message,
                    )
                )
            return
        if status in ("Cancelled", "ApiCancelled") and last not in (OrderStatus.CANCELED, OrderStatus.FILLED):
            self._reported[ref] = OrderStatus.CANCELED
            self._emit(OrderEvent(EventKind.CANCELED, self._report(trade), self._event_ts()))
        elif status in ("PreSubmitted", "Submitted") and last in (None, OrderStatus.PENDING):
            self._reported[ref] = OrderStatus.ACCEPTED
            self._emit(OrderEvent(EventKind.ACCEPTED, self._report(trade), self._event_ts()))

    def _on_exec_details(self, trade: Any, fill: Any) -> None:
        self._book(trade, fill)

    def _book(self, trade: Any, fill: Any) -> None:
        ex = fill.execution
        if ex.execId in self._booked or not (trade.order.orderRef or ex.orderRef):
            return
        execution = execution_of(trade, fill)
        self._booked[ex.execId] = execution.qty
        ref = execution.client_order_id
        done = sum(q for e, q in self._booked.items() if e in self._exec_ids_of(trade, ref))
        qty = round(float(trade.order.totalQuantity)) or execution.qty
        if self._reported.get(ref) in (None, OrderStatus.PENDING):
            self._reported[ref] = OrderStatus.ACCEPTED
            self._emit(OrderEvent(EventKind.ACCEPTED, self._report(trade), execution.ts))
        kind = EventKind.FILL if done >= qty else EventKind.PARTIAL_FILL
        report = self._report(trade)
        report = OrderReport(**{**report.__dict__, "filled_qty": done,
                                "status": OrderStatus.FILLED if done >= qty else OrderStatus.PARTIALLY_FILLED})  # fmt: skip
        if done >= qty:
            self._reported[ref] = OrderStatus.FILLED
        self._emit(OrderEvent(kind, report, execution.ts, execution=execution))

    def _exec_ids_of(self, trade: Any, ref: str) -> set[str]:
        ids = {f.execution.execId for f in trade.fills}
        ids.update(f.execution.execId for f in self.ib.fills() if f.execution.orderRef == ref)
        return ids

    def _on_commission(self, trade: Any, fill: Any, report: Any) -> None:
        ex = fill.execution
        if ex.execId not in self._booked or ex.execId in self._commissioned:
            return
        self._commissioned.add(ex.execId)
        execution = execution_of(trade, fill, commission=float(report.commission))
        self._emit(OrderEvent(EventKind.COMMISSION, self._report(trade), execution.ts, execution=execution))

    async def _reconcile_executions(self) -> None:
        """Book the executions that happened while the session was down (IB replays them on request)."""
        try:
            fills = await self.ib.reqExecutionsAsync()
        except Exception as exc:
            self.notices.append(f"IB executions after reconnect: {exc}")
            return
        trades = {t.order.permId: t for t in self.ib.trades()}
        for fill in sorted(fills, key=lambda f: f.execution.time):
            ex = fill.execution
            if ex.execId in self._booked or not ex.orderRef:
                continue
            trade = trades.get(ex.permId)
            if trade is None:
                trade = _FilledTrade(fill)
            self._book(trade, fill)
            cr = fill.commissionReport
            if cr is not None and cr.execId and ex.execId not in self._commissioned:
                self._on_commission(trade, fill, cr)


class _FilledTrade:
    """A stand-in ``Trade`` for an order of a previous session known only from its executions."""

    def __init__(self, fill: Any) -> None:
        ex = fill.execution
        self.contract = fill.contract
        self.fills = [fill]
        self.log: list[Any] = []
        self.order = ibapi.LimitOrder(
            "BUY" if ex.side == "BOT" else "SELL", ex.cumQty, ex.price, orderRef=ex.orderRef
        )
        self.order.permId, self.order.orderId = ex.permId, ex.orderId
        self.orderStatus = type("S", (), {"status": "Filled", "filled": ex.cumQty, "permId": ex.permId})()

    def isDone(self) -> bool:
        return True


def _ib_text(message: str) -> str:
    """IB's own text out of ib_async's ``Error 201, reqId 7: <text>`` log message."""
    return message.split(": ", 1)[1] if ": " in message else message
