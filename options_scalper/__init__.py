"""Pure domain of the options scalper: every trading decision, no backtrader, no I/O.

PRD-136 exports: ``OptionsScalper``, ``StrikeSelector``, ``GreeksGate``,
``ScalpPosition``, ``ScalpConfig``; plus ``MomentumConfig``, ``StrikeSelection``,
``GreeksDecision`` and ``OrderIntent``. They load lazily on first access, so
``import options_scalper.model`` stays light (no scipy, no calendar).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from options_scalper.config import MomentumConfig, ScalpConfig
    from options_scalper.gates import GreeksDecision, GreeksGate
    from options_scalper.position import ScalpPosition
    from options_scalper.scalper import OptionsScalper, OrderIntent
    from options_scalper.selection import StrikeSelection, StrikeSelector

__all__ = [
    "GreeksDecision",
    "GreeksGate",
    "MomentumConfig",
    "OptionsScalper",
    "OrderIntent",
    "ScalpConfig",
    "ScalpPosition",
    "StrikeSelection",
    "StrikeSelector",
]

_EXPORTS: dict[str, str] = {
    "OptionsScalper": "options_scalper.scalper",
    "OrderIntent": "options_scalper.scalper",
    "StrikeSelector": "options_scalper.selection",
    "StrikeSelection": "options_scalper.selection",
    "GreeksGate": "options_scalper.gates",
    "GreeksDecision": "options_scalper.gates",
    "ScalpPosition": "options_scalper.position",
    "ScalpConfig": "options_scalper.config",
    "MomentumConfig": "options_scalper.config",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'options_scalper' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
