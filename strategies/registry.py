"""Strategy names for ``--strategy``: name -> ``"module:Class"``, imported only when asked for.

Each entry also names its config class, so ``--param key=value`` is checked against
the strategy's Backtrader params (typos get a suggestion, values their type and the
config's range checks) before any data is touched. A strategy whose module cannot be
imported yet gives one :class:`StrategyError` line, never a traceback.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from options_scalper.constants import DEFAULT_CAP_TO_SIZE, DEFAULT_CONTRACT_FEEDS
from options_scalper.model import ScalperError

DEFAULT_STRATEGY = "ema_cloud"

# Settings of the venue a user may give with --param; the application hands them to the
# store (feeds and broker), never to the strategy.
VENUE_PARAMS: dict[str, Any] = {
    "cap_to_size": DEFAULT_CAP_TO_SIZE,  # fill at most the displayed size each minute
    "pool_size": DEFAULT_CONTRACT_FEEDS,  # contract feeds per underlying
}

# Params the runner sets from its own options; a --param for them is redirected there.
RESERVED_PARAMS: dict[str, str] = {
    "catalog_root": "--catalog",
    "symbol": "--symbols",
    "commission": "--commission",
    "macro_suffix": "nothing (it follows the engine's resample)",
    "profile": "--profile",
}

_TRUE = frozenset({"1", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "no", "n", "off"})


class StrategyError(ScalperError):
    """An unknown strategy, a strategy that cannot be imported, or a bad strategy parameter."""


@dataclass(frozen=True)
class StrategyEntry:
    """One ``--strategy`` choice: where its class and its config class live."""

    name: str
    target: str  # "module:Class"
    config: str  # "module:Class" of the frozen config dataclass behind its params
    summary: str
    profiles: bool = False  # takes --profile (seed 003 profiles)


STRATEGIES: dict[str, StrategyEntry] = {
    e.name: e
    for e in (
        StrategyEntry(
            "ema_cloud",
            "strategies.ema_cloud:EmaCloudScalp",
            "strategies.ema_cloud:EmaCloudConfig",
            "PRD-136 EMA-cloud scalper (5/12 cloud on 1-min, 34/50 on 10-min)",
        ),
        StrategyEntry(
            "momentum_burst",
            "strategies.momentum_burst:MomentumBurstScalp",
            "options_scalper.config:MomentumConfig",
            "seed 003 momentum scalper (velocity, volume spike, VWAP, S/R)",
            profiles=True,
        ),
    )
}


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def entry(name: str) -> StrategyEntry:
    """Return the registry entry of ``name``; raise ``StrategyError`` naming the choices.

    ``module:Class`` names a strategy of the user's own (a ``ScalpStrategyBase``
    subclass with a ``config_cls``), importable from the current folder or the
    environment: ``--strategy mystrats.gap:GapScalp``.
    """
    found = STRATEGIES.get(name)
    if found is not None:
        return found
    if ":" in name:
        return _user_entry(name)
    raise StrategyError(
        f"unknown strategy {name!r}{suggest(name, STRATEGIES)} (choices: {', '.join(STRATEGIES)}, "
        "or module:Class for a strategy of your own)"
    )


def _user_entry(target: str) -> StrategyEntry:
    """The entry of a ``module:Class`` strategy; its config class is its ``config_cls``."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise StrategyError(f"--strategy {target!r}: expected module:Class, e.g. mystrats.gap:GapScalp")
    try:
        cls = _import(target)
    except Exception as exc:  # any import-time failure of a user's module is one line
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise StrategyError(
            f"--strategy {target!r}: cannot import it ({type(exc).__name__}: {why}); "
            "run from the folder that holds the module or install it"
        ) from exc
    config_cls = getattr(cls, "config_cls", None)
    if not isinstance(cls, type) or not isinstance(config_cls, type):
        raise StrategyError(
            f"--strategy {target!r}: not a scalping strategy class with a config_cls "
            "(subclass strategies.base.ScalpStrategyBase)"
        )
    config = f"{config_cls.__module__}:{config_cls.__qualname__}"
    return StrategyEntry(target, target, config, f"user strategy {attr}")


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def load_strategy(name: str) -> type:
    """Import and return the strategy class of ``name`` (one-line ``StrategyError`` if it cannot)."""
    e = entry(name)
    try:
        cls = _import(e.target)
    except Exception as exc:  # any import-time failure of a strategy module is one line
        why = " ".join(str(exc).split()) or type(exc).__name__
        others = [n for n in STRATEGIES if n != name and importable(n)]
        raise StrategyError(
            f"strategy {name!r} is not available: cannot import {e.target} ({type(exc).__name__}: {why}); "
            f"choose another with --strategy ({', '.join(others) or 'none importable'})"
        ) from exc
    if not isinstance(cls, type):
        raise StrategyError(f"strategy {name!r}: {e.target} is not a class")
    return cls


def importable(name: str) -> bool:
    """True when the strategy's class can be imported now."""
    try:
        _import(STRATEGIES[name].target)
    except Exception:
        return False
    return True


def load_config_class(name: str) -> type:
    """Return the config dataclass behind the strategy's params."""
    cls: type = _import(entry(name).config)
    return cls


