"""``ProbeScalp``: an EMA(5)/EMA(12) crossover on the clock, to exercise the engine end to end.

Not a trading strategy: a fast EMA crossing above the slow one is a bullish
Signal, below a bearish one, always with conviction 80 and ScalpConfig defaults.
"""

from __future__ import annotations

from typing import Any

import backtrader as bt

from options_scalper.config import ScalpConfig
from options_scalper.model import Direction, Signal
from strategies.base import ScalpStrategyBase, params_from_config


class FastCrossOver(bt.Indicator):
    """``bt.indicators.CrossOver(data0, data1)`` computed in one line iterator, same values.

    +1.0 when data0 crosses above data1 on this bar, -1.0 below, else 0.0. Like
    Backtrader's, the previous side is the last NON-ZERO difference, seeded on
    the bar both inputs first have a value. Backtrader builds the same line
    from about ten chained line objects, each stepped every bar; here it is one.
    """

    lines: Any = ("crossover",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.addminperiod(2)  # one bar more than the inputs: the cross needs the previous difference
        self._nzd = float("nan")  # NonZeroDifference of the previous bar

    def prenext(self) -> None:
        if len(self) == self._minperiod - 1:  # the inputs' first bar: seed the difference
            self._nzd = self.data0[0] - self.data1[0]

    def next(self) -> None:
        self.lines.crossover[0] = self._step(self.data0[0], self.data1[0])

    def _step(self, a: float, b: float) -> float:
        prev = self._nzd
        up = 1.0 if (prev < 0.0 and a > b) else 0.0
        down = 1.0 if (prev > 0.0 and a < b) else 0.0
        d = a - b
        self._nzd = d if d else prev
        return up - down

    # runonce mode: the same steps over the arrays
    def preonce(self, start: int, end: int) -> None:
        if end >= 1:
            self._nzd = self.data0.array[end - 1] - self.data1.array[end - 1]

    def oncestart(self, start: int, end: int) -> None:
        self.once(start, end)

    def once(self, start: int, end: int) -> None:
        a, b, dst = self.data0.array, self.data1.array, self.lines.crossover.array
        for i in range(start, end):
            dst[i] = self._step(a[i], b[i])


class ProbeScalp(ScalpStrategyBase):
    """EMA(5)/EMA(12) crossover -> Signal(conviction=80)."""

    config_cls = ScalpConfig
    params: Any = (*params_from_config(ScalpConfig), ("fast", 5), ("slow", 12), ("conviction", 80))

    def __init__(self) -> None:
        super().__init__()
        self.cross = {
            sym: FastCrossOver(
                bt.indicators.EMA(book.clock.close, period=self.p.fast),
                bt.indicators.EMA(book.clock.close, period=self.p.slow),
            )
            for sym, book in self.books.items()
        }
        self._n = 0

    def on_signal_bar(self, symbol: str) -> Signal | None:
        x = self.cross[symbol][0]
        if not x:
            return None
        book = self.books[symbol]
        now = self.times.bar(book.clock)
        self._n += 1
        return Signal(
            signal_id=f"probe-{symbol}-{self._n}",
            ticker=symbol,
            ts=now,
            direction=Direction.BULLISH if x > 0 else Direction.BEARISH,
            conviction=int(self.p.conviction),
            trigger="ema_cross",
            underlying_price=float(book.clock.close[0]),
        )
