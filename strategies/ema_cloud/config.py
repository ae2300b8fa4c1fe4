"""``EmaCloudConfig``: PRD-136's ``ScalpConfig`` plus the EMA-cloud signal's own knobs.

Every field becomes a Backtrader param of ``EmaCloudScalp`` (via
``strategies.base.params_from_config``), so ``--param``, ``--optimize`` and
``optstrategy`` reach the signal settings the same way they reach PRD-136's.
Defaults are PRD-136's and ``options_scalper.signals.ema_cloud``'s constants.
No backtrader import here: the config is built and validated without Cerebro.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from options_scalper.config import ConfigError, ExitRules, ScalpConfig
from options_scalper.signals.base import SignalParameterError
from options_scalper.signals.ema_cloud import (
    ATR_BARS,
    EXHAUSTION_MIN_CANDLES,
    FAST_CLOUD_PERIODS,
    MACRO_BAR_MINUTES,
    MACRO_CLOUD_PERIODS,
    VOLUME_AVG_BARS,
    VOLUME_MULT,
    ConvictionWeights,
)

__all__ = ["EmaCloudConfig"]

_W = ConvictionWeights()


def _num(default: float, lo: float, hi: float, doc: str = "") -> Any:
    """A numeric field valid in [lo, hi] (checked by ``ScalpConfig``'s field validation)."""
    return field(default=default, metadata={"range": (lo, hi), "doc": doc})


@dataclass(frozen=True)
class EmaCloudConfig(ScalpConfig):
    """ScalpConfig + EMA periods (bars), macro bar size (minutes), volume rule and conviction weights.

    The five ``w_*`` conviction weights are points out of 100 and must sum to 100
    (change them together). ``exhaustion_candles`` replaces the 3 of
    ``ScalpConfig.exit_rules()``.
    """

    ema_fast: int = _num(FAST_CLOUD_PERIODS[0], 1, 1000, "fast cloud fast EMA, 1-min bars")
    ema_slow: int = _num(FAST_CLOUD_PERIODS[1], 2, 1000, "fast cloud slow EMA, 1-min bars")
    macro_ema_fast: int = _num(MACRO_CLOUD_PERIODS[0], 1, 1000, "macro cloud fast EMA, macro bars")
    macro_ema_slow: int = _num(MACRO_CLOUD_PERIODS[1], 2, 1000, "macro cloud slow EMA, macro bars")
    macro_compression: int = _num(MACRO_BAR_MINUTES, 1, 390, "macro bar size, minutes")
    volume_lookback: int = _num(VOLUME_AVG_BARS, 1, 390, "bars in the volume baseline")
    volume_mult: float = _num(VOLUME_MULT, 0.0, 100.0, "trigger volume > mult x baseline")
    exhaustion_candles: int = _num(EXHAUSTION_MIN_CANDLES, 1, 390, "stretched candles in a row")
    atr_period: int = _num(ATR_BARS, 1, 390, "ATR bars for conviction")
    w_macro_alignment: float = _num(_W.macro_alignment, 0.0, 100.0, "conviction points")
    w_volume: float = _num(_W.volume, 0.0, 100.0, "conviction points")
    w_separation: float = _num(_W.separation, 0.0, 100.0, "conviction points")
    w_extension: float = _num(_W.extension, 0.0, 100.0, "conviction points")
    w_time_of_day: float = _num(_W.time_of_day, 0.0, 100.0, "conviction points")

    def __post_init__(self) -> None:
        super().__post_init__()
        for fast, slow in (("ema_fast", "ema_slow"), ("macro_ema_fast", "macro_ema_slow")):
            if getattr(self, fast) >= getattr(self, slow):
                raise ConfigError(
                    f"{fast} {getattr(self, fast)} must be shorter than {slow} {getattr(self, slow)}"
                )
        try:
            self.conviction_weights()
        except SignalParameterError as exc:
            raise ConfigError(
                f"w_macro_alignment + w_volume + w_separation + w_extension + w_time_of_day must sum to "
                f"100 (got {self._weight_sum():g}); change the weights together"
            ) from exc

    def _weight_sum(self) -> float:
        return (
            self.w_macro_alignment + self.w_volume + self.w_separation + self.w_extension + self.w_time_of_day
        )

    def conviction_weights(self) -> ConvictionWeights:
        """The ``w_*`` fields as the weights ``conviction_score`` takes."""
        return ConvictionWeights(
            macro_alignment=self.w_macro_alignment,
            volume=self.w_volume,
            separation=self.w_separation,
            extension=self.w_extension,
            time_of_day=self.w_time_of_day,
        )

    def exit_rules(self) -> ExitRules:
        return dataclasses.replace(super().exit_rules(), exhaustion_candles=self.exhaustion_candles)
