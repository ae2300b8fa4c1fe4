"""The fake's REST side: Alpaca's trading paths (``/v2/...``) and market-data paths on one threaded HTTP server.

Paths (what alpaca-py 0.44 requests): ``GET /v2/account|clock|calendar|positions``,
``GET /v2/orders[?status=]``, ``GET /v2/orders:by_client_order_id``, ``GET|DELETE
/v2/orders/{id}``, ``POST|DELETE /v2/orders``, ``GET /v2/options/contracts``, ``GET /v2/stocks/bars``, ``GET
/v1beta1/options/snapshots[/{underlying}]``, ``GET /v1beta1/options/quotes/latest``;
pagination by ``next_page_token``. Errors are Alpaca's ``{"code","message"}`` bodies.
``POST /_fake/<fault>`` (JSON keyword arguments) scripts a fault of ``faults.Faults``.
"""

from __future__ import annotations

import contextlib
import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tests.support.fake_alpaca import wire

if TYPE_CHECKING:
    from tests.support.fake_alpaca.server import FakeAlpaca


class Reply(Exception):
    """An HTTP answer other than 200 (raised by a route)."""

    def __init__(self, status: int, body: Any = None, message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else wire.error_body(status, message)


class Lost(Exception):
    """Close the connection without answering (the client sees its reply lost)."""


class RestServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeAlpaca, host: str, port: int) -> None:
        self.fake = fake
        super().__init__((host, port), Handler)


class Handler(BaseHTTPRequestHandler):
    server: RestServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read their own logs
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        fake.touch()
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
            if url.path.startswith("/_fake/"):
                result = fake.control(method, url.path.removeprefix("/_fake/"), body)
            else:
                fake.check_rest(
                    url.path, self.headers.get("APCA-API-KEY-ID"), self.headers.get("APCA-API-SECRET-KEY")
                )
                result = fake.route(method, url.path, query, body)
            status, payload = (204, None) if result is None else (200, result)
        except Lost:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        except Reply as r:
            status, payload = r.status, r.body
        except ValueError as exc:
            status, payload = 422, wire.error_body(422, str(exc))
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        fake.after_reply()


def page(items: list[Any], query: dict[str, str], size: int) -> tuple[list[Any], str | None]:
    """One page of ``items`` from ``page_token`` (an offset), at most ``limit`` and ``size`` long."""
    start = int(query.get("page_token") or 0)
    limit = min(int(query.get("limit") or size), size)
    chunk = items[start : start + limit]
    return chunk, (str(start + limit) if start + limit < len(items) else None)


__all__ = ["Lost", "Reply", "RestServer", "page"]
