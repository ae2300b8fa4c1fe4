"""Config building blocks: validation, overrides, env loading, the enums and the stage criteria.

The conventions (fractions, windows in bars, "HH:MM" US/Eastern) are in ``options_scalper.config``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from typing import Any, ClassVar, Self

from options_scalper.model import ScalperError


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
