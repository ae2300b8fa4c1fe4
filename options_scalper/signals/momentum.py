"""Momentum scalper signals of seed 003 (section 2.4), per 1-minute bar, framework-free.

All windows are in bars and every percentage is a fraction (0.005 = 0.5%).
Triggers are checked in the guide's order and the first that fires wins:

1. ``momentum_burst``: |velocity| >= ``threshold_pct`` and volume ratio >=
   ``spike_ratio``. Direction = sign of the velocity. Confidence::

       50 + 25 * min(1, |velocity| / threshold_pct - 1) + 25 * min(1, volume_ratio / spike_ratio - 1)

   i.e. 50 at both thresholds, 100 at twice both (rounded half up).
2. ``vwap_bounce`` / ``vwap_rejection``: price within ``touch_pct`` of the
   session VWAP; bounce (bullish) when price is at or above VWAP and velocity >=
   ``velocity_min``; rejection (bearish) when price is at or below VWAP and
   velocity <= -``velocity_min``. Confidence 70.
3. ``breakout``: price above a resistance (below a support) of strength >=
   ``min_strength`` with velocity > ``velocity_min`` (< -``velocity_min``) and
   volume ratio > ``volume_min``. When the previous close is given, it must have
   been at or below the level (at or above for a support): the level is crossed
   on this bar, not merely lying behind the price. The strongest qualifying
   level is used; confidence = 60 + min(5 * strength, 20).

Unknown volume
    A bar whose volume is NaN has no volume data (an underlying derived from
    put-call parity; ``feeds.backtest.clock.UnderlyingFeed`` gives such a session NaN
    volume on every bar, gap minutes included). A volume of 0 is a real minute
    without trades and counts as known. With the volume unknown the volume
    rules are skipped, never passed with an assumed ratio:

    * ``momentum_burst`` fires on velocity alone; its volume half of the
      confidence adds nothing (50 at the threshold, at most 75);
    * ``breakout`` skips the volume confirmation (levels and velocity still apply);
    * ``vwap_bounce`` / ``vwap_rejection`` do not fire: a VWAP needs volume, and
      a time-weighted stand-in would be the constant-volume VWAP 003's sketch is
      faulted for (``seeds/README.md``), a different signal under the same name.

    Burst and breakout triggers carry ``metadata["volume_confirmed"]``: True when
    the volume rule passed, None when it was skipped (volume unknown); every
    trigger of the engine carries ``metadata["volume_known"]``.

``MomentumSignalEngine`` runs velocity, volume ratio, VWAP and support/resistance
on each bar and then the triggers. On the first bar of a new US/Eastern date it
resets the session state (closes used for velocity, VWAP, levels); the volume
baseline carries over. It has no cooldowns or daily limits: the strategy owns those.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from options_scalper.model import Direction
from options_scalper.signals.base import (
    SignalParameterError,
    is_finite,
    require_non_negative,
    require_positive,
    require_positive_int,
    session_date_et,
)
from options_scalper.signals.levels import LevelKind, PriceLevel, SupportResistance
from options_scalper.signals.velocity import VelocityDirection, VelocityReading, velocity
from options_scalper.signals.volume import VolumeSpikeTracker
from options_scalper.signals.vwap import SessionVwap, VwapReading

if TYPE_CHECKING:
    from options_scalper.config import MomentumConfig

__all__ = [
    "LevelKind",
    "MomentumSignalEngine",
    "MomentumSignalParams",
    "MomentumTrigger",
    "PriceLevel",
    "SessionVwap",
    "SupportResistance",
    "TriggerKind",
    "VelocityDirection",
    "VelocityReading",
    "VolumeSpikeTracker",
    "VwapReading",
    "check_breakout",
    "check_momentum_burst",
    "check_vwap",
    "velocity",
]

VWAP_CONFIDENCE = 70
BREAKOUT_BASE_CONFIDENCE = 60


class TriggerKind(StrEnum):
    MOMENTUM_BURST = "momentum_burst"
    VWAP_BOUNCE = "vwap_bounce"
    VWAP_REJECTION = "vwap_rejection"
    BREAKOUT = "breakout"


@dataclass(frozen=True)
class MomentumTrigger:
    """A momentum rule fired: which, which way, how confident (0-100), and why."""

    trigger: TriggerKind
    direction: Direction
    confidence: int
    metadata: Mapping[str, Any] = field(default_factory=dict)


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _volume_passes(volume_ratio: float | None, volume_known: bool, passes: Callable[[float], bool]) -> bool:
    """The volume rule: skipped (passes) when volume is unknown, else a measured ratio that ``passes``."""
    if not volume_known:
        return True
    return volume_ratio is not None and is_finite(volume_ratio) and passes(volume_ratio)


def check_momentum_burst(
    velocity: VelocityReading | None,
    volume_ratio: float | None,
    threshold_pct: float,
    spike_ratio: float,
    *,
    volume_known: bool = True,
) -> MomentumTrigger | None:
    """Momentum burst: a fast move on a volume spike (on the move alone when ``volume_known`` is False).

    With volume known, a missing ratio (no baseline yet) is no spike. With it
    unknown, ``volume_ratio`` is ignored and the confidence has no volume part.
    """
    if velocity is None or not _volume_passes(volume_ratio, volume_known, lambda r: r >= spike_ratio):
        return None
    move = abs(velocity.change_pct)
    if move < threshold_pct or velocity.change_pct == 0:
        return None
    confidence = 50.0 + 25.0 * min(1.0, move / threshold_pct - 1.0)
    if volume_known and volume_ratio is not None:
        confidence += 25.0 * min(1.0, volume_ratio / spike_ratio - 1.0)
    return MomentumTrigger(
        trigger=TriggerKind.MOMENTUM_BURST,
        direction=Direction.BULLISH if velocity.change_pct > 0 else Direction.BEARISH,
        confidence=min(100, _round_half_up(confidence)),
        metadata={
            "velocity_pct": velocity.change_pct,
            "velocity_window_bars": velocity.window_bars,
            "volume_ratio": volume_ratio if volume_known else None,
            "volume_confirmed": True if volume_known else None,
        },
    )


def check_vwap(
    price: float,
    vwap: float | None,
    velocity_pct: float,
    touch_pct: float = 0.002,
    velocity_min: float = 0.001,
) -> MomentumTrigger | None:
    """VWAP bounce (bullish) or rejection (bearish) when price sits on the session VWAP."""
    if vwap is None or not is_finite(vwap) or vwap <= 0:
        return None
    distance_pct = (price - vwap) / vwap
    if abs(distance_pct) > touch_pct:
        return None
    metadata = {"vwap": vwap, "distance_pct": distance_pct, "velocity_pct": velocity_pct}
    if distance_pct >= 0 and velocity_pct >= velocity_min:
        return MomentumTrigger(TriggerKind.VWAP_BOUNCE, Direction.BULLISH, VWAP_CONFIDENCE, metadata)
    if distance_pct <= 0 and velocity_pct <= -velocity_min:
        return MomentumTrigger(TriggerKind.VWAP_REJECTION, Direction.BEARISH, VWAP_CONFIDENCE, metadata)
    return None


def check_breakout(
    price: float,
    levels: Iterable[PriceLevel],
    velocity_pct: float,
    volume_ratio: float | None,
    min_strength: int = 2,
    velocity_min: float = 0.002,
    volume_min: float = 1.5,
    prev_price: float | None = None,
    *,
    volume_known: bool = True,
) -> MomentumTrigger | None:
    """Breakout through a resistance (bullish) or breakdown through a support (bearish).

    ``volume_known`` False skips the volume confirmation (``volume_ratio`` is ignored).
    """
    if not _volume_passes(volume_ratio, volume_known, lambda r: r > volume_min):
        return None
    best: PriceLevel | None = None
    direction = Direction.BULLISH
    for level in levels:
        if level.strength < min_strength or (best is not None and level.strength <= best.strength):
            continue
        if level.kind is LevelKind.RESISTANCE:
            crossed = prev_price is None or prev_price <= level.price
            if price > level.price and velocity_pct > velocity_min and crossed:
                best, direction = level, Direction.BULLISH
        else:
            crossed = prev_price is None or prev_price >= level.price
            if price < level.price and velocity_pct < -velocity_min and crossed:
                best, direction = level, Direction.BEARISH
    if best is None:
        return None
    return MomentumTrigger(
        trigger=TriggerKind.BREAKOUT,
        direction=direction,
        confidence=BREAKOUT_BASE_CONFIDENCE + min(best.strength * 5, 20),
        metadata={
            "level": best.price,
            "level_kind": str(best.kind),
            "level_strength": best.strength,
            "velocity_pct": velocity_pct,
            "volume_ratio": volume_ratio if volume_known else None,
            "volume_confirmed": True if volume_known else None,
        },
    )


@dataclass(frozen=True)
class MomentumSignalParams:
    """Thresholds of ``MomentumSignalEngine``; windows in 1-minute bars, percentages as fractions.

    ``velocity_window_bars`` counts bars of change: 1 compares the last close with
    the one before (``MomentumConfig.momentum_window_bars`` counts closes, so it is
    one more; ``from_config`` converts).
    """

    velocity_window_bars: int = 1
    momentum_threshold_pct: float = 0.005
    volume_spike_ratio: float = 1.5
    volume_baseline_bars: int = 30
    vwap_band_std: float = 1.0
    vwap_touch_pct: float = 0.002
    vwap_velocity_min_pct: float = 0.001
    sr_touch_pct: float = 0.003
    sr_lookback_bars: int = 60
    sr_max_levels: int = 5
    breakout_min_strength: int = 2
    breakout_velocity_min_pct: float = 0.002
    breakout_volume_min: float = 1.5

    def __post_init__(self) -> None:
        for name in ("velocity_window_bars", "volume_baseline_bars", "sr_lookback_bars", "sr_max_levels"):
            require_positive_int(f"MomentumSignalParams.{name}", getattr(self, name))
        for name in ("momentum_threshold_pct", "volume_spike_ratio", "vwap_touch_pct", "sr_touch_pct"):
            require_positive(f"MomentumSignalParams.{name}", getattr(self, name))
        for name in (
            "vwap_band_std",
            "vwap_velocity_min_pct",
            "breakout_velocity_min_pct",
            "breakout_volume_min",
        ):
            require_non_negative(f"MomentumSignalParams.{name}", getattr(self, name))
        if self.breakout_min_strength < 1:
            raise SignalParameterError(
                f"MomentumSignalParams.breakout_min_strength must be >= 1, got {self.breakout_min_strength!r}"
            )

    @classmethod
    def from_config(cls, config: MomentumConfig) -> MomentumSignalParams:
        """Thresholds from the momentum scalper's config (003 defaults)."""
        return cls(
            velocity_window_bars=config.momentum_window_bars - 1,
            momentum_threshold_pct=config.momentum_threshold_pct,
            volume_spike_ratio=config.volume_spike_ratio,
            volume_baseline_bars=config.baseline_window_bars,
            vwap_band_std=config.vwap_band_std,
            vwap_touch_pct=config.vwap_touch_pct,
            sr_touch_pct=config.sr_touch_pct,
            sr_lookback_bars=config.sr_lookback_bars,
            sr_max_levels=config.sr_max_levels,
            vwap_velocity_min_pct=config.vwap_velocity_pct,
            breakout_min_strength=config.sr_min_strength,
            breakout_velocity_min_pct=config.breakout_velocity_pct,
            breakout_volume_min=config.breakout_volume_ratio,
        )


