"""The IB client's asyncio event loop, on a thread of its own.

ib_async (like ib_insync) is asyncio: its sync helpers (``IB.run``, ``IB.sleep``,
``util.startLoop``'s nested loops) spin the CALLER's loop, which would block Backtrader's
thread or fight another loop. Here the loop runs forever on one daemon thread; every IB
call is made on it, and other threads submit coroutines with
``asyncio.run_coroutine_threadsafe`` and wait with a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def awaited(fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn(*args)`` ON the loop and await what it returns (ib's ``…Async`` request methods
    create their futures on the calling thread's loop, so they must be called from the IB loop)."""
    return await fn(*args)


class LoopTimeout(TimeoutError):
    """A call on the IB loop did not finish in time."""


class IBLoop:
    def __init__(self, name: str = "ib-loop") -> None:
        self.name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.loop is not None:
            return
        ready = threading.Event()
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        ready.wait(5)
        self.loop = loop

    @property
    def on_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop from another thread; ``LoopTimeout`` after ``timeout`` seconds."""
        if self.loop is None:
            coro.close()
            raise RuntimeError("the IB loop is not running")
        if self.on_loop_thread:
            coro.close()
            raise RuntimeError("IBLoop.run called from the IB loop itself")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise LoopTimeout(f"no answer within {timeout:g} s") from None

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 10.0) -> T:
        """Run the plain function ``fn(*args)`` on the loop (IB's sync request methods) and return its result."""

        async def wrapped() -> T:
            return fn(*args)

        return self.run(wrapped(), timeout)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start ``coro`` on the loop without waiting (callable from any thread)."""
        if self.loop is None:
            coro.close()
            return
        asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        loop, self.loop = self.loop, None
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None and not self.on_loop_thread:
            self._thread.join(5)


__all__ = ["IBLoop", "LoopTimeout", "awaited"]
