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
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from brokers.ibkr import ibapi
from brokers.ibkr.config import IBConfig, config_from, is_paper_account
from brokers.ibkr.errors import Connectivity, IBError, classify, not_listening
from brokers.ibkr.loop import IBLoop, LoopTimeout, awaited
from brokers.ibkr.orders import OrdersMixin
from brokers.ibkr.parsing import (
    aware_utc,
    occ_of_contract,
)
from brokers.ibkr.streams import StreamsMixin
from brokers.live.venue import (
    STREAM_BARS,
    STREAM_ORDERS,
    STREAM_QUOTES,
    AccountReport,
    ConnectionListener,
    LiveVenue,
    OrderEvent,
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


class IBVenue(OrdersMixin, StreamsMixin):
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
        self._loop.spawn(self._watch_bars())

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
        ib.client.throttleStart += lambda: self._on_throttle(True)
        ib.client.throttleEnd += lambda: self._on_throttle(False)
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
        self._on_throttle(False)  # the client drops its queued requests with the socket
        if self._closing or self._reconnecting:
            return
        for stream in STREAMS:
            self._status(stream, False, f"IB session {self._where} dropped: reconnecting")
        self._tasks.add(asyncio.ensure_future(self._reconnect()))

    async def _watch_bars(self) -> None:
        """A connected bar stream silent for ``data_timeout`` wall seconds counts as down: reconnect it."""
        while not self._closing:
            await asyncio.sleep(min(1.0, self.config.data_timeout / 4))
            silent = time.monotonic() - self._bars_heard
            if (
                self._bar_lists
                and (self._now is None or is_market_open(self._now))  # venue time: no alarm after the close
                and self.ib.isConnected()
                and not self._reconnecting
                and silent > self.config.data_timeout
            ):
                line = f"IB bar stream silent for {silent:.0f} s (data timeout {self.config.data_timeout:g} s): reconnecting"
                self.notices.append(line)
                self._status(STREAM_BARS, False, line)
                self._bars_heard = time.monotonic()
                self.ib.disconnect()  # -> _on_disconnected -> _reconnect (resubscribe, then the clock backfills)

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


def venue_from_environment(options: Mapping[str, Any], env: Mapping[str, str]) -> LiveVenue:
    """The IB venue the CLI asked for: ``--host/--port/--client-id`` or ``IB_HOST/IB_PORT/IB_CLIENT_ID``."""
    venue: LiveVenue = IBVenue(config_from(options, env))
    return venue


__all__ = ["IBVenue", "venue_from_environment"]
