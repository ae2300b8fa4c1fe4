"""Pause Python's cyclic garbage collector while 100,000 scalp records are built and analysed.

Building one ``ClosedScalp`` (and its metadata dict) per scalp allocates a few
hundred thousand objects that all stay alive; the collector would walk them again
and again (a third of the Performance tab's criteria time on the 100,000-scalp
benchmark) and free nothing. Reference counting still frees everything as usual;
the collector is re-enabled when the last concurrent user (the page runs one script
thread per browser session) leaves, and only if it was enabled before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
