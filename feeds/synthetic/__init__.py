"""Deterministic synthetic market data in DataBento's layouts: bars, CBBO-1m chains, statistics.

``generate_day`` writes one symbol-session, ``generate_dataset`` a run of them, and
``ensure_sample`` builds (once) the bundled sample that ``run_backtest.py`` uses
when given no data. ``python -m feeds.synthetic --help`` does the same from a shell.
"""

from feeds.synthetic.generate import GENERATOR_VERSION, DayFiles, day_path, generate_dataset, generate_day
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

__all__ = [
    "GENERATOR_VERSION",
    "PRESETS",
    "QQQ_SPEC",
    "SPY_FULL_SPEC",
    "SPY_SPEC",
    "TSLA_FULL_SPEC",
    "TSLA_SPEC",
    "DayFiles",
    "ExpiryRule",
    "SymbolSpec",
    "SyntheticDataError",
    "day_path",
    "generate_dataset",
    "generate_day",
    "preset",
]
