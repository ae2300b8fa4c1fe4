"""``MomentumConfig``: seed 003's momentum scalper, its environment names and its profiles (table 5.2)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any, ClassVar

from options_scalper.config_base import (
    ConfigError,
    EntryOrderType,
    ExitRules,
    GateCriteria,
    SelectionCriteria,
    SizingMode,
    SizingRule,
    _ConfigBase,
    _hhmm,
    _num,
    parse_hhmm,
)
from options_scalper.constants import DEFAULT_MAX_QUOTE_AGE_MIN


@dataclass(frozen=True)
class MomentumConfig(_ConfigBase):
    """Seed 003 momentum scalper. Fractions (0.005 = 0.5 %), windows in 1-minute bars.

    003's ``enabled`` and ``eval_interval_seconds`` are live-loop plumbing and
    have no field here.
    """

    # PRD-136's names for the same settings
    ALIASES: ClassVar[Mapping[str, str]] = {
        "profit_target_pct": "take_profit_pct",
        "max_loss_pct": "stop_loss_pct",
    }

    # Momentum
    momentum_threshold_pct: float = _num(0.005, 0.0, 1.0, "|move| over the window")
    # closes in the window: move = close[-1] / close[-N] - 1; 2 = the last 1-min change
    momentum_window_bars: int = _num(2, 2, 391, "003: 30 s, on 1-min bars")
    # Volume
    volume_spike_ratio: float = _num(1.5, 0.0, 100.0, "bar volume / baseline mean")
    baseline_window_bars: int = _num(30, 1, 390)
    # Option selection
    target_delta: float = _num(0.35, 0.0, 1.0)
    delta_tolerance: float = _num(0.10, 0.0, 1.0)
    max_spread_pct: float = _num(0.08, 0.0, 1.0, "(ask - bid) / mid")
    min_open_interest: int = _num(100, 0, 10**9)
    max_dte: int = _num(1, 0, 30, "trading sessions to expiry")
    prefer_0dte: bool = True
    # Risk
    take_profit_pct: float = _num(0.30, 0.0, 10.0)
    stop_loss_pct: float = _num(0.15, 0.01, 1.0)
    max_hold_minutes: int = _num(15, 1, 390)
    # Limits
    max_daily_scalps: int = _num(10, 1, 10_000)
    max_concurrent_scalps: int = _num(1, 1, 1000)
    scalp_position_size_pct: float = _num(0.05, 0.0, 1.0, "fraction of equity")
    max_contract_price: float = _num(5.00, 0.0, 100_000.0, "dollars per share")
    # Cooldowns
    min_signal_interval_bars: int = _num(1, 0, 390, "003: 60 s")
    cooldown_after_loss_minutes: int = _num(5, 0, 390, "003: 300 s")
    # Technical levels (003's TechnicalScalper constants)
    vwap_band_std: float = _num(1.0, 0.0, 10.0)
    vwap_touch_pct: float = _num(0.002, 0.0, 1.0)
    vwap_velocity_pct: float = _num(0.001, 0.0, 1.0, "min |move| for a VWAP bounce / rejection")
    sr_touch_pct: float = _num(0.003, 0.0, 1.0)
    sr_lookback_bars: int = _num(60, 1, 390)
    sr_max_levels: int = _num(5, 1, 100)
    sr_min_strength: int = _num(2, 1, 100, "touches")
    breakout_velocity_pct: float = _num(0.002, 0.0, 1.0)
    breakout_volume_ratio: float = _num(1.5, 0.0, 100.0, "breakout needs bar volume / baseline above this")
    # Execution and timing
    entry_order_type: EntryOrderType = EntryOrderType.ASK
    limit_offset: float = _num(0.02, 0.0, 10.0, "dollars above mid")
    fill_timeout_seconds: int = _num(60, 1, 3600)
    # seed 003 paper checklist: fills within 5% of the expected entry (the decision ask)
    max_entry_slippage_pct: float = _num(0.05, 0.0, 10.0, "fill at most this far above the decision ask")
    scalp_start_time: str = _hhmm("09:35")
    max_quote_age_minutes: float = _num(DEFAULT_MAX_QUOTE_AGE_MIN, 0.0, 390.0)
    risk_free_rate: float = _num(0.05, -0.05, 1.0)
    dividend_yield: float = _num(0.0, 0.0, 1.0)
    no_scalp_around_fomc: bool = True
    fomc_blackout_minutes: int = _num(30, 0, 390)
    session_exit_time: str = _hhmm("15:50")

    # SCALP_* variable -> (field, converter) for seed 003 section 5.1
    _ENV_VARS: ClassVar[dict[str, tuple[str, str]]] = {
        "SCALP_MOMENTUM_THRESHOLD": ("momentum_threshold_pct", "percent"),
        "SCALP_MOMENTUM_WINDOW": ("momentum_window_bars", "seconds_to_closes"),
        "SCALP_VOLUME_SPIKE_RATIO": ("volume_spike_ratio", "float"),
        "SCALP_TARGET_DELTA": ("target_delta", "float"),
        "SCALP_MAX_SPREAD_PCT": ("max_spread_pct", "percent"),
        "SCALP_MAX_DTE": ("max_dte", "int"),
        "SCALP_MAX_CONTRACT_PRICE": ("max_contract_price", "float"),
        "SCALP_TAKE_PROFIT": ("take_profit_pct", "percent"),
        "SCALP_STOP_LOSS": ("stop_loss_pct", "percent"),
        "SCALP_MAX_HOLD_MINUTES": ("max_hold_minutes", "int"),
        "SCALP_MAX_DAILY_TRADES": ("max_daily_scalps", "int"),
        "SCALP_MAX_CONCURRENT": ("max_concurrent_scalps", "int"),
        "SCALP_POSITION_SIZE_PCT": ("scalp_position_size_pct", "percent"),
        "SCALP_MIN_SIGNAL_INTERVAL": ("min_signal_interval_bars", "seconds_to_bars0"),
        "SCALP_LOSS_COOLDOWN": ("cooldown_after_loss_minutes", "seconds_to_minutes"),
    }

    def __post_init__(self) -> None:
        self._validate_fields()
        lo, hi = self.target_delta - self.delta_tolerance, self.target_delta + self.delta_tolerance
        if lo < 0.0 or hi > 1.0:
            raise ConfigError(
                f"target_delta {self.target_delta} +/- delta_tolerance {self.delta_tolerance} "
                "leaves [0, 1]; valid: 0 <= target_delta - tolerance, target_delta + tolerance <= 1"
            )
        if self.session_exit_et <= self.scalp_start_et:
            raise ConfigError(
                f"session_exit_time {self.session_exit_time} must be after scalp_start_time "
                f"{self.scalp_start_time}"
            )

    @property
    def scalp_start_et(self) -> time:
        return parse_hhmm(self.scalp_start_time, "scalp_start_time")

    @property
    def zero_dte_cutoff_et(self) -> time | None:
        return None

    @property
    def one_dte_cutoff_et(self) -> time | None:
        return None

    @property
    def session_exit_et(self) -> time:
        return parse_hhmm(self.session_exit_time, "session_exit_time")

    @classmethod
    def from_profile(cls, name: str, **overrides: Any) -> MomentumConfig:
        """Start from a seed-003 profile (``PROFILES``) and apply ``overrides``."""
        key = name.strip().lower()
        if key not in PROFILES:
            raise ConfigError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}")
        return cls().with_overrides(**PROFILES[key]).with_overrides(**overrides)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, profile: str | None = None) -> MomentumConfig:
        """Build from seed 003's ``SCALP_*`` variables (percents and seconds, as 003 writes them).

        Percent variables are divided by 100. Seconds become minutes/bars by
        ceil(s / 60) (an interval of 0 stays 0); SCALP_MOMENTUM_WINDOW counts
        closes, so it is ceil(s / 60) + 1 (30 s -> 2 closes = the last 1-minute
        move, the default). Unset variables keep the default (or the
        ``profile``'s value).
        """
        import os

        env = os.environ if environ is None else environ
        base = cls.from_profile(profile) if profile else cls()
        values: dict[str, Any] = {}
        for var, (name, kind) in cls._ENV_VARS.items():
            if var not in env:
                continue
            raw = env[var]
            try:
                values[name] = _convert_env(raw, kind)
            except ValueError as exc:
                raise ConfigError(f"{var}={raw!r}: {exc}") from exc
        try:
            return base.with_overrides(**values)
        except ConfigError as exc:
            names = {n: v for v, (n, _) in cls._ENV_VARS.items()}
            culprit = next((names[n] for n in values if str(exc).startswith(n + ":")), "SCALP_*")
            raise ConfigError(f"{culprit}: {exc}") from exc

    def selection_criteria(self) -> SelectionCriteria:
        return SelectionCriteria(
            delta_min=self.target_delta - self.delta_tolerance,
            delta_max=self.target_delta + self.delta_tolerance,
            delta_target=self.target_delta,
            max_spread_pct=self.max_spread_pct,
            min_open_interest=self.min_open_interest,
            min_volume=0,
            max_dte=self.max_dte,
            prefer_0dte=self.prefer_0dte,
            max_contract_price=self.max_contract_price,
            max_quote_age_minutes=self.max_quote_age_minutes,
            zero_dte_cutoff=None,
            risk_free_rate=self.risk_free_rate,
            dividend_yield=self.dividend_yield,
        )

    def gate_criteria(self) -> GateCriteria:
        return GateCriteria(
            max_iv_rank=None,
            max_theta_burn_pct=None,
            max_spread_pct=self.max_spread_pct,
            delta_min=self.target_delta - self.delta_tolerance,
            delta_max=self.target_delta + self.delta_tolerance,
            max_gamma=None,
            min_iv_history_days=0,
        )

    def sizing_rule(self) -> SizingRule:
        return SizingRule(
            mode=SizingMode.PERCENT_OF_EQUITY,
            max_risk_per_scalp=0.0,  # unused in PERCENT_OF_EQUITY
            max_loss_pct=self.stop_loss_pct,
            position_size_pct=self.scalp_position_size_pct,
            max_contract_price=self.max_contract_price,
            full_conviction=0,  # 003 does not scale size by confidence
            min_conviction=0,
            max_concurrent=self.max_concurrent_scalps,
        )

    def exit_rules(self) -> ExitRules:
        return ExitRules(
            profit_target_pct=self.take_profit_pct,
            stop_loss_pct=self.stop_loss_pct,
            max_hold_minutes=self.max_hold_minutes,
            zero_dte_cutoff=None,
            one_dte_cutoff=None,
            session_exit_time=self.session_exit_et,
            exhaustion_candles=None,
            use_cloud_flip=False,
        )


def _convert_env(raw: str, kind: str) -> float | int:
    text = raw.strip()
    if kind == "float":
        return float(text)
    if kind == "percent":
        return round(float(text.rstrip("%")) / 100.0, 12)
    number = float(text)
    if kind == "int":
        if not number.is_integer():
            raise ValueError("expected a whole number")
        return int(number)
    if number < 0:
        raise ValueError("expected a non-negative number of seconds")
    if kind == "seconds_to_closes":
        return math.ceil(number / 60.0) + 1
    # seconds_to_bars0 / seconds_to_minutes: 0 keeps "no interval"
    return math.ceil(number / 60.0)


# Seed 003 table 5.2, as fractions. "moderate" equals the defaults.
PROFILES: dict[str, dict[str, float | int]] = {
    "conservative": {
        "momentum_threshold_pct": 0.007,
        "volume_spike_ratio": 2.0,
        "take_profit_pct": 0.25,
        "stop_loss_pct": 0.10,
        "max_hold_minutes": 10,
        "max_daily_scalps": 5,
    },
    "moderate": {
        "momentum_threshold_pct": 0.005,
        "volume_spike_ratio": 1.5,
        "take_profit_pct": 0.30,
        "stop_loss_pct": 0.15,
        "max_hold_minutes": 15,
        "max_daily_scalps": 10,
    },
    "aggressive": {
        "momentum_threshold_pct": 0.003,
        "volume_spike_ratio": 1.2,
        "take_profit_pct": 0.40,
        "stop_loss_pct": 0.20,
        "max_hold_minutes": 20,
        "max_daily_scalps": 15,
    },
}
