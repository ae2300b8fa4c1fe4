"""What a sweep runs: ``--search grid`` (every combination), ``random`` (``--trials`` drawn) or ``optuna`` (TPE).

``plan_search`` parses and checks the ``--optimize`` ranges once; ``run_search``
runs the plan on an engine (``app.engines``) over the prepared range, appending
one figures row per trial. Grid and random combinations are known before the
first run; Optuna's come batch by batch (``app.search_optuna``).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.backtest import Prepared
from app.engines import Engine
from app.grid import (
    MAX_COMBINATIONS,
    GridAxis,
    combinations,
    random_combinations,
    validate_combinations,
    validate_grid,
)
from app.request import SEARCH_GRID, SEARCH_OPTUNA, SEARCH_RANDOM
from app.sweep_results import DEFAULT_SORT, check_sort_metric


@dataclass(frozen=True)
class SearchPlan:
    """A checked search: its axes, metric, trials (None: Optuna draws them as it goes) and seed."""

    method: str
    axes: tuple[GridAxis, ...]
    metric: str
    combos: tuple[dict[str, Any], ...] | None
    n_runs: int  # trials to run (Optuna: the budget; repeated suggestions do not run again)
    space: int  # combinations of the axes
    seed: int | None

    def describe(self) -> str:
        if self.method == SEARCH_GRID:
            return ""
        what = "random search" if self.method == SEARCH_RANDOM else "optuna TPE search"
        return f"{what}: {self.n_runs} trial(s) over {self.space} combination(s), --seed {self.seed}"


def plan_search(prep: Prepared) -> SearchPlan:
    """Parse the ``--optimize`` ranges and check the trials that are known before running."""
    from app.grid import parse_grid

    req = prep.request
    metric = check_sort_metric(req.sort_by or DEFAULT_SORT)
    method = req.search
    limit = MAX_COMBINATIONS if method == SEARCH_GRID else None
    axes = tuple(parse_grid(req.optimize, req.strategy, prep.strategy_cls, prep.params, limit))
    space = math.prod(len(a.values) for a in axes)
    seed: int | None = None
    combos: list[dict[str, Any]] | None
    if method == SEARCH_GRID:
        combos = combinations(axes)
        n_runs = validate_grid(req.strategy, prep.params, axes)
    else:
        seed = req.seed if req.seed is not None else secrets.randbelow(2**31)
        if method == SEARCH_RANDOM:
            combos = random_combinations(axes, req.trials or 1, seed)
            n_runs = validate_combinations(req.strategy, prep.params, combos)
        else:
            combos, n_runs = None, min(req.trials or 1, space)
    return SearchPlan(
        method=method,
        axes=axes,
        metric=metric,
        combos=None if combos is None else tuple(combos),
        n_runs=n_runs,
        space=space,
        seed=seed,
    )


def run_search(
    plan: SearchPlan,
    prep: Prepared,
    engine: Engine,
    rows: list[dict[str, Any]],
    *,
    progress: bool = True,
    desc: str = "optimize",
) -> list[str]:
    """Run the plan's trials on ``prep``'s range, appending their rows; return notes for the console."""
    if plan.combos is not None:
        engine.run(prep, plan.axes, plan.combos, rows, progress=progress, desc=desc)
        return []
    assert plan.method == SEARCH_OPTUNA and plan.seed is not None
    from app.search_optuna import optuna_search

    return optuna_search(plan, prep, engine, rows, progress=progress, desc=desc)


def trial_params(plan: SearchPlan, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The combinations of finished rows, in order."""
    return [{a.name: r[a.name] for a in plan.axes} for r in rows]
