"""Backtrader params from a frozen config dataclass, and the config back from a strategy's params."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any


def params_from_config(config_cls: type) -> tuple[tuple[str, Any], ...]:
    """Backtrader params from a config dataclass: flat picklable scalars only.

    Enums become their value, tuples a comma-separated string; other
    non-scalar fields are left to the config's default.
    """
    out: list[tuple[str, Any]] = []
    for f in dataclasses.fields(config_cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            continue
        if isinstance(default, Enum):
            default = default.value
        elif isinstance(default, tuple):
            default = ",".join(str(x) for x in default)
        elif not isinstance(default, bool | int | float | str):
            continue
        out.append((f.name, default))
    return tuple(out)


def config_from_params(config_cls: type, p: Any) -> Any:
    """Build ``config_cls`` from a strategy's params (strings coerced by the config)."""
    names = [f.name for f in dataclasses.fields(config_cls)]
    values = {n: getattr(p, n) for n in names if hasattr(p, n)}
    base = config_cls()
    if hasattr(base, "with_overrides"):
        return base.with_overrides(**values)
    return config_cls(**values)
