"""alpaca-py's three websocket clients, each run on a thread of its own, reporting their connection.

``run()`` of every alpaca-py stream blocks (``asyncio.run``), so each gets a daemon
thread. alpaca-py reconnects by itself (backoff 1-30 s; ``data_timeout`` forces a
reconnect on a connected-but-mute data socket) but tells nobody: the subclasses here
only add a report at the three moments that matter (connected, dropped, went mute)
through ``report(connected, message)``; the protocol is alpaca-py's own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, cast

from alpaca.data.live.option import OptionDataStream
from alpaca.data.live.stock import StockDataStream
from alpaca.trading.stream import TradingStream

log = logging.getLogger(__name__)

Report = Callable[[bool, str], None]

# websockets logs every frame at DEBUG, the auth frame with the keys included: the clients
# log through this logger instead, which never goes below INFO whatever the root level.
_WS_LOG = logging.getLogger("brokers.alpaca.websocket")
_WS_LOG.setLevel(logging.INFO)


def websocket_params() -> dict[str, Any]:
    """alpaca-py's own websocket defaults, plus the logger that never logs frames."""
    return {"ping_interval": 10, "ping_timeout": 180, "max_queue": 1024, "logger": _WS_LOG}


class _Reporting:
    """Mixin: ``_start_ws`` / ``_consume`` of alpaca-py's streams, with a report of each outcome."""

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.report = report

    async def _start_ws(self) -> None:
        try:
            await cast(Any, super())._start_ws()
        except Exception as exc:
            self.report(False, f"connect failed ({_why(exc)}); retrying with backoff")
            raise
        self.report(True, "connected")

    async def _consume(self) -> Any:
        try:
            stale = await cast(Any, super())._consume()
        except Exception as exc:
            if getattr(self, "_should_run", True):  # not our own close()
                self.report(False, f"dropped ({_why(exc)}); reconnecting with backoff")
            raise
        if stale:
            timeout = getattr(self, "_data_timeout", None)
            self.report(False, f"no data for {timeout:g} s (mute socket); reconnecting with backoff")
        return stale


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class BarStream(_Reporting, StockDataStream):
    pass


class QuoteStream(_Reporting, OptionDataStream):
    pass


class OrderStream(_Reporting, TradingStream):
    pass


class StreamThread:
    """One alpaca-py stream on its own daemon thread; ``stop()`` is safe from any thread, any time."""

    def __init__(self, name: str, stream: Any) -> None:
        self.name, self.stream = name, stream
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Start (once); call after the first subscription (alpaca-py spins until it has one)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"alpaca-{self.name}", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self.stream.run()
        except Exception as exc:  # the stream's loop died: say so, never kill the process
            log.error("alpaca %s stream stopped: %s", self.name, _why(exc))

    async def _halt(self) -> None:
        """alpaca-py's ``stop_ws``, then close the socket: alpaca-py alone notices only between receives (5 s)."""
        await self.stream.stop_ws()
        await self.stream.close()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is None:
            return
        for _ in range(100):  # the stream's loop exists a moment after the thread starts
            loop = getattr(self.stream, "_loop", None)
            if loop is not None or not self._thread.is_alive():
                break
            time.sleep(0.01)
        if loop is not None and loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(self._halt(), loop).result(timeout)
            except Exception as exc:
                log.warning("alpaca %s stream did not stop cleanly: %s", self.name, _why(exc))
        self._thread.join(timeout)
        self._thread = None


__all__ = ["BarStream", "OrderStream", "QuoteStream", "Report", "StreamThread", "websocket_params"]
