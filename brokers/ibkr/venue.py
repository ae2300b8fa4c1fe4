"""``IBVenue``: the live venue protocol on an ib_async (or ib_insync) ``IB`` session.

The IB client runs on its own asyncio loop thread (``brokers/ibkr/loop.py``); every public
method is called from another thread (Backtrader's) and waits on that loop with a timeout,
and every callback (bars, quotes, order events, status) is called on the loop thread.
Market data (bars, the chain band, bound contracts) lives in ``brokers/ibkr/streams.py``.

Orders: a DAY limit order tagged ``orderRef = client_order_id``; each ``execDetails`` is
one ``Execution`` booked at once (IB's commission report, when it comes, follows as a
COMMISSION event); error 201 + ``Inactive`` is a rejection with IB's text. ib_async has no
automatic reconnect: a dropped session is reconnected with backoff, resubscribed and
reconciled (executions missed while away are booked), each step reported via ``on_status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from brokers.ibkr import ibapi
from brokers.ibkr.config import IBConfig, config_from, is_paper_account
from brokers.ibkr.errors import Connectivity, IBError, classify, not_listening
from brokers.ibkr.loop import IBLoop, LoopTimeout, awaited
from brokers.ibkr.parsing import (
    action_of,
    aware_utc,
    execution_of,
    occ_of_contract,
    report_of,
)
from brokers.ibkr.streams import StreamsMixin
from brokers.live.venue import (
    STREAM_BARS,
    STREAM_ORDERS,
    STREAM_QUOTES,
    AccountReport,
    ConnectionListener,
    EventKind,
    LiveVenue,
    OrderEvent,
    OrderReport,
    OrderRequest,
    OrderStatus,
    PositionReport,
    VenueClock,
    VenueError,
    VenueErrorKind,
)
from options_scalper.calendar import (
    is_market_open,
    is_session,
    next_session,
    session_date,
    session_open_close,
)

STREAMS = (STREAM_BARS, STREAM_QUOTES, STREAM_ORDERS)
_ACK_STATES = frozenset({"PreSubmitted", "Submitted", "Filled", "Cancelled", "ApiCancelled", "Inactive"})


class IBVenue(StreamsMixin):
    """One IB API session (TWS or IB Gateway) as a ``LiveVenue``."""

    name = "ibkr"

    def __init__(self, config: IBConfig | None = None, *, order_ack_timeout: float = 5.0) -> None:
        self.config = config or IBConfig()
        self.order_ack_timeout = order_ack_timeout
        self.library = ibapi.LIBRARY
        self.account_number = ""
        self.ib: Any = None
        self._loop = IBLoop()
        self._status_listeners: list[ConnectionListener] = []
        self._order_listeners: list[Callable[[OrderEvent], None]] = []
        self._booked: dict[str, int] = {}  # execId -> qty booked
        self._commissioned: set[str] = set()
        self._rejections: dict[int, str] = {}  # orderId -> our line with IB's text
        self._reported: dict[str, OrderStatus] = {}  # orderRef -> last status sent as an event
        self._connect_errors: list[IBError] = []
        self._submitted: dict[str, datetime] = {}  # orderRef -> venue time of the submit
        self._closing = False
        self._reconnecting = False
        self._tasks: set[asyncio.Future[Any]] = set()
        self.reconnects = 0
        self.notices: list[str] = []  # one line per IB notice/warning the user may want to see
        StreamsMixin.__init__(self)

    # ------------------------------------------------------------------ plumbing
    def _run(self, coro: Any, timeout: float | None = None, *, what: str = "IB request") -> Any:
        try:
            return self._loop.run(coro, self.config.request_timeout if timeout is None else timeout)
        except LoopTimeout:
            raise VenueError(VenueErrorKind.LOST_REPLY, f"{what}: no answer from IB at {self._where} within "
                             f"{self.config.request_timeout:g} s") from None  # fmt: skip

    @property
    def _where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def _status(self, stream: str, connected: bool, message: str) -> None:
        for listener in list(self._status_listeners):
            listener(stream, connected, message)

    def _classify(self, code: int, text: str, what: str = "") -> IBError:
        c = self.config
        return classify(code, text, what=what, host=c.host, port=c.port, client_id=c.client_id)

    def _request_error(self, exc: BaseException, what: str) -> VenueError:
        code = int(getattr(exc, "code", 0) or 0)
        text = str(getattr(exc, "message", "") or exc)
        return self._classify(code, text, what).venue_error()

    # ------------------------------------------------------------------ connection
    def connect(self) -> None:
        self.config.check_port()
        self._closing = False
        self._loop.start()
        self._run(self._create_ib(), 10)
        self._run(
            self._connect_once(),
            self.config.connect_timeout * 3 + 5,
            what=f"connecting to IB at {self._where}",
        )
        for stream in STREAMS:
            self._status(
                stream, True, f"IB session {self._where} client id {self.config.client_id} ({self.library})"
            )

    async def _create_ib(self) -> None:
        if self.ib is not None:
            return
        ib = ibapi.IB()
        ib.RaiseRequestErrors = True
        ib.errorEvent += self._on_error
        ib.disconnectedEvent += self._on_disconnected
        ib.orderStatusEvent += self._on_order_status
        ib.execDetailsEvent += self._on_exec_details
        ib.commissionReportEvent += self._on_commission
        ib.pendingTickersEvent += self._on_tickers
        ib.updateEvent += self._on_packet
        self.ib = ib

    async def _connect_once(self) -> None:
        c = self.config
        self._connect_errors = []
        try:
            task = asyncio.ensure_future(self.ib.connectAsync(c.host, c.port, clientId=c.client_id, timeout=c.connect_timeout,
                                                              readonly=c.readonly, account=c.account))  # fmt: skip
            while (
                not task.done()
            ):  # IB refuses a client id in use with 326 and hangs up: do not wait the timeout
                if any(e.kind is VenueErrorKind.AUTH for e in self._connect_errors):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                    raise ConnectionError("refused")
                await asyncio.sleep(0.02)
            await task
        except ConnectionRefusedError:
            raise not_listening(c.host, c.port) from None
        except (TimeoutError, ConnectionError, OSError) as exc:
            self.ib.disconnect()
            for err in self._connect_errors:
                if err.kind is not None:
                    raise err.venue_error() from None
            raise VenueError(
                VenueErrorKind.NETWORK,
                f"IB at {c.host}:{c.port} did not complete the API handshake ({exc.__class__.__name__}: {exc}): "
                "is it TWS/IB Gateway with 'Enable ActiveX and Socket Clients' on, and this host trusted?",
            ) from None
        accounts = list(self.ib.managedAccounts())
        try:
            self.account_number = c.check_account(accounts)
        except VenueError:
            self.ib.disconnect()
            raise
        if c.allow_delayed:
            self.ib.reqMarketDataType(3)  # delayed where there is no subscription, live where there is
        self._advance(aware_utc(await self.ib.reqCurrentTimeAsync()))  # venue time until the first bar

    def close(self) -> None:
        if self._loop.loop is None:
            return
        self._closing = True
        with contextlib.suppress(LoopTimeout, RuntimeError):
            self._loop.call(self._disconnect, timeout=5)
        self._loop.stop()

    def _disconnect(self) -> None:
        if self.ib is not None and self.ib.isConnected():
            self.ib.disconnect()

    def on_status(self, listener: ConnectionListener) -> None:
        self._status_listeners.append(listener)

    def _on_disconnected(self) -> None:
        if self._closing or self._reconnecting:
            return
        for stream in STREAMS:
            self._status(stream, False, f"IB session {self._where} dropped: reconnecting")
        self._tasks.add(asyncio.ensure_future(self._reconnect()))

    async def _reconnect(self) -> None:
        self._reconnecting = True
        delay = self.config.reconnect_initial
        try:
            while not self._closing:
                await asyncio.sleep(delay)
                try:
                    await self._connect_once()
                except VenueError as err:
                    if err.kind in (VenueErrorKind.AUTH, VenueErrorKind.LIVE_ACCOUNT):
                        for stream in STREAMS:
                            self._status(stream, False, str(err))
                        return
                    delay = min(delay * 2, self.config.reconnect_max)
                    continue
                self.reconnects += 1
                await self._resubscribe()
                await self._reconcile_executions()
                for stream in STREAMS:
                    self._status(stream, True, f"IB session {self._where} back (reconnect {self.reconnects})")
                return
        finally:
            self._reconnecting = False

    def _on_error(self, req_id: int, code: int, text: str, contract: Any = None) -> None:
        what = ""
        if contract is not None and getattr(contract, "secType", "") == "OPT":
            what = occ_of_contract(contract)
        elif contract is not None:
            what = getattr(contract, "symbol", "")
        err = self._classify(code, text, what)
        if err.ignored:
            return
        if not self.ib.isConnected() or not self.account_number:
            self._connect_errors.append(err)
        if err.connectivity is Connectivity.LOST:
            for stream in STREAMS:
                self._status(stream, False, err.line)
            return
        if err.connectivity is not None:
            if err.connectivity is Connectivity.RESTORED_DATA_LOST:
                self._tasks.add(asyncio.ensure_future(self._resubscribe()))
            for stream in STREAMS:
                self._status(stream, True, err.line)
            return
        if err.kind is VenueErrorKind.REJECTED and code in (201, 202):
            self._rejections[req_id] = err.line
        self._stream_error(req_id, err)
        self.notices.append(err.line)

    # ------------------------------------------------------------------ account
    def clock(self) -> VenueClock:
        now = aware_utc(self._run(awaited(self.ib.reqCurrentTimeAsync), what="IB current time"))
        day = session_date(now)
        open_, close = session_open_close(day if is_session(day) else next_session(day))
        if now >= close:
            open_, close = session_open_close(next_session(day))
        if now >= open_:  # in the session: the next open is the next session's
            return VenueClock(now, is_market_open(now), session_open_close(next_session(day))[0], close)
        return VenueClock(now, is_market_open(now), open_, close)

    def account(self) -> AccountReport:
        values = self._loop.call(self.ib.accountValues, self.account_number)
        by_tag = {(v.tag, v.currency): v.value for v in values}

        def num(tag: str) -> float:
            raw = by_tag.get((tag, "USD"), by_tag.get((tag, "BASE"), "nan"))
            try:
                return float(raw)
            except ValueError:
                return math.nan

        cash = num("TotalCashValue")
        return AccountReport(
            account_number=self.account_number,
            cash=cash,
            equity=num("NetLiquidation"),
            buying_power=num("BuyingPower") if num("BuyingPower") == num("BuyingPower") else cash,
            paper=is_paper_account(self.account_number),
        )

    def positions(self) -> list[PositionReport]:
        out = []
        for p in self._loop.call(self.ib.positions, self.account_number):
            c = p.contract
            if not p.position:
                continue
            if c.secType == "OPT":
                mult = float(c.multiplier or 100) or 100.0
                out.append(PositionReport(occ_of_contract(c), int(p.position), float(p.avgCost) / mult))
            else:
                out.append(PositionReport(c.symbol, int(p.position), float(p.avgCost), asset_class="equity"))
        return out

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


def venue_from_environment(options: Mapping[str, Any], env: Mapping[str, str]) -> LiveVenue:
    """The IB venue the CLI asked for: ``--host/--port/--client-id`` or ``IB_HOST/IB_PORT/IB_CLIENT_ID``."""
    venue: LiveVenue = IBVenue(config_from(options, env))
    return venue


__all__ = ["IBVenue", "venue_from_environment"]
