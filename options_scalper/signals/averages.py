"""Incremental moving averages over bars: EMA, trailing mean, Wilder ATR.

Each ``update`` consumes one bar and returns the value after that bar, or None
while there is not enough history. Seeding matches Backtrader's indicators
(EMA and ATR are seeded with the simple mean of their first ``period`` inputs), so
the pure values and the Backtrader lines agree bar for bar.
"""

from __future__ import annotations

import math
from collections import deque

from options_scalper.signals.base import require_positive_int


class Ema:
    """Exponential moving average, alpha = 2 / (period + 1), SMA-seeded."""

    def __init__(self, period: int) -> None:
        self.period = require_positive_int("period", period)
        self._alpha = 2.0 / (1.0 + period)
        self._alpha1 = 1.0 - self._alpha
        self._seed: list[float] = []
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        if self.value is None:
            self._seed.append(x)
            if len(self._seed) == self.period:
                self.value = math.fsum(self._seed) / self.period
                self._seed = []
            return self.value
        # Same operation order as backtrader's ExponentialSmoothing.
        self.value = self.value * self._alpha1 + x * self._alpha
        return self.value


class TrailingMean:
    """Mean of the previous ``window`` inputs, excluding the one being added.

    ``update(x)`` returns the mean of the ``window`` inputs before ``x`` (None until
    that many exist), then remembers ``x``.
    """

    def __init__(self, window: int) -> None:
        self.window = require_positive_int("window", window)
        self._values: deque[float] = deque(maxlen=window)

    @property
    def mean(self) -> float | None:
        """Mean of the last ``window`` inputs seen so far (None if fewer)."""
        if len(self._values) < self.window:
            return None
        return math.fsum(self._values) / self.window

    def update(self, x: float) -> float | None:
        before = self.mean
        self._values.append(x)
        return before

    def clear(self) -> None:
        self._values.clear()


class WilderAtr:
    """Average true range with Wilder smoothing (alpha = 1 / period), in dollars.

    True range needs the previous close, so the first bar yields none; the ATR is
    seeded with the mean of the first ``period`` true ranges (bar ``period + 1``),
    as Backtrader's ``ATR`` does.
    """

    def __init__(self, period: int = 14) -> None:
        self.period = require_positive_int("period", period)
        self._prev_close: float | None = None
        self._seed: list[float] = []
        self.value: float | None = None

    def update(self, high: float, low: float, close: float) -> float | None:
        prev_close = self._prev_close
        self._prev_close = close
        if prev_close is None:
            return None
        true_range = max(high, prev_close) - min(low, prev_close)
        if self.value is None:
            self._seed.append(true_range)
            if len(self._seed) == self.period:
                self.value = math.fsum(self._seed) / self.period
                self._seed = []
            return self.value
        # Same operation order as backtrader's SmoothedMovingAverage.
        self.value = self.value * (1.0 - 1.0 / self.period) + true_range * (1.0 / self.period)
        return self.value
