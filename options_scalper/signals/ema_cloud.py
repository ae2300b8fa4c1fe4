"""EMA-cloud signal rules of PRD-136 (Ripster clouds), bar by bar, framework-free.

Clouds
    The fast cloud is EMA(5) / EMA(12) of 1-minute closes; the macro cloud is
    EMA(34) / EMA(50) of 10-minute closes. A cloud's ``top`` is the larger of its
    two EMAs, its ``bottom`` the smaller; it is bullish when the fast EMA is above
    the slow one. EMAs are SMA-seeded (see ``averages.Ema``), as in Backtrader.

Flip
    The fast cloud flips bullish on the bar where EMA(5) goes from at-or-below
    EMA(12) on the previous bar to strictly above it; bearish mirrored. The first
    bar on which both EMAs exist is never a flip (there is no previous state).

Macro alignment (``macro_alignment``)
    Bullish: macro fast EMA > macro slow EMA, price > macro top, and the whole
    fast cloud above the macro cloud (fast bottom > macro top). Bearish mirrored:
    macro fast < macro slow, price < macro bottom, fast top < macro bottom.

Volume confirmation (``volume_confirmed``)
    The trigger bar's volume is strictly greater than ``mult`` (1.5) times the
    mean volume of the 20 bars BEFORE it; the trigger bar is excluded from the
    average (so a huge trigger bar cannot inflate its own baseline).
    Unknown volume: a NaN trigger-bar volume means the underlying has no volume
    data (put-call parity; 0 is a real minute without trades). The rule is then
    not applicable and ``volume_confirmed`` returns None (skipped), never True
    or False; the caller lets the flip through on the cloud rules alone.

Conviction (``conviction_score``), 0-100
    Five sub-scores in [0, 1], each multiplied by its weight (defaults sum to 100):

    ========================  ======  ==================================================
    sub-score                 weight  definition
    ========================  ======  ==================================================
    macro alignment           30      1 if aligned else 0
    volume                    25      clamp((volume_ratio - 1) / 2, 0, 1): 1x -> 0,
                                      2x -> 0.5, 3x or more -> 1; no ratio -> 0;
                                      volume unknown (``volume_known`` False) -> 0.5,
                                      the scale's midpoint: no evidence either way
    cloud separation          20      clamp((cloud_top - cloud_bottom) / (0.25 * ATR14),
                                      0, 1); unknown or zero ATR -> 0
    extension from the cloud  15      1 - clamp(d / ATR14, 0, 1) with
                                      d = max(0, price - cloud_top, cloud_bottom - price):
                                      inside the cloud -> 1, one ATR or more away -> 0;
                                      unknown or zero ATR -> 0
    time of day               10      0.5 in the first 60 minutes after the open or the
                                      last 60 minutes before the close, else 1
    ========================  ======  ==================================================

    conviction = round_half_up(sum(weight_i * subscore_i)), clipped to [0, 100].
    ``volume_ratio`` is the trigger bar's volume over the 20-bar mean defined above;
    ATR14 is Wilder's average true range of the last 14 one-minute bars, in dollars.

Cloud test (``first_candle_tests_cloud``)
    For a call, the first candle after the entry tests the cloud and bounces when
    its low reaches the cloud (low <= cloud_top) and it closes back above it
    (close > cloud_top). For a put: high >= cloud_bottom and close < cloud_bottom.

Exhaustion (``ExhaustionCounter``)
    A bullish exhaustion candle is green (close > open) and lies wholly above the
    fast cloud (low > cloud_top, so its close is outside and no wick touches); a
    bearish one is red (close < open) with high < cloud_bottom. The counter gives,
    per side, how many such candles closed in a row up to the current bar. The
    PRD exit fires at ``EXHAUSTION_MIN_CANDLES`` (3) or more. Pass the cloud
    computed with the current bar's close.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from options_scalper.model import Direction
from options_scalper.signals.averages import Ema
from options_scalper.signals.base import SignalParameterError, is_finite, require_non_negative

FAST_CLOUD_PERIODS: tuple[int, int] = (5, 12)
MACRO_CLOUD_PERIODS: tuple[int, int] = (34, 50)
MACRO_BAR_MINUTES = 10
VOLUME_AVG_BARS = 20
VOLUME_MULT = 1.5
ATR_BARS = 14
EXHAUSTION_MIN_CANDLES = 3

# Conviction scales (see the module docstring).
VOLUME_RATIO_FULL = 3.0  # volume ratio at which the volume sub-score reaches 1
SEPARATION_FULL_ATR = 0.25  # cloud width, in ATRs, at which the separation sub-score reaches 1
EXTENSION_ZERO_ATR = 1.0  # distance outside the cloud, in ATRs, at which extension scores 0
EDGE_OF_SESSION_MINUTES = 60.0
EDGE_OF_SESSION_SCORE = 0.5
UNKNOWN_VOLUME_SCORE = 0.5  # volume sub-score when volume is unknown: the midpoint (as a 2x bar)


@dataclass(frozen=True)
class CloudReading:
    """One bar of an EMA cloud, in dollars; ``flip`` is set on the bar it crosses."""

    fast: float
    slow: float
    top: float
    bottom: float
    bullish: bool
    flip: Direction | None


class EmaCloud:
    """Incremental EMA cloud: feed one close per bar, get a ``CloudReading``.

    ``EmaCloud()`` is the 1-minute fast cloud (5/12); ``EmaCloud.macro()`` is the
    34/50 cloud, to be fed 10-minute closes.
    """

    def __init__(
        self, fast_period: int = FAST_CLOUD_PERIODS[0], slow_period: int = FAST_CLOUD_PERIODS[1]
    ) -> None:
        if fast_period >= slow_period:
            raise SignalParameterError(
                f"fast_period ({fast_period}) must be shorter than slow_period ({slow_period})"
            )
        self._fast = Ema(fast_period)
        self._slow = Ema(slow_period)
        self.last: CloudReading | None = None

    @classmethod
    def macro(cls) -> EmaCloud:
        return cls(*MACRO_CLOUD_PERIODS)

    def update(self, close: float) -> CloudReading | None:
        """Consume one close; None until the slow EMA has its seed."""
        fast = self._fast.update(close)
        slow = self._slow.update(close)
        if fast is None or slow is None:
            return None
        prev = self.last
        flip = None if prev is None else detect_flip(prev.fast, prev.slow, fast, slow)
        self.last = CloudReading(
            fast=fast, slow=slow, top=max(fast, slow), bottom=min(fast, slow), bullish=fast > slow, flip=flip
        )
        return self.last


FLIP_REL_TOLERANCE = 1e-9  # EMAs closer than this (relative) are "equal": float noise is no flip


def _side(fast: float, slow: float) -> int:
    """+1 fast above slow, -1 below, 0 equal within ``FLIP_REL_TOLERANCE``."""
    if abs(fast - slow) <= FLIP_REL_TOLERANCE * max(abs(fast), abs(slow), 1.0):
        return 0
    return 1 if fast > slow else -1


def detect_flip(prev_fast: float, prev_slow: float, fast: float, slow: float) -> Direction | None:
    """Direction the fast cloud flipped to on this bar, or None.

    Bullish when EMA(fast) was at or below EMA(slow) and is now above it; mirrored
    for bearish. Differences within ``FLIP_REL_TOLERANCE`` of the price count as
    equal, so EMAs converging on a flat price do not "flip" on rounding noise.
    """
    before, now = _side(prev_fast, prev_slow), _side(fast, slow)
    if before <= 0 < now:
        return Direction.BULLISH
    if before >= 0 > now:
        return Direction.BEARISH
    return None


def macro_alignment(
    direction: Direction,
    price: float,
    fast_top: float,
    fast_bottom: float,
    macro_fast: float,
    macro_slow: float,
) -> bool:
    """True when the 10-minute macro cloud agrees with ``direction`` (see module doc)."""
    macro_top, macro_bottom = max(macro_fast, macro_slow), min(macro_fast, macro_slow)
    if direction is Direction.BULLISH:
        return macro_fast > macro_slow and price > macro_top and fast_bottom > macro_top
    return macro_fast < macro_slow and price < macro_bottom and fast_top < macro_bottom


def volume_confirmed(volume: float, avg_volume_20: float | None, mult: float = VOLUME_MULT) -> bool | None:
    """True when ``volume`` > ``mult`` x the mean volume of the 20 previous bars; None when volume is unknown.

    ``volume`` NaN means no volume data: the rule does not apply (None). With a
    known volume, ``avg_volume_20`` (excluding the trigger bar) of None, NaN or
    zero means no baseline and gives False.
    """
    if math.isnan(volume):
        return None
    if not is_finite(avg_volume_20) or avg_volume_20 is None or avg_volume_20 <= 0:
        return False
    return volume > mult * avg_volume_20


@dataclass(frozen=True)
class ConvictionWeights:
    """Points each conviction sub-score is worth; non-negative, summing to 100."""

    macro_alignment: float = 30.0
    volume: float = 25.0
    separation: float = 20.0
    extension: float = 15.0
    time_of_day: float = 10.0

    def __post_init__(self) -> None:
        for name in ("macro_alignment", "volume", "separation", "extension", "time_of_day"):
            require_non_negative(f"ConvictionWeights.{name}", getattr(self, name))
        total = self.macro_alignment + self.volume + self.separation + self.extension + self.time_of_day
        if abs(total - 100.0) > 1e-9:
            raise SignalParameterError(f"ConvictionWeights must sum to 100, got {total!r}")


@dataclass(frozen=True)
class ConvictionInputs:
    """What one trigger bar shows; prices in dollars, ``atr`` is ATR(14) in dollars.

    ``volume_known`` False (no volume data) scores the volume part
    ``UNKNOWN_VOLUME_SCORE`` whatever ``volume_ratio`` says.
    """

    macro_aligned: bool
    volume_ratio: float | None
    price: float
    cloud_top: float
    cloud_bottom: float
    atr: float | None
    minutes_from_open: float
    minutes_to_close: float
    volume_known: bool = True


@dataclass(frozen=True)
class ConvictionSubscores:
    """Each sub-score in [0, 1], before weighting."""

    macro_alignment: float
    volume: float
    separation: float
    extension: float
    time_of_day: float


def _clamp01(x: float) -> float:
    return 0.0 if math.isnan(x) else min(1.0, max(0.0, x))


def conviction_subscores(inputs: ConvictionInputs) -> ConvictionSubscores:
    """The five sub-scores of ``conviction_score``, each in [0, 1]."""
    ratio = inputs.volume_ratio
    if not inputs.volume_known:
        volume = UNKNOWN_VOLUME_SCORE
    elif is_finite(ratio) and ratio is not None:
        volume = _clamp01((ratio - 1.0) / (VOLUME_RATIO_FULL - 1.0))
    else:
        volume = 0.0
    atr = inputs.atr
    if is_finite(atr) and atr is not None and atr > 0:
        separation = _clamp01((inputs.cloud_top - inputs.cloud_bottom) / (SEPARATION_FULL_ATR * atr))
        outside = max(0.0, inputs.price - inputs.cloud_top, inputs.cloud_bottom - inputs.price)
        extension = 1.0 - _clamp01(outside / (EXTENSION_ZERO_ATR * atr))
    else:
        separation = extension = 0.0
    edge = min(inputs.minutes_from_open, inputs.minutes_to_close) < EDGE_OF_SESSION_MINUTES
    return ConvictionSubscores(
        macro_alignment=1.0 if inputs.macro_aligned else 0.0,
        volume=volume,
        separation=separation,
        extension=extension,
        time_of_day=EDGE_OF_SESSION_SCORE if edge else 1.0,
    )


def conviction_score(inputs: ConvictionInputs, weights: ConvictionWeights | None = None) -> int:
    """Conviction 0-100 of an EMA-cloud signal (formula in the module docstring)."""
    w = weights if weights is not None else ConvictionWeights()
    s = conviction_subscores(inputs)
    total = (
        w.macro_alignment * s.macro_alignment
        + w.volume * s.volume
        + w.separation * s.separation
        + w.extension * s.extension
        + w.time_of_day * s.time_of_day
    )
    return min(100, max(0, math.floor(total + 0.5)))


def first_candle_tests_cloud(
    direction: Direction,
    bar_open: float,
    bar_high: float,
    bar_low: float,
    bar_close: float,
    cloud_top: float,
    cloud_bottom: float,
) -> bool:
    """True when the candle after entry tests the fast cloud and bounces (add the second half)."""
    del bar_open  # the candle's colour does not matter for a test-and-bounce
    if direction is Direction.BULLISH:
        return bar_low <= cloud_top and bar_close > cloud_top
    return bar_high >= cloud_bottom and bar_close < cloud_bottom


def exhaustion_candle(
    bar_open: float, bar_high: float, bar_low: float, bar_close: float, cloud_top: float, cloud_bottom: float
) -> Direction | None:
    """Side on which this candle is an exhaustion candle (see module doc), or None."""
    if bar_close > bar_open and bar_low > cloud_top:
        return Direction.BULLISH
    if bar_close < bar_open and bar_high < cloud_bottom:
        return Direction.BEARISH
    return None


@dataclass(frozen=True)
class ExhaustionCount:
    """Consecutive exhaustion candles up to the current bar, per side."""

    bull: int = 0
    bear: int = 0

    def for_direction(self, direction: Direction) -> int:
        """Count on the side of a position held in ``direction``."""
        return self.bull if direction is Direction.BULLISH else self.bear


class ExhaustionCounter:
    """Per-bar counter of the PRD-136 momentum-exhaustion candles."""

    def __init__(self) -> None:
        self.count = ExhaustionCount()

    def update(
        self,
        bar_open: float,
        bar_high: float,
        bar_low: float,
        bar_close: float,
        cloud_top: float,
        cloud_bottom: float,
    ) -> ExhaustionCount:
        side = exhaustion_candle(bar_open, bar_high, bar_low, bar_close, cloud_top, cloud_bottom)
        self.count = ExhaustionCount(
            bull=self.count.bull + 1 if side is Direction.BULLISH else 0,
            bear=self.count.bear + 1 if side is Direction.BEARISH else 0,
        )
        return self.count

    def reset(self) -> None:
        self.count = ExhaustionCount()
