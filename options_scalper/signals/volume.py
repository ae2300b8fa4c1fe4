"""Volume spike ratio against a trailing per-bar baseline (seed 003, section 2.2, fixed).

``VolumeSpikeTracker.update(volume)`` returns the bar's volume divided by the
mean volume of the ``baseline_window_bars`` bars before it (the current bar is
not in its own baseline). It returns None, which callers treat as "no spike",
while fewer than ``baseline_window_bars`` earlier bars exist, when that mean is
zero, or when the bar's volume is unknown (NaN; such bars are not added to the
history). The ratio is always measured, never assumed.
"""

from __future__ import annotations

import math

from options_scalper.signals.averages import TrailingMean
from options_scalper.signals.base import SignalParameterError

DEFAULT_BASELINE_BARS = 30


class VolumeSpikeTracker:
    """Ratio of each bar's volume to the mean of the previous ``baseline_window_bars`` bars."""

    def __init__(self, baseline_window_bars: int = DEFAULT_BASELINE_BARS) -> None:
        self._mean = TrailingMean(baseline_window_bars)
        self.baseline_window_bars = baseline_window_bars
        self.baseline_volume: float | None = None  # mean used by the last update
        self.ratio: float | None = None  # ratio returned by the last update

    def update(self, volume: float) -> float | None:
        if math.isnan(volume):
            self.baseline_volume = self.ratio = None
            return None
        if volume < 0:
            raise SignalParameterError(f"volume must be >= 0, got {volume!r}")
        self.baseline_volume = self._mean.update(float(volume))
        base = self.baseline_volume
        self.ratio = volume / base if base is not None and base > 0 else None
        return self.ratio

    def reset(self) -> None:
        self._mean.clear()
        self.baseline_volume = self.ratio = None
