"""Frozen, validated configuration of both scalpers and the criteria derived from it.

Conventions (every field, every class here):

* percentages are FRACTIONS: ``0.10`` = 10 %. Seed 003 writes percents
  (``max_spread_pct: 8.0``); they are converted here (``0.08``).
* windows are in BARS of one minute, never seconds: 1-minute bars cannot see a
  30-second window, so 003's ``momentum_window_seconds = 30`` becomes
  ``momentum_window_bars = 2``: the window holds two closes, so the move is the
  last 1-minute change, the shortest a 1-minute bar can show. 60 s intervals
  and cooldowns become 1 bar / minute.
* times of day are ``"HH:MM"`` strings in US/Eastern; the ``*_et`` properties
  give them as ``datetime.time``. Half-day shifts are applied by ``calendar``.

``ScalpConfig`` holds PRD-136's defaults (EMA-cloud scalper), ``MomentumConfig``
seed 003's (momentum scalper). Each turns itself into the small criteria objects
the pipeline stages consume: ``selection_criteria()``, ``gate_criteria()``,
``sizing_rule()`` and ``exit_rules()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import ClassVar

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
from options_scalper.config_momentum import PROFILES, MomentumConfig
from options_scalper.constants import DEFAULT_MAX_QUOTE_AGE_MIN

__all__ = [
    "PROFILES",
    "ConfigError",
    "EntryOrderType",
    "ExitRules",
    "GateCriteria",
    "MomentumConfig",
    "ScalpConfig",
    "SelectionCriteria",
    "SizingMode",
    "SizingRule",
    "parse_hhmm",
]

# --------------------------------------------------------------------------- PRD-136


_DEFAULT_TICKERS = ("SPY", "QQQ", "NVDA", "TSLA", "AAPL", "MSFT", "META", "AMZN")


@dataclass(frozen=True)
class ScalpConfig(_ConfigBase):
    """PRD-136 EMA-cloud scalper. Fractions (0.10 = 10 %), times "HH:MM" US/Eastern."""

    # seed 003's names for the same settings
    ALIASES: ClassVar[Mapping[str, str]] = {
        "take_profit_pct": "profit_target_pct",
        "stop_loss_pct": "max_loss_pct",
    }

    # Instruments
    scalp_tickers: tuple[str, ...] = _DEFAULT_TICKERS
    allow_spx: bool = True  # SPX 0DTE (IBKR only)
    # Strike selection
    target_delta_min: float = _num(0.30, 0.0, 1.0, "|delta| lower bound")
    target_delta_max: float = _num(0.50, 0.0, 1.0, "|delta| upper bound")
    max_spread_pct: float = _num(0.10, 0.0, 1.0, "(ask - bid) / mid")
    min_open_interest: int = _num(1000, 0, 10**9, "contracts")
    min_volume: int = _num(500, 0, 10**9, "contracts traded today")
    # Risk
    max_risk_per_scalp: float = _num(0.02, 0.0, 1.0, "fraction of equity at risk")
    max_loss_pct: float = _num(0.50, 0.01, 1.0, "stop, fraction of premium")
    profit_target_pct: float = _num(0.25, 0.0, 10.0, "target, fraction of premium")
    max_concurrent_scalps: int = _num(3, 1, 1000)
    no_average_up: bool = True  # never add to a losing option position
    # Greeks
    max_iv_rank: float = _num(0.80, 0.0, 1.0, "fraction of the IV range")
    max_theta_burn_pct: float = _num(0.05, 0.0, 1.0, "|theta per day| / premium")
    max_gamma: float = _num(0.15, 0.0, 10.0, "per $1 of underlying")
    # Timing
    scalp_start_time: str = _hhmm("09:35")
    zero_dte_cutoff: str = _hhmm("14:00")
    one_dte_cutoff: str = _hhmm("15:30")
    no_scalp_around_fomc: bool = True
    # Execution
    entry_order_type: EntryOrderType = EntryOrderType.LIMIT
    limit_offset: float = _num(0.02, 0.0, 10.0, "dollars above mid")
    fill_timeout_seconds: int = _num(15, 1, 3600)
    # seed 003 paper checklist: fills within 5% of the expected entry (the decision ask)
    max_entry_slippage_pct: float = _num(0.05, 0.0, 10.0, "fill at most this far above the decision ask")
    # Conviction
    min_conviction_to_scalp: int = _num(50, 0, 100)
    require_macro_alignment: bool = True
    # Additions (not in PRD-136, documented in the module docstring of each use)
    max_dte: int = _num(1, 0, 30, "trading sessions to expiry")
    max_quote_age_minutes: float = _num(DEFAULT_MAX_QUOTE_AGE_MIN, 0.0, 390.0)
    fomc_blackout_minutes: int = _num(30, 0, 390, "minutes either side")
    risk_free_rate: float = _num(0.05, -0.05, 1.0, "annual, continuous")
    dividend_yield: float = _num(0.0, 0.0, 1.0, "annual, continuous")
    full_conviction: int = _num(75, 0, 100, ">= this: full size")
    half_position_entry: bool = True  # enter half, add half on a cloud bounce
    min_iv_history_days: int = _num(20, 0, 400, "days of IV before the IV percentile counts")

    def __post_init__(self) -> None:
        if isinstance(self.scalp_tickers, str | list):
            tickers = (
                self.scalp_tickers.split(",") if isinstance(self.scalp_tickers, str) else self.scalp_tickers
            )
            object.__setattr__(self, "scalp_tickers", tuple(t.strip().upper() for t in tickers if t.strip()))
        if not isinstance(self.scalp_tickers, tuple) or not all(
            isinstance(t, str) and t for t in self.scalp_tickers
        ):
            raise ConfigError(f"scalp_tickers: expected a tuple of symbols, got {self.scalp_tickers!r}")
        self._validate_fields()
        if self.target_delta_min > self.target_delta_max:
            raise ConfigError(
                f"target_delta_min {self.target_delta_min} > target_delta_max {self.target_delta_max}; "
                "valid range is 0 <= target_delta_min <= target_delta_max <= 1"
            )
        if self.min_conviction_to_scalp > self.full_conviction:
            raise ConfigError(
                f"min_conviction_to_scalp {self.min_conviction_to_scalp} > full_conviction "
                f"{self.full_conviction}; valid: min_conviction_to_scalp <= full_conviction"
            )
        start = self.scalp_start_et
        for name in ("zero_dte_cutoff", "one_dte_cutoff"):
            if parse_hhmm(getattr(self, name), name) <= start:
                raise ConfigError(
                    f"{name} {getattr(self, name)} must be after scalp_start_time {self.scalp_start_time}"
                )

    # times as datetime.time (US/Eastern), the shape ``calendar.is_tradable`` reads
    @property
    def scalp_start_et(self) -> time:
        return parse_hhmm(self.scalp_start_time, "scalp_start_time")

    @property
    def zero_dte_cutoff_et(self) -> time | None:
        return parse_hhmm(self.zero_dte_cutoff, "zero_dte_cutoff")

    @property
    def one_dte_cutoff_et(self) -> time | None:
        return parse_hhmm(self.one_dte_cutoff, "one_dte_cutoff")

    @property
    def session_exit_et(self) -> time | None:
        return None  # PRD-136: the 0DTE / 1DTE cutoffs close everything

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ScalpConfig:
        """Build from ``SCALP_<FIELD>`` variables (fractions, as the fields); others ignored."""
        import os

        env = os.environ if environ is None else environ
        return cls().with_overrides(**cls._from_env_fields(env))

    def selection_criteria(self) -> SelectionCriteria:
        return SelectionCriteria(
            delta_min=self.target_delta_min,
            delta_max=self.target_delta_max,
            delta_target=(self.target_delta_min + self.target_delta_max) / 2.0,
            max_spread_pct=self.max_spread_pct,
            min_open_interest=self.min_open_interest,
            min_volume=self.min_volume,
            max_dte=self.max_dte,
            prefer_0dte=True,
            max_contract_price=math.inf,
            max_quote_age_minutes=self.max_quote_age_minutes,
            zero_dte_cutoff=self.zero_dte_cutoff_et,
            risk_free_rate=self.risk_free_rate,
            dividend_yield=self.dividend_yield,
        )

    def gate_criteria(self) -> GateCriteria:
        return GateCriteria(
            max_iv_rank=self.max_iv_rank,
            max_theta_burn_pct=self.max_theta_burn_pct,
            max_spread_pct=self.max_spread_pct,
            delta_min=self.target_delta_min,
            delta_max=self.target_delta_max,
            max_gamma=self.max_gamma,
            min_iv_history_days=self.min_iv_history_days,
        )

    def sizing_rule(self) -> SizingRule:
        return SizingRule(
            mode=SizingMode.RISK_BUDGET,
            max_risk_per_scalp=self.max_risk_per_scalp,
            max_loss_pct=self.max_loss_pct,
            position_size_pct=0.0,  # unused in RISK_BUDGET
            max_contract_price=math.inf,
            full_conviction=self.full_conviction,
            min_conviction=self.min_conviction_to_scalp,
            max_concurrent=self.max_concurrent_scalps,
        )

    def exit_rules(self) -> ExitRules:
        return ExitRules(
            profit_target_pct=self.profit_target_pct,
            stop_loss_pct=self.max_loss_pct,
            max_hold_minutes=None,
            zero_dte_cutoff=self.zero_dte_cutoff_et,
            one_dte_cutoff=self.one_dte_cutoff_et,
            session_exit_time=None,
            exhaustion_candles=3,
            use_cloud_flip=True,
        )
