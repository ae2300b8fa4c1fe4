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

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from typing import Any, ClassVar, Self

from options_scalper.constants import DEFAULT_MAX_QUOTE_AGE_MIN
from options_scalper.model import ScalperError

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


class ConfigError(ScalperError, ValueError):
    """A configuration value is out of range, malformed or unknown."""


class EntryOrderType(StrEnum):
    """How an entry order is priced."""

    LIMIT = "limit"  # limit at mid + limit_offset (PRD-136)
    ASK = "ask"  # marketable: pay the ask (seed 003)


class SizingMode(StrEnum):
    """How ``ScalpSizer`` turns equity into contracts."""

    RISK_BUDGET = "risk_budget"  # PRD-136: equity * risk / (premium * 100 * max_loss)
    PERCENT_OF_EQUITY = "percent_of_equity"  # 003: equity * pct / (ask * 100)


def parse_hhmm(value: str | time, name: str = "time") -> time:
    """Parse ``"HH:MM"`` (24-hour, US/Eastern by convention) into a ``time``."""
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{name}: expected an 'HH:MM' string, got {value!r}")
    parts = value.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[1]) != 2:
        raise ConfigError(f"{name}: {value!r} is not 'HH:MM' (24-hour, e.g. '09:35')")
    hour, minute = int(parts[0]), int(parts[1])
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ConfigError(f"{name}: {value!r} is not a valid time of day (00:00-23:59)")
    return time(hour, minute)


# --------------------------------------------------------------------------- fields


def _num(default: float, lo: float, hi: float, doc: str = "") -> Any:
    """A numeric field valid in [lo, hi]; the range is kept for messages and checks."""
    return field(default=default, metadata={"range": (lo, hi), "doc": doc})


def _hhmm(default: str, doc: str = "") -> Any:
    return field(default=default, metadata={"hhmm": True, "doc": doc})


_TRUE = frozenset({"1", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "no", "n", "off"})


def _coerce(name: str, current: Any, value: Any) -> Any:
    """Turn a CLI/env string into the type of ``current``; pass non-strings through."""
    if not isinstance(value, str):
        if isinstance(current, tuple) and isinstance(value, list):
            return tuple(value)
        return value
    text = value.strip()
    try:
        if isinstance(current, bool):
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError(f"expected true/false, got {value!r}")
        if isinstance(current, StrEnum):
            return type(current)(text.lower())
        if isinstance(current, int):
            as_float = float(text)
            if not as_float.is_integer():
                raise ValueError(f"expected a whole number, got {value!r}")
            return int(as_float)
        if isinstance(current, float):
            if text.endswith("%"):
                return float(text[:-1]) / 100.0
            return float(text)
        if isinstance(current, tuple):
            return tuple(s.strip().upper() for s in text.split(",") if s.strip())
    except ValueError as exc:
        valid = ""
        if isinstance(current, StrEnum):
            valid = f" (valid: {', '.join(m.value for m in type(current))})"
        raise ConfigError(f"{name}: cannot use {value!r}{valid}: {exc}") from exc
    return text