def strategy_params(cls: type) -> dict[str, Any]:
    """Return the Backtrader params of a strategy class: name -> default."""
    params = getattr(cls, "params", None)
    if params is None or not hasattr(params, "_getpairs"):
        return {}
    return dict(params._getpairs())


def settable_params(cls: type) -> dict[str, Any]:
    """Params a user may set with ``--param``: the strategy's (minus the runner's own) and the venue's."""
    own = {k: v for k, v in strategy_params(cls).items() if k not in RESERVED_PARAMS}
    return {**own, **VENUE_PARAMS}


def split_venue_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(strategy params, venue params)`` of resolved ``--param`` values."""
    venue = {k: v for k, v in params.items() if k in VENUE_PARAMS}
    return {k: v for k, v in params.items() if k not in VENUE_PARAMS}, venue


def canonical_param(name: str, key: str) -> str:
    """The strategy's own name for ``key`` (the other seed's name of a setting becomes this one's)."""
    config_cls = load_config_class(name)
    canonical = getattr(config_cls, "canonical_name", None)
    return str(canonical(key)) if canonical is not None else key


def check_param_name(name: str, valid: Mapping[str, Any], strategy: str, option: str = "--param") -> None:
    """Raise ``StrategyError`` for a name the strategy does not take, with the closest valid one."""
    if name in valid:
        return
    if name in RESERVED_PARAMS:
        raise StrategyError(f"{option} {name}: set it with {RESERVED_PARAMS[name]}, not {option}")
    raise StrategyError(
        f"{option} {name}: strategy {strategy!r} has no parameter {name!r}{suggest(name, valid)} "
        f"(valid: {', '.join(sorted(valid))})"
    )


def coerce_value(name: str, text: str, default: Any, option: str = "--param") -> Any:
    """Turn ``text`` into the type of ``default`` (bool, int, float or str)."""
    raw = text.strip()
    try:
        if isinstance(default, bool):
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise ValueError("expected true or false")
        if isinstance(default, int):
            number = float(raw)
            if not number.is_integer():
                raise ValueError("expected a whole number")
            return int(number)
        if isinstance(default, float):
            if raw.endswith("%"):
                return float(raw[:-1]) / 100.0
            value = float(raw)
            if value != value:  # NaN
                raise ValueError("expected a number, not NaN")
            return value
    except ValueError as exc:
        kind = type(default).__name__
        raise StrategyError(
            f"{option} {name}={text!r}: not a valid {kind} ({exc}); default is {default!r}"
        ) from None
    return raw


def parse_assignment(text: str, option: str = "--param") -> tuple[str, str]:
    """Split ``key=value``; raise ``StrategyError`` when there is no ``=`` or no key."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise StrategyError(f"{option} {text!r}: expected key=value, e.g. {option} profit_target_pct=0.3")
    return key, value.strip()


def validate_config(name: str, values: Mapping[str, Any]) -> None:
    """Build the strategy's config from ``values`` (config fields only); raise ``StrategyError``."""
    config_cls = load_config_class(name)
    fields = set(getattr(config_cls, "field_names", lambda: ())())
    overrides = {k: v for k, v in values.items() if k in fields}
    try:
        config_cls().with_overrides(**overrides)
    except ScalperError as exc:
        raise StrategyError(f"--param {' '.join(str(exc).split())}") from exc


def profile_values(name: str, profile: str) -> dict[str, Any]:
    """Return the config values a ``--profile`` sets for strategy ``name``."""
    e = entry(name)
    if not e.profiles:
        with_profiles = [n for n, x in STRATEGIES.items() if x.profiles]
        raise StrategyError(
            f"--profile {profile}: strategy {name!r} has no profiles; they apply to {', '.join(with_profiles)}"
        )
    from options_scalper.config import PROFILES

    key = profile.strip().lower()
    if key not in PROFILES:
        raise StrategyError(
            f"--profile {profile!r} is unknown{suggest(key, PROFILES)} (choices: {', '.join(PROFILES)})"
        )
    return dict(PROFILES[key])


def resolve_params(
    name: str, cls: type, assignments: Iterable[str], profile: str | None = None
) -> dict[str, Any]:
    """Turn ``--param key=value`` texts (and ``--profile``) into typed strategy params.

    The profile's values come first, the user's assignments on top; the result is
    validated by building the strategy's config, so a bad range fails here.
    """
    valid = settable_params(cls)
    typed: dict[str, Any] = {}
    if profile is not None:
        typed.update(profile_values(name, profile))
    given: dict[str, str] = {}  # field -> the name the user wrote
    for text in assignments:
        raw, value = parse_assignment(text)
        key = canonical_param(name, raw)
        if key in given and given[key] != raw:
            raise StrategyError(
                f"--param {raw} and --param {given[key]} are the same setting; give one of them"
            )
        given[key] = raw
        check_param_name(key, valid, name)
        typed[key] = coerce_value(key, value, valid[key])
    validate_config(name, typed)
    if profile is not None and "profile" in strategy_params(cls):
        typed["profile"] = profile.strip().lower()
    return typed
