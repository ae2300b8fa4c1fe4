"""Deterministic synthetic market data in DataBento's layouts: bars, CBBO-1m chains, statistics.

``generate_day`` writes one symbol-session, ``generate_dataset`` a run of them, and
``ensure_sample`` builds (once) the bundled sample that ``run_backtest.py`` uses
when given no data. ``python -m feeds.synthetic --help`` does the same from a shell.

Names are loaded on first use (PEP 562): ``from feeds.synthetic import SPY_SPEC``
does not pay for pandas and the chain simulator; the generator loads with
``generate_day`` / ``generate_dataset`` / ``ensure_sample``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feeds.synthetic.generate import (
        GENERATOR_VERSION,
        DayFiles,
        day_path,
        generate_dataset,
        generate_day,
    )
    from feeds.synthetic.sample import SAMPLE_SESSIONS, default_sample_dir, ensure_sample, sample_is_complete
    from feeds.synthetic.spec import (
        PRESETS,
        QQQ_SPEC,
        SPY_FULL_SPEC,
        SPY_SPEC,
        TSLA_FULL_SPEC,
        TSLA_SPEC,
        ExpiryRule,
        SymbolSpec,
        SyntheticDataError,
        preset,
    )

_SOURCES: dict[str, str] = {
    **dict.fromkeys(
        ("GENERATOR_VERSION", "DayFiles", "day_path", "generate_dataset", "generate_day"),
        "feeds.synthetic.generate",
    ),
    **dict.fromkeys(
        ("SAMPLE_SESSIONS", "default_sample_dir", "ensure_sample", "sample_is_complete"),
        "feeds.synthetic.sample",
    ),
    **dict.fromkeys(
        (
            "PRESETS",
            "QQQ_SPEC",
            "SPY_FULL_SPEC",
            "SPY_SPEC",
            "TSLA_FULL_SPEC",
            "TSLA_SPEC",
            "ExpiryRule",
            "SymbolSpec",
            "SyntheticDataError",
            "preset",
        ),
        "feeds.synthetic.spec",
    ),
}

__all__ = [
    "GENERATOR_VERSION",
    "PRESETS",
    "QQQ_SPEC",
    "SAMPLE_SESSIONS",
    "SPY_FULL_SPEC",
    "SPY_SPEC",
    "TSLA_FULL_SPEC",
    "TSLA_SPEC",
    "DayFiles",
    "ExpiryRule",
    "SymbolSpec",
    "SyntheticDataError",
    "day_path",
    "default_sample_dir",
    "ensure_sample",
    "generate_dataset",
    "generate_day",
    "preset",
    "sample_is_complete",
]


def __getattr__(name: str) -> Any:
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module 'feeds.synthetic' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
