"""``ProbeScalp``: an EMA(5)/EMA(12) crossover on the clock, to exercise the engine end to end.

Not a trading strategy: a fast EMA crossing above the slow one is a bullish
Signal, below a bearish one, always with conviction 80 and ScalpConfig defaults.
"""

from __future__ import annotations

from typing import Any

import backtrader as bt

from feeds.bt_feeds import bar_time_utc
from options_scalper.config import ScalpConfig
from options_scalper.model import Direction, Signal
from strategies.base import ScalpStrategyBase, params_from_config


class ProbeScalp(ScalpStrategyBase):
    """EMA(5)/EMA(12) crossover -> Signal(conviction=80)."""

    config_cls = ScalpConfig
    params: Any = (*params_from_config(ScalpConfig), ("fast", 5), ("slow", 12), ("conviction", 80))

    def __init__(self) -> None:
        super().__init__()
        self.cross = {
            sym: bt.indicators.CrossOver(
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
        now = bar_time_utc(book.clock)
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
