"""Support and resistance from swing points (seed 003, section 2.3, without look-ahead).

* A swing high is a bar whose high is strictly above the highs of the 2 bars
  before it and at or above the highs of the 2 bars after it (so a flat top of
  equal highs yields one swing, its first bar); a swing low mirrors it on lows.
  A swing at bar i is only known once bars i+1 and i+2 have closed: it is
  confirmed on bar i+2, never earlier.
* Swing highs become resistance levels, swing lows support levels. A swing
  within ``touch_pct`` (a fraction of the level's price) of an existing level of
  the same kind merges into the nearest one: its strength (number of touches)
  grows by one, its price becomes the mean of its touch prices, its last touch
  becomes bar i. Otherwise it starts a new level of strength 1.
* A level whose last touch is ``lookback_bars`` or more bars before the current
  bar is dropped. Each side keeps its ``max_levels`` strongest levels (ties: the
  most recently touched first).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from enum import StrEnum

from options_scalper.signals.base import require_positive, require_positive_int

SWING_BARS = 2


class LevelKind(StrEnum):
    SUPPORT = "support"
    RESISTANCE = "resistance"


@dataclass(frozen=True)
class PriceLevel:
    """A support or resistance level in dollars; bars are indexes since the last reset."""

    price: float
    kind: LevelKind
    strength: int
    first_touch_bar: int
    last_touch_bar: int


class SupportResistance:
    """Incremental swing-point support/resistance over the last ``lookback_bars`` bars."""

    def __init__(self, touch_pct: float = 0.003, lookback_bars: int = 60, max_levels: int = 5) -> None:
        self.touch_pct = require_positive("touch_pct", touch_pct)
        self.lookback_bars = require_positive_int("lookback_bars", lookback_bars)
        self.max_levels = require_positive_int("max_levels", max_levels)
        self.reset()

    def reset(self) -> None:
        self.bar_index = -1
        self._window: deque[tuple[float, float]] = deque(maxlen=2 * SWING_BARS + 1)
        self._levels: dict[LevelKind, list[PriceLevel]] = {LevelKind.SUPPORT: [], LevelKind.RESISTANCE: []}

    @property
    def resistance(self) -> tuple[PriceLevel, ...]:
        """Resistance levels, strongest first."""
        return tuple(self._levels[LevelKind.RESISTANCE])

    @property
    def support(self) -> tuple[PriceLevel, ...]:
        """Support levels, strongest first."""
        return tuple(self._levels[LevelKind.SUPPORT])

    def update(self, high: float, low: float) -> None:
        """Consume one bar; confirm the swing (if any) of the bar two bars back."""
        self.bar_index += 1
        self._window.append((high, low))
        if len(self._window) == self._window.maxlen:
            highs = [h for h, _ in self._window]
            lows = [lo for _, lo in self._window]
            c = SWING_BARS
            center_bar = self.bar_index - SWING_BARS
            if all(highs[c] > h for h in highs[:c]) and all(highs[c] >= h for h in highs[c + 1 :]):
                self._touch(LevelKind.RESISTANCE, highs[c], center_bar)
            if all(lows[c] < lo for lo in lows[:c]) and all(lows[c] <= lo for lo in lows[c + 1 :]):
                self._touch(LevelKind.SUPPORT, lows[c], center_bar)
        oldest_kept = self.bar_index - self.lookback_bars + 1
        for kind, levels in self._levels.items():
            self._levels[kind] = [lv for lv in levels if lv.last_touch_bar >= oldest_kept]

    def _touch(self, kind: LevelKind, price: float, bar: int) -> None:
        levels = self._levels[kind]
        near = [
            (abs(lv.price - price), n)
            for n, lv in enumerate(levels)
            if abs(lv.price - price) <= self.touch_pct * lv.price
        ]
        if near:
            _, n = min(near)
            lv = levels[n]
            strength = lv.strength + 1
            levels[n] = replace(
                lv, price=lv.price + (price - lv.price) / strength, strength=strength, last_touch_bar=bar
            )
        else:
            levels.append(
                PriceLevel(price=price, kind=kind, strength=1, first_touch_bar=bar, last_touch_bar=bar)
            )
        levels.sort(key=lambda lv: (-lv.strength, -lv.last_touch_bar))
        del levels[self.max_levels :]