class _ConfigBase:
    """Validation, overrides and env loading shared by the config dataclasses.

    ``ALIASES`` maps the other seed's name of a concept to this config's field
    (PRD-136 says ``profit_target_pct`` / ``max_loss_pct``, seed 003
    ``take_profit_pct`` / ``stop_loss_pct``), so ``with_overrides`` and
    ``--param`` take either name on every strategy.
    """

    _ENV_PREFIX: ClassVar[str] = "SCALP_"
    ALIASES: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def canonical_name(cls, name: str) -> str:
        """This config's field for ``name`` (an alias becomes its field; other names are returned as given)."""
        return cls.ALIASES.get(name, name)

    @classmethod
    def resolve_aliases(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` with aliases renamed to their fields; ``ConfigError`` when both names are given."""
        out: dict[str, Any] = {}
        for name, value in values.items():
            field_name = cls.canonical_name(name)
            if field_name in out:
                raise ConfigError(f"{name} and {field_name} are the same setting; give one of them")
            out[field_name] = value
        return out

    def _validate_fields(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            rng = f.metadata.get("range")
            if rng is not None:
                self._check_number(f.name, value, f.default, rng)
            elif f.metadata.get("hhmm"):
                parse_hhmm(value, f.name)
            elif isinstance(f.default, bool) and not isinstance(value, bool):
                raise ConfigError(f"{f.name}: expected true/false, got {value!r}")
            elif isinstance(f.default, StrEnum):
                enum_type = type(f.default)
                try:
                    object.__setattr__(self, f.name, enum_type(value))
                except ValueError as exc:
                    valid = ", ".join(m.value for m in enum_type)
                    raise ConfigError(f"{f.name}: {value!r} is not one of: {valid}") from exc

    @staticmethod
    def _check_number(name: str, value: Any, default: Any, rng: tuple[float, float]) -> None:
        lo, hi = rng
        want_int = isinstance(default, int) and not isinstance(default, bool)
        ok_type = isinstance(value, int) if want_int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type:
            kind = "a whole number" if want_int else "a number"
            raise ConfigError(f"{name}: expected {kind} in [{lo:g}, {hi:g}], got {value!r}")
        if math.isnan(value) or not (lo <= value <= hi):
            raise ConfigError(f"{name}: {value!r} is out of range; valid range is [{lo:g}, {hi:g}]")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Names accepted by the constructor, ``with_overrides`` and ``from_env``."""
        return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    @classmethod
    def _check_names(cls, names: Any) -> None:
        valid = cls.field_names()
        unknown = sorted(set(names) - set(valid))
        if unknown:
            raise ConfigError(
                f"{cls.__name__}: unknown field(s) {', '.join(unknown)}; valid fields: {', '.join(valid)}"
            )

    def with_overrides(self, **overrides: Any) -> Self:
        """Return a copy with fields replaced; strings ("0.3", "true", "09:35") are coerced; aliases accepted."""
        overrides = self.resolve_aliases(overrides)
        self._check_names(overrides)
        coerced = {k: _coerce(k, getattr(self, k), v) for k, v in overrides.items()}
        return dataclasses.replace(self, **coerced)  # type: ignore[type-var]

    @classmethod
    def _from_env_fields(cls, environ: Mapping[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in cls.field_names():
            var = cls._ENV_PREFIX + name.upper()
            if var in environ:
                out[name] = environ[var]
        return out


# --------------------------------------------------------------------------- criteria


@dataclass(frozen=True)
class SelectionCriteria:
    """What ``StrikeSelector`` filters and ranks on (fractions; cutoff in US/Eastern).

    ``zero_dte_cutoff``: from this time of day (half-day shifted by the caller via
    ``calendar.effective_cutoff``) same-day expiries are no longer selected.
    ``max_contract_price`` is dollars per share (inf = no cap).
    """

    delta_min: float
    delta_max: float
    delta_target: float
    max_spread_pct: float
    min_open_interest: int
    min_volume: int
    max_dte: int
    prefer_0dte: bool
    max_contract_price: float
    max_quote_age_minutes: float
    zero_dte_cutoff: time | None
    risk_free_rate: float
    dividend_yield: float

    def __post_init__(self) -> None:
        if not (0.0 <= self.delta_min <= self.delta_target <= self.delta_max <= 1.0):
            raise ConfigError(
                "SelectionCriteria: need 0 <= delta_min <= delta_target <= delta_max <= 1, got "
                f"{self.delta_min}, {self.delta_target}, {self.delta_max}"
            )


@dataclass(frozen=True)
class GateCriteria:
    """What ``GreeksGate`` checks; ``None`` disables that check.

    ``max_iv_rank`` is a fraction of the 52-week range (0.80 = 80th pct); it is
    skipped when fewer than ``min_iv_history_days`` days of IV history exist
    (and, per PRD-136, for 0DTE). ``max_theta_burn_pct`` is |theta per day| over
    premium, checked for 1DTE+. ``max_gamma`` is per $1 of underlying, skipped
    for 0DTE (PRD-136).
    """

    max_iv_rank: float | None
    max_theta_burn_pct: float | None
    max_spread_pct: float
    delta_min: float
    delta_max: float
    max_gamma: float | None
    min_iv_history_days: int


@dataclass(frozen=True)
class SizingRule:
    """What ``ScalpSizer`` needs. Conviction is 0-100; fractions of equity.

    RISK_BUDGET uses ``max_risk_per_scalp`` and ``max_loss_pct``;
    PERCENT_OF_EQUITY uses ``position_size_pct``. Conviction >= ``full_conviction``
    gets full size, ``min_conviction`` .. ``full_conviction - 1`` half (min 1),
    below ``min_conviction`` none. ``max_contract_price`` is dollars per share.
    """

    mode: SizingMode
    max_risk_per_scalp: float
    max_loss_pct: float
    position_size_pct: float
    max_contract_price: float
    full_conviction: int
    min_conviction: int
    max_concurrent: int

    def __post_init__(self) -> None:
        if self.min_conviction > self.full_conviction:
            raise ConfigError(
                f"SizingRule: min_conviction {self.min_conviction} > full_conviction {self.full_conviction}"
            )
        if self.mode is SizingMode.RISK_BUDGET and not (0 < self.max_loss_pct <= 1):
            raise ConfigError(f"SizingRule: max_loss_pct {self.max_loss_pct} must be in (0, 1]")


@dataclass(frozen=True)
class ExitRules:
    """What ``exits.evaluate_exits`` applies. Fractions of the entry premium; times ET.

    Cutoffs are regular-session times; ``calendar.effective_cutoff`` shifts them on
    half days. ``exhaustion_candles`` = None disables momentum exhaustion.
    """

    profit_target_pct: float
    stop_loss_pct: float
    max_hold_minutes: int | None
    zero_dte_cutoff: time | None
    one_dte_cutoff: time | None
    session_exit_time: time | None
    exhaustion_candles: int | None
    use_cloud_flip: bool


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


# --------------------------------------------------------------------------- seed 003


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
