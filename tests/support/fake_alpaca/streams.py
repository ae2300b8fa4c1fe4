"""The fake's websockets: ``/v2/{iex|sip}`` bars and ``/v1beta1/{indicative|opra}`` quotes (msgpack),
``/stream`` trade updates (JSON in binary frames), on one loopback port and one asyncio thread.

Dialogs as Alpaca runs them: the data streams send ``[{"T":"success","msg":"connected"}]``,
expect ``{"action":"auth","key","secret"}``, answer ``authenticated`` or an ``error``, then
take ``subscribe`` / ``unsubscribe`` actions (acknowledged with a ``subscription`` message);
the trading stream expects ``authenticate`` and ``listen``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.support.fake_alpaca import wire

if TYPE_CHECKING:
    from tests.support.fake_alpaca.server import FakeAlpaca

_LOG = logging.getLogger("tests.fake_alpaca.websocket")
_LOG.setLevel(logging.WARNING)  # the fake's frames (the clients' keys among them) are never logged

BAR_PATHS = ("/v2/iex", "/v2/sip")
QUOTE_PATHS = ("/v1beta1/indicative", "/v1beta1/opra")
TRADING_PATH = "/stream"
QUOTES_AHEAD_S = 0.01  # a minute's quotes leave this long before its bar
_STOCK_CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds",
                   "corrections", "cancelErrors")  # fmt: skip
_OPTION_CHANNELS = ("trades", "quotes")


@dataclass(eq=False)
class DataConn:
    ws: ServerConnection
    kind: str  # bars | quotes
    channels: dict[str, set[str]] = field(default_factory=dict)
    muted: bool = False


class StreamServer:
    def __init__(self, fake: FakeAlpaca, host: str, port: int) -> None:
        self.fake, self.host, self.port = fake, host, port
        self.data: set[DataConn] = set()
        self.trading: set[ServerConnection] = set()
        self.connects = {"bars": 0, "quotes": 0, "orders": 0}
        self.lock = threading.Lock()  # guards the subscription sets (read from the market's thread)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Future[None] | None = None
        self._thread = threading.Thread(target=self._run, name="fake-alpaca-ws", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake alpaca: the websocket server did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(lambda: self._stopped.done() or self._stopped.set_result(None))  # type: ignore[union-attr]
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = self._loop.create_future()
        async with serve(
            self._dialog,
            self.host,
            self.port,
            process_request=self._gate,
            ping_interval=None,
            compression=None,
            logger=_LOG,
        ) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stopped

    def submit(self, coro: Any) -> None:
        """Run ``coro`` on the server's loop (from any thread), in submission order."""
        if self._loop is not None and not self._loop.is_closed():
            asyncio.run_coroutine_threadsafe(coro, self._loop)
        else:
            coro.close()

    # ------------------------------------------------------------------ dialogs
    def _gate(self, connection: ServerConnection, request: Request) -> Response | None:
        self.fake.touch()
        path = urlpath(request.path)
        if path in BAR_PATHS and self.fake.faults.refusing:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "fake alpaca: reconnects refused\n")
        if path not in (*BAR_PATHS, *QUOTE_PATHS, TRADING_PATH):
            return connection.respond(HTTPStatus.NOT_FOUND, "no such stream\n")
        return None

    async def _dialog(self, ws: ServerConnection) -> None:
        path = urlpath(ws.request.path if ws.request else "")
        try:
            if path == TRADING_PATH:
                await self._trading(ws)
            else:
                await self._market_data(ws, "bars" if path in BAR_PATHS else "quotes")
        except ConnectionClosed:
            pass

    async def _market_data(self, ws: ServerConnection, kind: str) -> None:
        await ws.send(wire.pack([{"T": "success", "msg": "connected"}]))
        msg = wire.unpack(await ws.recv())
        if msg.get("action") != "auth" or not self.fake.keys_ok(msg.get("key"), msg.get("secret")):
            await ws.send(wire.pack([{"T": "error", "code": 402, "msg": "auth failed"}]))
            await ws.close(1008, "auth failed")
            return
        await ws.send(wire.pack([{"T": "success", "msg": "authenticated"}]))
        channels = _STOCK_CHANNELS if kind == "bars" else _OPTION_CHANNELS
        conn = DataConn(ws, kind, {c: set() for c in channels})
        self.data.add(conn)
        self.connects["bars" if kind == "bars" else "quotes"] += 1
        try:
            async for raw in ws:
                self.fake.touch()
                msg = wire.unpack(raw)
                action = msg.get("action")
                if action not in ("subscribe", "unsubscribe"):
                    await ws.send(wire.pack([{"T": "error", "code": 400, "msg": "invalid syntax"}]))
                    continue
                with self.lock:
                    for channel in channels:
                        symbols = set(msg.get(channel) or [])
                        if action == "subscribe":
                            conn.channels[channel] |= symbols
                        else:
                            conn.channels[channel] -= symbols
                    ack = {"T": "subscription", **{c: sorted(conn.channels[c]) for c in channels}}
                await ws.send(wire.pack([ack]))
        finally:
            self.data.discard(conn)

    async def _trading(self, ws: ServerConnection) -> None:
        msg = json.loads(await ws.recv())
        data = msg.get("data") or {}
        if msg.get("action") != "authenticate" or not self.fake.keys_ok(
            data.get("key_id"), data.get("secret_key")
        ):
            await ws.send(
                _json(
                    {"stream": "authorization", "data": {"action": "authenticate", "status": "unauthorized"}}
                )
            )
            await ws.close(1008, "unauthorized")
            return
        await ws.send(
            _json({"stream": "authorization", "data": {"action": "authenticate", "status": "authorized"}})
        )
        self.connects["orders"] += 1
        try:
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("action") == "listen":
                    streams = [s for s in (msg.get("data") or {}).get("streams", []) if s == "trade_updates"]
                    if streams:
                        self.trading.add(ws)
                    await ws.send(_json({"stream": "listening", "data": {"streams": streams}}))
        finally:
            self.trading.discard(ws)

    # ------------------------------------------------------------------ publishing
    def subscribed(self, kind: str, channel: str) -> set[str]:
        with self.lock:
            return {
                s
                for c in list(self.data)
                if c.kind == kind and not c.muted
                for s in c.channels.get(channel, ())
            }

    async def send_frames(self, kind: str, channel: str, frames: dict[str, dict[str, Any]]) -> None:
        for conn in list(self.data):
            if conn.kind != kind or conn.muted:
                continue
            with self.lock:
                mine = [frames[s] for s in sorted(conn.channels.get(channel, ())) if s in frames]
            if mine:
                try:
                    await conn.ws.send(wire.pack(mine))
                except ConnectionClosed:
                    self.data.discard(conn)

    async def send_minute(self, quotes: dict[str, dict[str, Any]], bars: dict[str, dict[str, Any]]) -> None:
        await self.send_frames("quotes", "quotes", quotes)
        if quotes:
            await asyncio.sleep(QUOTES_AHEAD_S)
        await self.send_frames("bars", "bars", bars)

    async def send_update(self, update: dict[str, Any]) -> None:
        frame = _json({"stream": "trade_updates", "data": update})
        for ws in list(self.trading):
            try:
                await ws.send(frame)
            except ConnectionClosed:
                self.trading.discard(ws)

    async def drop_bars(self) -> None:
        for conn in [c for c in self.data if c.kind == "bars"]:
            await conn.ws.close(1011, "fake alpaca: connection dropped")

    async def mute_bars(self) -> None:
        for conn in self.data:
            if conn.kind == "bars":
                conn.muted = True


def urlpath(path: str) -> str:
    return path.split("?", 1)[0].rstrip("/") or "/"


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()  # binary frames, as Alpaca's paper stream sends


__all__ = ["BAR_PATHS", "QUOTE_PATHS", "TRADING_PATH", "StreamServer"]
