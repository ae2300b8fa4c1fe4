"""``FakeTWS``: an asyncio TCP server on 127.0.0.1 speaking the TWS API protocol (server v176).

It serves a ``ReplayMarket`` (``tests/support/replay_market.py``): the underlying's bars and
the option quotes of the replayed day, orders filled by the backtest's rules. The real
``ib_async.IB`` / ``ib_insync.IB`` client connects to it unmodified. The server runs its own
event loop on a thread (``start()``/``stop()``); market callbacks hop onto that loop.

Faults (``self.faults``, a ``Faults``) script what goes wrong; ``drop_connections()`` cuts
every socket (a gateway restart), ``connectivity_blip()`` sends 1100 then 1102.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from brokers.live.venue import EventKind, OrderEvent, OrderRequest, OrderStatus
from tests.support.fake_tws import protocol as P
from tests.support.fake_tws.faults import Faults
from tests.support.fake_tws.protocol import FakeContract, RequestContract
from tests.support.fake_tws.universe import Universe

log = logging.getLogger("fake_tws")
ACCOUNT = "DU1234567"
MINUTE = timedelta(minutes=1)


@dataclass
class FakeOrder:
    order_id: int
    client_id: int
    perm_id: int
    contract: FakeContract
    action: str
    qty: float
    lmt: float
    tif: str
    order_ref: str
    venue_order_id: str = ""
    status: str = "PreSubmitted"
    filled: float = 0.0
    notional: float = 0.0
    last_price: float = 0.0
    placed_at: datetime | None = None  # the replay's minute when the placeOrder arrived

    @property
    def avg(self) -> float:
        return self.notional / self.filled if self.filled else 0.0


@dataclass
class FakeExecution:
    order: FakeOrder
    exec_id: str
    ts: datetime
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    commission: float
    commission_sent: bool = False
    due: datetime | None = None  # a late commission report goes out at this minute


@dataclass
class Subscription:
    req_id: int
    contract: FakeContract
    kind: str  # bars | ticks
    delayed: bool = False
    last_sent: tuple[float, float, float, float] | None = None
    generic: frozenset[str] = frozenset()  # the generic tick list asked for (101: open interest)
    oi_sent: float | None = None


@dataclass
class Session:
    writer: asyncio.StreamWriter
    client_id: int = -1
    ready: bool = False
    subs: dict[int, Subscription] = field(default_factory=dict)
    market_data_type: int = 1

    batch: list[bytes] | None = None

    def send(self, fields: list[Any]) -> None:
        if self.batch is not None:
            self.batch.append(P.frame(fields))
        elif not self.writer.is_closing():
            self.writer.write(P.frame(fields))

    def flush(self) -> None:
        """One write for a minute's burst (its bar, then its quotes), as TWS streams them together."""
        frames, self.batch = self.batch or [], None
        if frames and not self.writer.is_closing():
            self.writer.write(b"".join(frames))


