"""``FakeAlpaca``: a loopback Alpaca (REST + three websockets) serving a ``ReplayMarket``.

alpaca-py's real clients talk to it through ``url_override`` (``env()`` gives the
``APCA_*`` variables). The market decides time, acceptance and fills by the backtest's
rules; this class gives them Alpaca's shape, publishes each minute's bars and quotes to
the subscribed sockets, each order event as trade updates, and applies the scripted
``faults``. It stops itself when the replayed day is over or nobody talked to it for
``idle_seconds``.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

from brokers.live.venue import OrderEvent, OrderStatus
from tests.support.fake_alpaca import routes, wire
from tests.support.fake_alpaca.faults import Faults
from tests.support.fake_alpaca.orders import OrderBook
from tests.support.fake_alpaca.rest import Lost, Reply, RestServer
from tests.support.fake_alpaca.streams import StreamServer
from tests.support.replay_market import ReplayMarket

MINUTE = timedelta(minutes=1)
DATA_PREFIXES = ("/v2/stocks", "/v1beta1/")


class FakeAlpaca:
    def __init__(
        self,
        market: ReplayMarket,
        *,
        key: str = "fake-key-id",
        secret: str = "fake-secret-key",
        host: str = "127.0.0.1",
        port: int = 0,
        ws_port: int | None = None,
        page_size: int = 1000,
    ) -> None:
        self.market, self.key, self.secret, self.host = market, key, secret, host
        self.page_size = page_size
        self.faults = Faults()
        self.book = OrderBook()
        self.requests: list[tuple[str, str]] = []  # (method, path) of every REST call, for tests
        self._local = threading.local()
        self._last_touch = time.monotonic()
        self._clock_stop = threading.Event()
        self._clock_thread: threading.Thread | None = None
        self.rest = RestServer(self, host, port)
        self.streams = StreamServer(self, host, (port + 1 if port else 0) if ws_port is None else ws_port)
        self._rest_thread = threading.Thread(
            target=self.rest.serve_forever, name="fake-alpaca-rest", daemon=True
        )
        market.on_event(self._on_event)
        market.on_minute(self._on_minute)

    # ------------------------------------------------------------------ life
    def start(self) -> FakeAlpaca:
        self.streams.start()
        self._rest_thread.start()
        return self

    def stop(self) -> None:
        self._clock_stop.set()
        if self._clock_thread is not None:
            self._clock_thread.join(5)
        self.market.stop()
        self.rest.shutdown()
        self.rest.server_close()
        self.streams.stop()

    def __enter__(self) -> FakeAlpaca:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_clock(
        self,
        minute_seconds: float,
        *,
        fast_after: datetime | None = None,
        fast_minute_seconds: float = 0.01,
        wait_for_client: bool = True,
    ) -> None:
        """Advance the replay on a thread of the fake's own: one minute every ``minute_seconds``.

        ``wait_for_client``: start once a client subscribes to bars (its warm-up is done).
        ``fast_after``: from that minute on, ``fast_minute_seconds`` per minute (a quiet tail
        replayed quickly up to the close, where a live run ends its session).
        """

        def run() -> None:
            m = self.market
            while wait_for_client and not self.streams.subscribed("bars", "bars"):
                if self._clock_stop.wait(0.02):
                    return
            while not m.finished.is_set():
                fast = fast_after is not None and m.now() >= fast_after
                if self._clock_stop.wait(fast_minute_seconds if fast else minute_seconds):
                    return
                m.step()

        self._clock_thread = threading.Thread(target=run, name="fake-alpaca-clock", daemon=True)
        self._clock_thread.start()

    def touch(self) -> None:
        self._last_touch = time.monotonic()

    def serve_until_done(self, idle_seconds: float = 900.0, grace_seconds: float = 30.0) -> str:
        """Block until the day is over (plus ``grace_seconds``) or nobody called for ``idle_seconds``."""
        finished_at: float | None = None
        while True:
            time.sleep(0.2)
            now = time.monotonic()
            if self.market.finished.is_set():
                finished_at = finished_at or now
                if now - finished_at >= grace_seconds:
                    return "the replayed day is over"
            if now - self._last_touch >= idle_seconds:
                return f"idle for {idle_seconds:g} s"

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.rest.server_address[1]}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.streams.port}"

    def env(self) -> dict[str, str]:
        """The environment a client needs to use this fake instead of Alpaca."""
        return {
            "APCA_API_KEY_ID": self.key,
            "APCA_API_SECRET_KEY": self.secret,
            "APCA_TRADING_URL": self.rest_url,
            "APCA_DATA_URL": self.rest_url,
            "APCA_STOCK_STREAM_URL": f"{self.ws_url}/v2/iex",
            "APCA_OPTION_STREAM_URL": f"{self.ws_url}/v1beta1/indicative",
            "APCA_TRADING_STREAM_URL": f"{self.ws_url}/stream",
            "APCA_STOCK_FEED": "iex",
            "APCA_OPTION_FEED": "indicative",
        }

    # ------------------------------------------------------------------ REST
    def keys_ok(self, key: Any, secret: Any) -> bool:
        return key == self.key and secret == self.secret

    def check_rest(self, path: str, key: str | None, secret: str | None) -> None:
        data = path.startswith(DATA_PREFIXES)
        if not self.keys_ok(key, secret):
            if data:
                raise Reply(403, {"message": "forbidden"})
            raise Reply(401, {"code": 40110000, "message": "request is not authorized"})
        status = self.faults.take_error(path)
        if status is not None:
            raise Reply(status, message="too many requests" if status == 429 else "internal server error")

    def route(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> Any:
        self.requests.append((method, path))
        return routes.route(self, method, path, query, body)

    def control(self, method: str, name: str, body: dict[str, Any]) -> Any:
        if name == "state":
            return {
                "now": wire.stamp(self.market.now()),
                "finished": self.market.finished.is_set(),
                "orders": len(self.book.orders),
                "connects": dict(self.streams.connects),
            }
        if method != "POST":
            raise Reply(405, message="POST /_fake/<fault> with JSON keyword arguments")
        self.faults.call(name, body)
        return {"ok": True, "fault": name}

    def after_reply(self) -> None:
        pending, self._local.after = getattr(self._local, "after", []), []
        for update in pending:
            self.streams.submit(self.streams.send_update(update))

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /v2/orders``: validate as Alpaca does for options, then hand the order to the market."""
        if self.faults.no_options:
            raise Reply(403, message="account is not eligible to trade options (options level 0)")
        request = routes.order_request(body)
        if self.book.by_client_id(request.client_order_id) is not None:
            raise Reply(422, message="client_order_id must be unique")
        reject, lose = self.faults.take_reject(), self.faults.take_lose_reply()
        if reject is not None and reject[0] is not None:
            raise Reply(reject[0], message=reject[1])
        now = self.market.now()
        order = self.book.create(request, now)
        if reject is not None:  # accepted on the wire, then a ``rejected`` trade update
            update = self.book.reject(order, now)
            order.status = "accepted"
            reply = order.json()
            order.status = "rejected"
            self._local.after = [*getattr(self._local, "after", []), update]
            if lose:
                self.after_reply()
                raise Lost
            return reply
        buffered: list[OrderEvent] = []
        self._local.buffer = buffered
        try:
            report = self.market.submit(request)
        finally:
            self._local.buffer = None
        if report.status is OrderStatus.REJECTED:
            self.book.forget(order)
            raise Reply(403, message=report.message)
        self.book.bind(order, report.venue_order_id, report.status)
        for event in buffered:
            self._publish(event)
        if lose:
            raise Lost
        return order.json()

    # ------------------------------------------------------------------ market -> sockets
    def _on_event(self, event: OrderEvent) -> None:
        buffered = getattr(self._local, "buffer", None)
        if buffered is not None:
            buffered.append(event)
        else:
            self._publish(event)

    def _publish(self, event: OrderEvent) -> None:
        ex = event.execution
        split = ex is not None and ex.qty >= 2 and self.faults.take_split()
        held = {p.symbol: p.qty for p in self.market.positions()}.get(event.order.option_symbol, 0)
        for update in self.book.updates(event, split, held):
            self.streams.submit(self.streams.send_update(update))

    def _on_minute(self, minute: datetime) -> None:
        """Publish minute ``minute``: the bound contracts' quotes, then the bar that closed at ``minute``.

        Quotes go out a few milliseconds before the bar (two sockets, two client threads), so
        a client holds the minute's quote when the bar closing that minute reaches its clock.
        """
        s = self.streams
        if self.faults.take_mute():
            s.submit(s.mute_bars())
        quotes = {}
        for symbol in s.subscribed("quotes", "quotes"):
            q = self.market.quote(symbol)
            if q is not None:
                quotes[symbol] = wire.quote_frame(q)
        bars = {}
        for symbol in s.subscribed("bars", "bars"):
            for b in self.market.bars(symbol, minute - MINUTE, minute):
                bars[symbol] = wire.bar_frame(b)
        s.submit(s.send_minute(quotes, bars))
        if self.faults.minute_passed():
            s.submit(s.drop_bars())


__all__ = ["FakeAlpaca"]
