"""Bounded Backtrader line buffers: the one place that reaches into ``backtrader.linebuffer``.

Depends on Backtrader 1.9.78.123 (``setup.cfg`` pins it): a ``LineBuffer`` keeps its
values in ``line.array`` and reads ``array[idx + ago]``; ``qbuffer()`` switches it to
a ``collections.deque`` of ``maxlen`` values (Backtrader's own ``exactbars`` scheme) and
``minbuffer(size)`` enlarges that; ``reset()`` leaves a ``QBuffer``'s index where a
previous run stopped, hence ``_idx = -1``. ``tests/strategies/test_fused_indicators.py``
and ``tests/feeds/backtest/`` prove bounded lines read the same values as unbounded
ones bar for bar, and that a read before the kept bars raises instead of wrapping round.

Used by the catalog feeds (``feeds.backtest.gridfeed``: ``keep_bars``) and by the
fused indicators (``strategies.indicators``: their lines keep only what a strategy reads
once Cerebro runs with ``exactbars``).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

__all__ = ["RingBuffer", "bound_line", "is_bounded"]


class RingBuffer(collections.deque[Any]):
    """A ``QBuffer`` line's deque that refuses to wrap: a read before its oldest value raises.

    Backtrader reads ``array[idx + ago]``; once the deque is full a negative index
    means a bar it no longer holds, which a plain deque would answer from the far end.
    """

    __slots__ = ("owner",)
    owner: str

    def __getitem__(self, i: Any, _get: Any = collections.deque.__getitem__) -> Any:
        if i < 0 and len(self) == self.maxlen:
            raise IndexError(
                f"{self.owner}: read before the last {self.maxlen} bars it keeps; "
                "pass a larger keep_bars (0 keeps every bar)"
            )
        return _get(self, i)


def bound_line(line: Any, keep: int, owner: str) -> None:
    """Make ``line`` (a ``LineBuffer``, before its first value) keep its last ``keep`` values or more.

    ``LineBuffer.qbuffer`` + ``minbuffer``, exactly what ``exactbars`` does; a buffer that
    Backtrader bounded already keeps the larger size.
    """
    if line.mode != line.QBuffer:
        line.qbuffer(savemem=1)
    line.minbuffer(keep)
    ring = RingBuffer(line.array, maxlen=line.array.maxlen)
    ring.owner = owner
    line.array = ring
    line._idx = -1


def bound_lines(lines: Iterable[Any], keep: int, owner: str) -> None:
    """``bound_line`` for each of ``lines``."""
    for line in lines:
        bound_line(line, keep, owner)


def is_bounded(line: Any) -> bool:
    """True when ``line`` keeps a bounded number of values (``bound_line`` made it a ring)."""
    return isinstance(line.array, RingBuffer)
