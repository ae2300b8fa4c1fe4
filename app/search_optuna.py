"""``--search optuna``: Optuna's TPE sampler over the ``--optimize`` ranges, objective ``--sort-by``.

A range ``key=start:stop:step`` is an ``IntDistribution`` / ``FloatDistribution``
with that step (a suggestion snaps to the range's exact decimal value), a list
``key=a,b,c`` a ``CategoricalDistribution``. Trials are asked in batches of the
engine's parallelism, run on the engine, then told in the order asked, so the
same ``--seed`` and batch size give the same trials. A suggestion already run is
told its figures again without running; a combination the strategy's config
refuses and a run without a value of the metric (NaN, e.g. no trades) are told
as failed trials, which TPE leaves out. The budget is ``--trials`` suggestions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from app.backtest import BadInput, Prepared
from app.engines import Engine
from app.grid import GridAxis, validate_combinations
from app.sweep_results import METRICS

if TYPE_CHECKING:
    from app.search import SearchPlan


def distribution(axis: GridAxis) -> Any:
    """The Optuna distribution of one axis: int / float with the range's step, or categorical."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    values = axis.values
    if axis.step is not None and len(values) > 1:
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return IntDistribution(int(values[0]), int(values[-1]), step=int(axis.step))
        return FloatDistribution(float(values[0]), float(values[-1]), step=float(axis.step))
    return CategoricalDistribution(list(values))


def snap(axis: GridAxis, value: Any) -> Any:
    """The axis value of a suggestion (a float step's suggestion carries binary noise)."""
    if axis.step is not None and isinstance(value, float):
        return min(axis.values, key=lambda v: abs(v - value))
    return value


def _key(combo: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(combo.values())


def optuna_search(
    plan: SearchPlan,
    prep: Prepared,
    engine: Engine,
    rows: list[dict[str, Any]],
    *,
    progress: bool = True,
    desc: str = "optimize",
) -> list[str]:
    """Run up to ``plan.n_runs`` TPE trials; append one row per distinct combination run."""
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    higher = METRICS[plan.metric]
    study = optuna.create_study(
        direction="maximize" if higher else "minimize",
        sampler=optuna.samplers.TPESampler(seed=plan.seed),
    )
    dists = {a.name: distribution(a) for a in plan.axes}
    batch = max(1, engine.parallelism())
    done: dict[tuple[Any, ...], dict[str, Any]] = {}
    refused: set[tuple[Any, ...]] = set()
    asked = 0
    bar = tqdm(total=plan.n_runs, desc=f"{desc} (optuna)", unit="trial", disable=not progress, leave=False)
    try:
        while asked < plan.n_runs and len(done) + len(refused) < plan.space:
            trials = [study.ask(dists) for _ in range(min(batch, plan.n_runs - asked))]
            asked += len(trials)
            combos = [{a.name: snap(a, t.params[a.name]) for a in plan.axes} for t in trials]
            new = list(
                {_key(c): c for c in combos if _key(c) not in done and _key(c) not in refused}.values()
            )
            runnable = []
            for combo in new:
                try:
                    validate_combinations(prep.request.strategy, prep.params, [combo])
                    runnable.append(combo)
                except BadInput:
                    refused.add(_key(combo))
            got: list[dict[str, Any]] = []
            engine.run(prep, plan.axes, runnable, got, progress=False, desc=desc)
            for finished in got:
                done[_key({a.name: finished[a.name] for a in plan.axes})] = finished
            rows.extend(got)
            for trial, combo in zip(trials, combos, strict=True):
                row = done.get(_key(combo))
                value = None if row is None else row.get(plan.metric)
                if value is None or value != value:  # refused, failed, or NaN (no trades)
                    study.tell(trial, state=TrialState.FAIL)
                else:
                    study.tell(trial, float(value))
            bar.update(len(trials))
    finally:
        bar.close()
    notes = [f"optuna: {asked} trial(s) asked, {len(done)} distinct combination(s) run"]
    if refused:
        notes.append(f"optuna: {len(refused)} suggested combination(s) refused by the strategy's config")
    return notes
