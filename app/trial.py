"""One sweep trial as a pure function: ``TrialRequest`` (plain, picklable values) -> figures row.

``run_trial`` opens the catalog at ``catalog_root``, builds the same Cerebro as
every backtest (``app.backtest.build``, no journal, no equity bars, no criteria:
what ``app.engine_local`` runs through ``optstrategy``) and returns the figures
row of ``app.sweep_results.result_row``. It reads nothing but the request and the
catalog, so a Ray worker on another machine runs it as well as this process,
provided the catalog path and the project's modules are there too.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from app.backtest import Prepared, RunFailed, build, one_line
from app.grid import GridAxis
from app.request import RunRequest
from app.sweep_results import result_row
from options_scalper.model import ScalperError
from strategies import registry


@dataclass(frozen=True)
class TrialRequest:
    """Everything one trial needs: strategy, catalog, symbols, dates, money, the full parameter set."""

    strategy: str
    catalog_root: str
    symbols: tuple[str, ...]
    start: date | None  # as requested (None: the catalog's first session after warm-up)
    end: date | None
    cash: float
    commission: float
    warmup_days: int
    params: Mapping[str, Any]  # --param values and the trial's combination
    axes: tuple[str, ...]  # the swept keys: the row's first columns
    import_path: str = ""  # a folder the strategy module may be imported from (the driver's cwd)
    combo: Mapping[str, Any] = field(default_factory=dict)


def trial_request(prep: Prepared, combo: Mapping[str, Any], axes: Sequence[GridAxis]) -> TrialRequest:
    """The trial of ``combo`` on ``prep``'s catalog, symbols, dates and money."""
    req = prep.request
    return TrialRequest(
        strategy=req.strategy,
        catalog_root=str(Path(prep.catalog.root).resolve()),
        symbols=tuple(prep.symbols),
        start=req.start,
        end=req.end,
        cash=req.cash,
        commission=req.commission,
        warmup_days=req.warmup_days,
        params={**prep.params, **combo},
        axes=tuple(a.name for a in axes),
        import_path=str(Path.cwd()),
        combo=dict(combo),
    )


def _prepared(t: TrialRequest) -> Prepared:
    from feeds.catalog import Catalog

    if t.import_path and t.import_path not in sys.path:
        sys.path.append(t.import_path)  # a --strategy module:Class from the driver's folder
    root = Path(t.catalog_root)
    if not root.is_dir():
        raise RunFailed(f"trial: catalog {root} is not a folder on this machine; share it at the same path")
    try:
        cls = registry.load_strategy(t.strategy)
    except registry.StrategyError as exc:
        raise RunFailed(f"trial: {one_line(exc)}") from exc
    req = RunRequest(
        strategy=t.strategy,
        catalog_dir=root,
        symbols=t.symbols,
        start=t.start,
        end=t.end,
        cash=t.cash,
        commission=t.commission,
        warmup_days=t.warmup_days,
        quiet=True,
    )
    return Prepared(
        request=req,
        strategy_cls=cls,
        params=dict(t.params),
        catalog=Catalog(root),
        data_dir=root,
        symbols=list(t.symbols),
        start=t.start or date.min,
        end=t.end or date.max,
        sessions=0,
        out_dir=root,
        journal_url=None,
    )


def run_trial(t: TrialRequest) -> dict[str, Any]:
    """Run the trial's backtest; return its figures row (``RunFailed`` when it cannot finish)."""
    prep = _prepared(t)
    cerebro = build(prep, prep.params, journal_url=None, progress=False, equity_bars=False, criteria=False)
    try:
        strat = cerebro.run()[0]
    except ScalperError as exc:
        raise RunFailed(f"trial {_combo_text(t.combo)}: {one_line(exc)}") from exc
    return result_row(strat, [GridAxis(name, ()) for name in t.axes])


def _combo_text(combo: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in combo.items()) or "(defaults)"