class MomentumSignalEngine:
    """Per-bar momentum signal logic: ``update(ts, o, h, l, c, v) -> MomentumTrigger | None``.

    ``v`` NaN means the bar's volume is unknown (module doc, "Unknown volume");
    ``volume_known`` tells what the last bar had.
    """

    def __init__(self, params: MomentumSignalParams | None = None) -> None:
        self.params = p = params if params is not None else MomentumSignalParams()
        self._closes: deque[float] = deque(maxlen=p.velocity_window_bars + 1)
        self._volume = VolumeSpikeTracker(p.volume_baseline_bars)
        self._vwap = SessionVwap(p.vwap_band_std)
        self._levels = SupportResistance(p.sr_touch_pct, p.sr_lookback_bars, p.sr_max_levels)
        self.session_date: date | None = None
        self.velocity: VelocityReading | None = None
        self.volume_ratio: float | None = None
        self.volume_known = True
        self.vwap: VwapReading | None = None

    @property
    def levels(self) -> SupportResistance:
        return self._levels

    def reset_session(self) -> None:
        """Forget the session: closes, VWAP, levels (not the volume baseline)."""
        self._closes.clear()
        self._vwap.reset()
        self._levels.reset()
        self.velocity = None
        self.vwap = None

    def update(
        self, ts: datetime, bar_open: float, high: float, low: float, close: float, volume: float
    ) -> MomentumTrigger | None:
        """Consume the bar that closed at ``ts`` (naive = UTC) and return the first trigger that fires.

        ``volume`` is NaN when unknown (volume rules skipped), 0 for a minute without trades.
        """
        del bar_open  # the rules look at closes, ranges and volume only
        p = self.params
        day = session_date_et(ts)
        if day != self.session_date:
            self.reset_session()
            self.session_date = day
        prev_close = self._closes[-1] if self._closes else None
        self._closes.append(close)
        self.velocity = velocity(self._closes, p.velocity_window_bars)
        self.volume_known = known = not math.isnan(volume)
        self.volume_ratio = self._volume.update(volume)
        self.vwap = self._vwap.update(high, low, close, volume, day)
        self._levels.update(high, low)

        vel = self.velocity
        if vel is None:
            return None
        trigger = check_momentum_burst(
            vel, self.volume_ratio, p.momentum_threshold_pct, p.volume_spike_ratio, volume_known=known
        )
        if trigger is None and known and self.vwap is not None:
            trigger = check_vwap(
                close, self.vwap.vwap, vel.change_pct, p.vwap_touch_pct, p.vwap_velocity_min_pct
            )
        if trigger is None:
            trigger = check_breakout(
                close,
                self._levels.resistance + self._levels.support,
                vel.change_pct,
                self.volume_ratio,
                p.breakout_min_strength,
                p.breakout_velocity_min_pct,
                p.breakout_volume_min,
                prev_price=prev_close,
                volume_known=known,
            )
        if trigger is None:
            return None
        meta = {"ts": ts, "price": close, "volume_known": known, **trigger.metadata}
        return MomentumTrigger(trigger.trigger, trigger.direction, trigger.confidence, meta)
