"""Allocators for a long backtest: memory that goes back when a day's arrays are freed.

A backtest reads a day of quotes, works on it and frees it, 1,000 times over for 1,000
days. Two allocators kept what those days left behind, so a run's peak grew with its
length though what it holds does not (``bench/memory.py``):

* Arrow's default pool (mimalloc in the pyarrow wheels) reserves a 1 GiB arena at its
  first use and keeps the pages a day touched: +20-30 MB over a few hundred days.
  ``ARROW_DEFAULT_MEMORY_POOL=system`` makes Arrow use malloc; Arrow reads it once, when
  its C++ default pool is first made (pandas imports pyarrow), so it is set before that.
  A value the user set is kept.
* glibc raises its mmap threshold after each large free, so later large arrays come
  from the heap, where they fragment it. ``mallopt(M_MMAP_THRESHOLD, 128 KiB)`` fixes the
  threshold at its default: an array of 128 KiB or more is mapped and given back when
  freed. Skipped where libc is not glibc.

``configure()`` runs when the ``feeds`` package is first imported (``feeds/__init__.py``; ``app``
imports it first thing), which every command that reads the catalog does before pandas or
pyarrow. Measured with ``bench/memory.py``
(ema_cloud, 20 -> 1,000 days): peak +12.9% with mimalloc and the moving threshold.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's default; fixed, so it no longer moves up
_done = False


def configure() -> None:
    """Arrow on malloc (unless the user chose a pool, or pyarrow is already loaded); glibc's mmap
    threshold fixed. Idempotent."""
    global _done
    if _done:
        return
    _done = True
    if "pyarrow" not in sys.modules:
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    _fix_mmap_threshold()


def _fix_mmap_threshold() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (musl has no mallopt parameters)
    except (OSError, AttributeError):
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
