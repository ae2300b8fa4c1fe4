"""The runtime's wall-clock watchdog: what must happen even when no bar arrives.

A thread that, every ``tick`` seconds of this machine's time: marks the data stale
(REDUCING) when the clock delivered no bar for ``data_timeout`` seconds while its
session is not over, and clears that once bars flow again; polls the kill switch;
and stops Cerebro when a Ctrl-C wind-down is done (at once when nothing is working and
nothing open that it may still close, bars or not: ``LiveRuntime.wound_down``) or has taken longer than
``interrupt_grace`` seconds (positions still open then stay in the journal as open
rows: the next run adopts them). Decisions about orders stay on the Cerebro thread.
"""

from __future__ import annotations

import threading
import time as wall
from types import TracebackType
from typing import Any

from app.live.runtime import LiveRuntime
from app.live.states import Cause

INTERRUPT_GRACE_SECONDS = 60.0


class Watchdog:
    def __init__(
        self,
        runtime: LiveRuntime,
        data_timeout: float,
        cerebro: Any,
        tick: float = 0.5,
        interrupt_grace: float = INTERRUPT_GRACE_SECONDS,
    ) -> None:
        self.rt = runtime
        self.data_timeout = data_timeout
        self.cerebro = cerebro
        self.tick = tick
        self.interrupt_grace = interrupt_grace
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="live-watchdog", daemon=True)
        self._interrupted_at: float | None = None

    def check(self, now: float) -> None:
        """One round (``now``: ``time.monotonic()``)."""
        rt = self.rt
        rt.poll_kill()
        silent = now - rt.last_bar_wall
        if not rt.session_over and silent > self.data_timeout:
            rt.states.enter(
                Cause.STALE_DATA, f"no bar for {silent:.0f} s (--data-timeout {self.data_timeout:g})"
            )
        if rt.interrupt.is_set():
            rt.say_interrupt()
            if self._interrupted_at is None:
                self._interrupted_at = now
            if rt.wound_down(self._scalps()) and not rt.stop_requested.is_set():
                rt.stop_requested.set()  # nothing left to close or working: no bar needed to wind down
            elif now - self._interrupted_at > self.interrupt_grace and not rt.stop_requested.is_set():
                rt.log.say(
                    f"wind-down took over {self.interrupt_grace:g} s: stopping; open positions stay open "
                    "in the journal and the next run adopts them",
                    event="interrupt_timeout",
                )
                rt.stop_requested.set()
        if rt.stop_requested.is_set():
            self.cerebro.runstop()

    def _scalps(self) -> list[Any]:
        """The strategy's scalps (read from this thread: a snapshot)."""
        return list(getattr(self.rt.strategy, "scalps", {}).values())

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            self.check(wall.monotonic())

    def __enter__(self) -> Watchdog:
        self.rt.last_bar_wall = wall.monotonic()
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


__all__ = ["INTERRUPT_GRACE_SECONDS", "Watchdog"]