class FakeTWS:
    """The loopback TWS. ``port`` 0 picks a free one (read ``.port`` after ``start()``).

    ``bare_underlyings``: stocks TWS also knows that list no options (reqSecDefOptParams
    answers them with its end message only, as TWS does).
    """

    def __init__(
        self, market: Any, *, port: int = 0, account: str = ACCOUNT, bare_underlyings: Sequence[str] = ()
    ) -> None:
        self.market = market
        self.faults = Faults()
        self.account = account
        self.universe = Universe.from_catalog(market.catalog, market.symbols, market.day, bare_underlyings)
        self.requested_port = port
        self.port = 0
        self.sessions: list[Session] = []
        self.orders: dict[int, FakeOrder] = {}  # perm id -> order
        self.executions: list[FakeExecution] = []
        self.received: list[list[str]] = []  # every request (tests count pacing, resubscriptions)
        self._perm = itertools.count(1_000_001)
        self._next_order_id = 1
        self._greeks_at: tuple[str, datetime] | None = None
        self._greeks: dict[str, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        market.on_minute(self._from_market(self._on_minute))
        market.on_event(self._from_market(self._on_market_event))

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> FakeTWS:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", self.requested_port)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-tws", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self.call(self._close_all)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the server's loop and wait for it (tests script the fake with it)."""
        assert self._loop is not None

        async def wrapped() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(wrapped(), self._loop).result(10)

    def _from_market(self, fn: Any) -> Any:
        def hop(*args: Any) -> None:
            loop = self._loop
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(fn, *args)

        return hop

    def _close_all(self) -> None:
        for s in list(self.sessions):
            s.writer.close()
        self.sessions.clear()

    def drop_connections(self) -> None:
        """Cut every client socket (the nightly gateway restart); orders and positions survive."""
        self.call(self._close_all)

    def connectivity_blip(self) -> None:
        """TWS lost IB (1100) and got it back with subscriptions kept (1102)."""

        def blip() -> None:
            for s in self.sessions:
                s.send(P.error(-1, 1100, "Connectivity between IB and Trader Workstation has been lost."))
                s.send(
                    P.error(
                        -1,
                        1102,
                        "Connectivity between IB and Trader Workstation has been restored - data maintained.",
                    )
                )

        self.call(blip)

    def bar_subscribers(self) -> int:
        """Sessions streaming keepUpToDate bars (a driver starts the replay once a client listens)."""
        return sum(any(x.kind == "bars" for x in list(s.subs.values())) for s in list(self.sessions))

    def requests(self, msg_id: int) -> list[list[str]]:
        return [f for f in self.received if f and f[0] == str(msg_id)]

    def placed(self) -> list[FakeOrder]:
        """Every order a client placed (in placement order): its orderRef, client id, action, status."""
        if self._loop is None:  # stopped: nothing changes them any more
            return list(self.orders.values())
        return self.call(lambda: list(self.orders.values()))

    def working(self) -> list[FakeOrder]:
        """The placed orders still working (Submitted / PreSubmitted)."""
        return [o for o in self.placed() if o.status in ("Submitted", "PreSubmitted")]

    def hold(self, option_symbol: str, qty: int, avg_price: float) -> None:
        """Put a position into the account (bought by hand in TWS: no order of ours, no journal row)."""
        if option_symbol not in self.universe.options:
            raise ValueError(f"{option_symbol}: not in the fake's universe")
        market = self.market
        with market._lock:
            market.book.holdings[option_symbol] = (int(qty), float(avg_price))

    # ----------------------------------------------------------------- connection
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.faults.refuse_connections:
            writer.close()
            return
        session = Session(writer)
        try:
            if await reader.readexactly(4) != b"API\0":
                return
            await P.read_frame(reader)  # "v157..178" (client version range)
            stamp = self.market.now().strftime("%Y%m%d %H:%M:%S") + " UTC"
            writer.write(P.frame([P.SERVER_VERSION, stamp]))
            while True:
                fields = await P.read_frame(reader)
                self.received.append(fields)
                self._handle(session, fields)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception:
            log.exception("fake TWS: request failed")
        finally:
            if session in self.sessions:
                self.sessions.remove(session)
            writer.close()

    def _handle(self, s: Session, f: list[str]) -> None:
        handler = _HANDLERS.get(int(f[0]))
        if handler is not None:
            handler(self, s, f)

    def _start_api(self, s: Session, f: list[str]) -> None:
        client_id = int(f[2])
        busy = client_id in self.faults.busy_client_ids or any(
            x.client_id == client_id for x in self.sessions
        )
        if busy:
            s.send(
                P.error(
                    -1,
                    326,
                    "Unable to connect as the client id is already in use. Retry with a unique client id.",
                )
            )
            s.writer.close()
            return
        s.client_id, s.ready = client_id, True
        self.sessions.append(s)
        s.send([15, 1, self.account])
        s.send([9, 1, self._next_order_id])
        s.send(P.error(-1, 2104, "Market data farm connection is OK:usopt"))
        s.send(P.error(-1, 2106, "HMDS data farm connection is OK:ushmds"))
        s.send(P.error(-1, 2158, "Sec-def data farm connection is OK:secdefnj"))

    # ----------------------------------------------------------------- account
    def _positions(self, s: Session, f: list[str]) -> None:
        for p in self.market.positions():
            c = self.universe.options.get(p.symbol)
            if c is not None:
                s.send([61, 3, self.account, *c.fields11(), float(p.qty), p.avg_price * 100.0])
        s.send([62, 1])

    def _account_values(self) -> list[tuple[str, float]]:
        a = self.market.account()
        return [("NetLiquidation", a.equity), ("TotalCashValue", a.cash), ("BuyingPower", a.buying_power),
                ("AvailableFunds", a.buying_power), ("CashBalance", a.cash)]  # fmt: skip

    def _account_updates(self, s: Session, f: list[str]) -> None:
        if f[2] != "1":
            return
        for key, value in self._account_values():
            s.send([6, 2, key, value, "USD", self.account])
        s.send([6, 2, "AccountCode", self.account, "", self.account])
        s.send([8, 1, self.market.now().strftime("%H:%M")])
        s.send([54, 1, self.account])

    def _account_updates_multi(self, s: Session, f: list[str]) -> None:
        req_id = int(f[2])
        for key, value in self._account_values():
            s.send([73, 1, req_id, self.account, "", key, value, "USD"])
        s.send([74, 1, req_id])

    def _account_summary(self, s: Session, f: list[str]) -> None:
        req_id = int(f[2])
        for key, value in self._account_values():
            s.send([63, 1, req_id, self.account, key, value, "USD"])
        s.send([63, 1, req_id, self.account, "AccountType", "INDIVIDUAL", ""])
        s.send([64, 1, req_id])

    def _current_time(self, s: Session, f: list[str]) -> None:
        s.send([49, 1, int(self.market.now().timestamp())])

    def _req_ids(self, s: Session, f: list[str]) -> None:
        s.send([9, 1, self._next_order_id])

    # ----------------------------------------------------------------- contracts
    def _contract_details(self, s: Session, f: list[str]) -> None:
        req_id = int(f[2])
        req, _ = RequestContract.take(f, 3)
        found = self.universe.match(req)
        if not found:
            s.send(P.error(req_id, 200, "No security definition has been found for the request"))
            return
        for c in found:
            under = self.universe.underlyings.get(c.symbol)
            s.send(P.contract_details(
                req_id, c if c.sec_type != "OPT" else _with_exchange(c, req.exchange or "SMART"),
                liquid_hours=self._liquid_hours(), under_con_id=under.con_id if under and c.sec_type == "OPT" else 0,
                under_symbol=c.symbol if c.sec_type == "OPT" else "", under_sec_type=under.sec_type if under and c.sec_type == "OPT" else "",
            ))  # fmt: skip
        s.send([52, 1, req_id])

    def _liquid_hours(self) -> str:
        o = self.market.open_utc.astimezone(_ET)
        c = self.market.close_utc.astimezone(_ET)
        return f"{o:%Y%m%d}:{o:%H%M}-{c:%Y%m%d}:{c:%H%M}"

    def _sec_def_params(self, s: Session, f: list[str]) -> None:
        req_id, symbol = int(f[1]), f[2]
        under = self.universe.underlyings.get(symbol)
        if under is None:
            s.send(P.error(req_id, 200, "No security definition has been found for the request"))
            return
        for tc, (exps, strikes) in sorted(self.universe.chains(symbol).items()):
            for exchange in ("SMART", "CBOE"):
                s.send(P.sec_def_param(req_id, exchange, under.con_id, tc, exps, strikes))
        s.send([76, req_id])

    # ----------------------------------------------------------------- market data
    def _market_data_type(self, s: Session, f: list[str]) -> None:
        s.market_data_type = int(f[2])

    def _mkt_data(self, s: Session, f: list[str]) -> None:
        req_id = int(f[2])
        req, at = RequestContract.take(f, 3)
        found = self.universe.match(req)
        if len(found) != 1:
            s.send(P.error(req_id, 200, "No security definition has been found for the request"))
            return
        c = found[0]
        if c.sec_type == "OPT" and self.faults.no_market_data:
            s.send(P.error(req_id, 354, "Requested market data is not subscribed."))
            return
        at += 4 if f[at] == "1" else 1  # the delta-neutral flag (and its contract)
        generic = frozenset(x.strip() for x in f[at].split(",") if x.strip()) if at < len(f) else frozenset()
        sub = Subscription(req_id, c, "ticks", delayed=self.faults.delayed, generic=generic)
        s.subs[req_id] = sub
        if sub.delayed:
            s.send(
                P.error(
                    req_id, 10167, "Requested market data is not subscribed. Displaying delayed market data."
                )
            )
            s.send([58, 1, req_id, 3])
        self._send_ticks(s, sub)

    def _cancel_mkt_data(self, s: Session, f: list[str]) -> None:
        s.subs.pop(int(f[2]), None)

    def _send_ticks(self, s: Session, sub: Subscription) -> None:
        c = sub.contract
        if c.sec_type != "OPT":
            px = self.market.last_price(c.symbol)
            if px == px:
                s.send([1, 6, sub.req_id, 68 if sub.delayed else 4, px, 0, 0])
            return
        if "101" in sub.generic:
            self._send_open_interest(s, sub)
        q = self.market.quote(c.occ)
        if q is None:
            return
        key = (q.bid, q.ask, q.bid_size, q.ask_size)
        if key == sub.last_sent:
            return
        sub.last_sent = key
        g = self._model_greeks(c)  # computed before anything goes out: one burst per line and minute
        bid_t, ask_t, bsz_t, asz_t = (66, 67, 69, 70) if sub.delayed else (1, 2, 0, 3)
        s.send([1, 6, sub.req_id, bid_t, q.bid if q.bid > 0 else -1.0, q.bid_size, 0])
        s.send([1, 6, sub.req_id, ask_t, q.ask if q.ask > 0 else -1.0, q.ask_size, 0])
        s.send([2, 6, sub.req_id, bsz_t, q.bid_size])
        s.send([2, 6, sub.req_id, asz_t, q.ask_size])
        if g is not None:
            iv, delta, gamma, vega, theta, under = g
            mid = (q.bid + q.ask) / 2.0
            s.send(
                [21, sub.req_id, 83 if sub.delayed else 13, 1, iv, delta, mid, 0.0, gamma, vega, theta, under]
            )

    def _send_open_interest(self, s: Session, sub: Subscription) -> None:
        """Generic tick 101 on an option: its open interest as published by now, tick 27 for a call and
        28 for a put, sent when the line opens and again when the figure changes (as TWS does)."""
        c = sub.contract
        oi = self.market.open_interest(c.symbol).get(c.occ)
        if oi is None or oi == sub.oi_sent:
            return
        sub.oi_sent = oi
        s.send([2, 6, sub.req_id, 27 if c.right == "C" else 28, int(oi)])

    def _model_greeks(self, c: FakeContract) -> tuple[float, ...] | None:
        from brokers.live.venue import ChainRequest

        now = self.market.now()
        if self._greeks_at != (c.symbol, now):  # the whole chain's model once per minute, not per line
            self._greeks_at = (c.symbol, now)
            self._greeks = {
                q.option_symbol: q for q in self.market.chain(ChainRequest(c.symbol, [], 0.0, 1e12))
            }
        q = self._greeks.get(c.occ)
        if q is not None and q.iv is not None and q.delta is not None:
            return (
                q.iv,
                q.delta,
                q.gamma or 0.0,
                q.vega or 0.0,
                q.theta or 0.0,
                self.market.last_price(c.symbol),
            )
        return None

    def _historical(self, s: Session, f: list[str]) -> None:
        req_id = int(f[1])
        req, at = RequestContract.take(f, 2)
        _include_expired, end_text, bar_size, duration, _rth, _what, fmt_date = f[at : at + 7]
        keep_up = f[at + 7] == "1" if len(f) > at + 7 else False
        if self.faults.pacing_next > 0:
            self.faults.pacing_next -= 1
            s.send(
                P.error(
                    req_id,
                    162,
                    "Historical Market Data Service error message:API historical data query cancelled: pacing violation",
                )
            )
            return
        found = self.universe.match(req)
        if len(found) != 1 or found[0].sec_type == "OPT":
            s.send(P.error(req_id, 200, "No security definition has been found for the request"))
            return
        if bar_size.strip() != "1 min":
            s.send(
                P.error(
                    req_id,
                    321,
                    f"Error validating request: the fake serves '1 min' bars only, not {bar_size!r}",
                )
            )
            return
        c = found[0]
        now = self.market.now()
        end = _parse_end(end_text) if end_text else now
        start = end - _parse_duration(duration)
        bars = self.market.bars(c.symbol, start, min(end, now))
        rows: list[Any] = []
        for b in bars:
            rows += [_stamp(b.start, fmt_date), b.open, b.high, b.low, b.close, b.volume, b.close, 1]
        n = len(bars)
        if keep_up:
            last = bars[-1].close if bars else self.market.last_price(c.symbol)
            rows += [_stamp(now, fmt_date), last, last, last, last, 0.0, last, 0]
            n += 1
            s.subs[req_id] = Subscription(req_id, c, "bars")
        s.send([17, req_id, _stamp(start, "1"), _stamp(end, "1"), n, *rows])

    def _cancel_historical(self, s: Session, f: list[str]) -> None:
        s.subs.pop(int(f[2]) if len(f) > 2 else int(f[1]), None)

    def _on_minute(self, now: datetime) -> None:
        for s in self.sessions:
            s.batch = []
        try:
            self._publish(now)
        finally:
            for s in self.sessions:
                s.flush()

    def _publish(self, now: datetime) -> None:
        for kind in ("bars", "ticks"):  # the bar closing at ``now`` first, then the new minute's quotes
            for s in list(self.sessions):
                for sub in [x for x in s.subs.values() if x.kind == kind]:
                    if kind == "bars":
                        self._push_bar(s, sub, now)
                    else:
                        self._send_ticks(s, sub)
        for x in self.executions:
            if not x.commission_sent and x.due is not None and now >= x.due:
                self._send_commission(x)

    def _push_bar(self, s: Session, sub: Subscription, now: datetime) -> None:
        if self.faults.mute_bars:
            return
        closed = self.market.bars(sub.contract.symbol, now - MINUTE, now)
        if not closed:
            return
        b = closed[-1]
        s.send([90, sub.req_id, 1, _stamp(b.start, "2"), b.open, b.close, b.high, b.low, b.close, b.volume])
        s.send([90, sub.req_id, 0, _stamp(now, "2"), b.close, b.close, b.close, b.close, b.close, 0.0])

    # ----------------------------------------------------------------- orders
    def _place_order(self, s: Session, f: list[str]) -> None:
        order_id = int(f[1])
        req, at = RequestContract.take(f, 2)
        (
            _sec_id_type,
            _sec_id,
            action,
            qty,
            order_type,
            lmt,
            _aux,
            tif,
            _oca,
            _acct,
            _oc,
            _origin,
            order_ref,
        ) = f[at : at + 13]
        self._next_order_id = max(self._next_order_id, order_id + 1)
        if self.faults.readonly:
            s.send(
                P.error(
                    order_id,
                    321,
                    "Error validating request.-'bN' : cause - The API interface is currently in Read-Only mode.",
                )
            )
            return
        found = self.universe.match(req)
        if len(found) != 1:
            s.send(P.error(order_id, 200, "No security definition has been found for the request"))
            return
        if order_type != "LMT":
            s.send(P.error(order_id, 387, f"the fake accepts LMT orders only, not {order_type}"))
            return
        c = found[0]
        o = FakeOrder(
            order_id, s.client_id, next(self._perm), c, action, float(qty), float(lmt), tif, order_ref,
            placed_at=self.market.now(),
        )  # fmt: skip
        self.orders[o.perm_id] = o
        if self.faults.reject_next is not None:
            text, self.faults.reject_next = self.faults.reject_next, None
            o.status = "Inactive"
            s.send(P.error(order_id, 201, f"Order rejected - reason:{text}"))
            s.send(P.order_status(order_id, "Inactive", 0.0, o.qty, 0.0, o.perm_id, 0.0, s.client_id))
            return
        lose = self.faults.lose_next_reply
        self.faults.lose_next_reply = False
        report = self.market.submit(
            OrderRequest(order_ref, c.occ, "buy" if action == "BUY" else "sell", int(o.qty), o.lmt)
        )
        o.venue_order_id = report.venue_order_id
        if report.status is OrderStatus.REJECTED:
            o.status = "Inactive"
            if not lose:
                s.send(P.error(order_id, 201, f"Order rejected - reason:{report.message}"))
                s.send(P.order_status(order_id, "Inactive", 0.0, o.qty, 0.0, o.perm_id, 0.0, s.client_id))
            return
        o.status = "Submitted"
        if not lose:
            self._send_order(s, o)

    def _send_order(self, s: Session, o: FakeOrder) -> None:
        s.send(P.open_order(
            o.order_id, o.contract, action=o.action, qty=o.qty, lmt=o.lmt, tif=o.tif, account=self.account,
            order_ref=o.order_ref, client_id=o.client_id, perm_id=o.perm_id, status=o.status,
        ))  # fmt: skip
        s.send(
            P.order_status(
                o.order_id, o.status, o.filled, o.qty - o.filled, o.avg, o.perm_id, o.last_price, o.client_id
            )
        )

    def _cancel_order(self, s: Session, f: list[str]) -> None:
        order_id = int(f[2])
        o = next(
            (x for x in self.orders.values() if x.order_id == order_id and x.client_id == s.client_id), None
        )
        if o is None or o.status in ("Filled", "Cancelled", "Inactive"):
            s.send(P.error(order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."))
            return
        self.market.cancel(o.venue_order_id)

    def _open_orders(self, s: Session, f: list[str], *, every_client: bool = False) -> None:
        for o in self.orders.values():
            if o.status in ("Submitted", "PreSubmitted") and (every_client or o.client_id == s.client_id):
                self._send_order(s, o)
        s.send([53, 1])

    def _all_open_orders(self, s: Session, f: list[str]) -> None:
        self._open_orders(s, f, every_client=True)

    def _completed_orders(self, s: Session, f: list[str]) -> None:
        s.send([102])

    def _executions(self, s: Session, f: list[str]) -> None:
        req_id = int(f[2])
        for x in self.executions:
            s.send(self._exec_fields(req_id, x))
        s.send([55, 1, req_id])
        for x in self.executions:
            if x.commission_sent:
                s.send(P.commission_report(x.exec_id, x.commission))

    def _exec_fields(self, req_id: int, x: FakeExecution) -> list[Any]:
        o = x.order
        return P.exec_details(
            req_id, o.order_id, o.contract, exec_id=x.exec_id, time_utc=x.ts.strftime("%Y%m%d %H:%M:%S") + " UTC",
            account=self.account, side="BOT" if o.action == "BUY" else "SLD", shares=x.shares, price=x.price,
            perm_id=o.perm_id, client_id=o.client_id, cum_qty=x.cum_qty, avg_price=x.avg_price, order_ref=o.order_ref,
        )  # fmt: skip

    def _owner(self, o: FakeOrder) -> Session | None:
        return next((s for s in self.sessions if s.client_id == o.client_id), None)

    def _on_market_event(self, event: OrderEvent) -> None:
        o = next((x for x in self.orders.values() if x.venue_order_id == event.order.venue_order_id), None)
        if o is None:
            return
        s = self._owner(o)
        if event.kind in (EventKind.PARTIAL_FILL, EventKind.FILL) and event.execution is not None:
            ex = event.execution
            pieces = [ex.qty]
            if self.faults.split_next_fill and ex.qty > 1:
                self.faults.split_next_fill = False
                pieces = [1, ex.qty - 1]
            for k, qty in enumerate(pieces):
                o.filled += qty
                o.notional += qty * ex.price
                o.last_price = ex.price
                per = ex.commission / ex.qty if ex.commission is not None and ex.qty else 0.0
                x = FakeExecution(
                    o, f"{ex.execution_id}.{k}", ex.ts, float(qty), ex.price, o.filled, o.avg, per * qty
                )
                self.executions.append(x)
                o.status = "Filled" if o.filled >= o.qty else "Submitted"
                if s is not None:
                    s.send(self._exec_fields(-1, x))
                    s.send(
                        P.order_status(
                            o.order_id,
                            o.status,
                            o.filled,
                            o.qty - o.filled,
                            o.avg,
                            o.perm_id,
                            o.last_price,
                            o.client_id,
                        )
                    )
                if self.faults.commission == "now":
                    self._send_commission(x)
                elif self.faults.commission == "late":
                    x.due = ex.ts + MINUTE
            self._push_account()
        elif event.kind in (EventKind.CANCELED, EventKind.EXPIRED):
            o.status = "Cancelled"
            if s is not None:
                s.send(
                    P.order_status(
                        o.order_id,
                        "Cancelled",
                        o.filled,
                        o.qty - o.filled,
                        o.avg,
                        o.perm_id,
                        o.last_price,
                        o.client_id,
                    )
                )
        elif event.kind is EventKind.REJECTED and o.status != "Inactive":
            o.status = "Inactive"
            if s is not None:
                s.send(P.error(o.order_id, 201, f"Order rejected - reason:{event.message}"))
                s.send(P.order_status(o.order_id, "Inactive", 0.0, o.qty, 0.0, o.perm_id, 0.0, o.client_id))

    def _push_account(self) -> None:
        """What TWS streams to subscribed clients after a fill: the position and the account values."""
        held = {p.symbol: p for p in self.market.positions()}
        for s in self.sessions:
            for c in {x.order.contract for x in self.executions}:
                p = held.get(c.occ)
                s.send(
                    [
                        61,
                        3,
                        self.account,
                        *c.fields11(),
                        float(p.qty) if p else 0.0,
                        p.avg_price * 100.0 if p else 0.0,
                    ]
                )
            for key, value in self._account_values():
                s.send([6, 2, key, value, "USD", self.account])

    def _send_commission(self, x: FakeExecution) -> None:
        x.commission_sent = True
        s = self._owner(x.order)
        if s is not None:
            s.send(P.commission_report(x.exec_id, x.commission))

    def _ignore(self, s: Session, f: list[str]) -> None:
        return


def _with_exchange(c: FakeContract, exchange: str) -> FakeContract:
    from dataclasses import replace

    return replace(c, exchange=exchange)


def _stamp(ts: datetime, fmt_date: str) -> str:
    if fmt_date == "2":
        return str(int(ts.timestamp()))
    return ts.astimezone(UTC).strftime("%Y%m%d %H:%M:%S") + " UTC"


def _parse_end(text: str) -> datetime:
    text = text.strip().replace("-", " ")
    parts = text.split(" ")
    day, clock = parts[0], parts[1] if len(parts) > 1 else "00:00:00"
    tz = parts[2] if len(parts) > 2 else "UTC"
    from zoneinfo import ZoneInfo

    naive = datetime.strptime(day + clock, "%Y%m%d%H:%M:%S")
    return naive.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _parse_duration(text: str) -> timedelta:
    n, unit = text.split()
    k = int(n)
    return {"S": timedelta(seconds=k), "D": timedelta(days=k), "W": timedelta(weeks=k)}.get(
        unit, timedelta(days=k)
    )


from options_scalper.eastern import ET as _ET  # noqa: E402

_HANDLERS = {
    71: FakeTWS._start_api,
    61: FakeTWS._positions,
    64: FakeTWS._ignore,
    5: FakeTWS._open_orders,
    16: FakeTWS._all_open_orders,
    15: FakeTWS._ignore,
    99: FakeTWS._completed_orders,
    6: FakeTWS._account_updates,
    76: FakeTWS._account_updates_multi,
    77: FakeTWS._ignore,
    7: FakeTWS._executions,
    62: FakeTWS._account_summary,
    63: FakeTWS._ignore,
    49: FakeTWS._current_time,
    8: FakeTWS._req_ids,
    9: FakeTWS._contract_details,
    78: FakeTWS._sec_def_params,
    59: FakeTWS._market_data_type,
    1: FakeTWS._mkt_data,
    2: FakeTWS._cancel_mkt_data,
    20: FakeTWS._historical,
    25: FakeTWS._cancel_historical,
    3: FakeTWS._place_order,
    4: FakeTWS._cancel_order,
}

__all__ = ["ACCOUNT", "FakeTWS"]
