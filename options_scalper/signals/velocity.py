"""Price velocity over a window of bars (seed 003, section 2.1, adapted to 1-minute bars).

``velocity(closes, window_bars)`` compares the last close with the close
``window_bars`` bars earlier (or the oldest close given, when fewer exist):

* ``change_pct`` = last / start - 1, a fraction (0.003 = 0.3%);
* ``direction`` is ``flat`` when |change_pct| < 0.0005 (0.05%), else up / down;
* ``data_points`` is the number of closes in the window (``window_bars + 1`` when
  the history is full);
* ``is_significant``: |change_pct| >= 0.003 (0.3%) and ``data_points`` >= 3, the
  guide's rule with its seconds replaced by bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from options_scalper.signals.base import require_positive_int

FLAT_THRESHOLD_PCT = 0.0005
SIGNIFICANT_CHANGE_PCT = 0.003
SIGNIFICANT_MIN_POINTS = 3


class VelocityDirection(StrEnum):
    UP = "up"
    DOWN = "down"
    FLAT = "flat"


@dataclass(frozen=True)
class VelocityReading:
    """Change of the close over ``window_bars`` bars; ``change_pct`` is a fraction."""

    change_pct: float
    change_dollars: float
    direction: VelocityDirection
    window_bars: int
    data_points: int
    start_price: float
    end_price: float

    @property
    def is_significant(self) -> bool:
        return abs(self.change_pct) >= SIGNIFICANT_CHANGE_PCT and self.data_points >= SIGNIFICANT_MIN_POINTS


def velocity(closes: Sequence[float], window_bars: int) -> VelocityReading | None:
    """Velocity of the last ``window_bars`` bars of ``closes`` (oldest first); None if < 2 closes."""
    require_positive_int("window_bars", window_bars)
    points = min(len(closes), window_bars + 1)
    if points < 2:
        return None
    start, end = float(closes[-points]), float(closes[-1])
    change = end - start
    change_pct = change / start if start else 0.0
    if change_pct >= FLAT_THRESHOLD_PCT:
        direction = VelocityDirection.UP
    elif change_pct <= -FLAT_THRESHOLD_PCT:
        direction = VelocityDirection.DOWN
    else:
        direction = VelocityDirection.FLAT
    return VelocityReading(
        change_pct=change_pct,
        change_dollars=change,
        direction=direction,
        window_bars=window_bars,
        data_points=points,
        start_price=start,
        end_price=end,
    )
