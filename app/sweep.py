"""Parameter sweeps: ``--optimize key=start:stop:step`` over N processes (``app.engine_local``) or Ray.

Grid syntax (repeatable, one key each): ``key=start:stop:step`` with an INCLUSIVE
stop (``profit_target_pct=0.2:0.4:0.1`` is 0.2, 0.3, 0.4), whole numbers for integer
params; or a list ``key=a,b,c`` (any type, e.g. ``entry_order_type=limit,ask``).
Every combination is checked against the strategy's config before anything runs.

Results: one row per combination with the varied params and the run's figures,
sorted by ``--sort-by`` (default ``total_pnl``: net dollars is the bottom line and,
unlike profit factor, is not topped by a run with one winning trade and no loser;
ties go to the higher profit factor). Higher is better except for drawdowns,
losers and commission. ``inf`` (a profit factor without losses) sorts above every
finite value and is written ``inf``. Written to ``optimization.csv``; a sweep of
two params also gets ``heatmap.png`` of the sort metric.

Each run's analyzers return plain values (``optreturn``), so only figures travel
back from the worker processes. No journal is written unless ``--journal`` is given.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from app import oos
from app.backtest import Prepared, RunFailed, one_line
from app.engine_local import default_workers, sweep
from app.engines import make_engine
from app.grid import (
    MAX_COMBINATIONS,
    NOT_SWEEPABLE,
    SECONDS_PER_SESSION,
    GridAxis,
    check_grid_size,
    combinations,
    duration_text,
    estimate_seconds,
    parse_axis,
    parse_grid,
    validate_grid,
)
from app.request import ENGINE_LOCAL, SEARCH_GRID
from app.search import SearchPlan, plan_search, run_search, trial_params
from app.sweep_results import (
    DEFAULT_SORT,
    METRICS,
    TOP_ROWS,
    best_command,
    check_sort_metric,
    failures_line,
    render_table,
    result_row,
    results_frame,
    sort_results,
)

__all__ = [
    "DEFAULT_SORT",
    "MAX_COMBINATIONS",
    "METRICS",
    "NOT_SWEEPABLE",
    "TOP_ROWS",
    "GridAxis",
    "OptOutcome",
    "best_command",
    "check_sort_metric",
    "combinations",
    "parse_axis",
    "parse_grid",
    "render_table",
    "result_row",
    "results_frame",
    "run_optimization",
    "sort_results",
    "sweep",
    "validate_grid",
]

RESULTS_FILENAME = "optimization.csv"
HEATMAP_FILENAME = "heatmap.png"
PARALLEL_FILENAME = "parallel.png"


@dataclass
class OptOutcome:
    frame: pd.DataFrame
    console: str
    files: dict[str, Path]
    seconds: float
    interrupted: bool = False


def _position(axis: GridAxis, value: Any) -> int:
    return axis.values.index(value) if value in axis.values else len(axis.values)


def grid_order(rows: list[dict[str, Any]], axes: Sequence[GridAxis]) -> None:
    """Sort rows in grid order, so ties rank the same whatever order the runs finished in."""
    rows.sort(key=lambda r: tuple(_position(a, r[a.name]) for a in axes))


def estimate_line(prep: Prepared, plan: SearchPlan, workers: int, engine: str) -> tuple[str, float]:
    estimate = estimate_seconds(plan.n_runs, prep.sessions, len(prep.symbols), workers)
    where = f"on {workers} process(es)" if engine == ENGINE_LOCAL else f"on Ray ({workers} CPU estimate)"
    line = (
        f"optimize: {plan.n_runs} run(s) over {', '.join(a.name for a in plan.axes)} {where}, "
        f"about {duration_text(estimate)} ({SECONDS_PER_SESSION} s per session per underlying per run)"
    )
    return line, estimate


def write_plots(frame: pd.DataFrame, plan: SearchPlan, out: Path) -> dict[str, Path]:
    """A two-key grid's heatmap; a random or Optuna search's parallel-coordinates plot."""
    from analyzers.research_plots import plot_parallel

    metric, axes = plan.metric, plan.axes
    plot_frame = frame.copy()
    plot_frame[metric] = plot_frame[metric].astype(float)
    if plan.method == SEARCH_GRID:
        if len(axes) != 2:
            return {}
        from analyzers.plots import plot_heatmap

        return {
            "heatmap": plot_heatmap(plot_frame, axes[0].name, axes[1].name, metric, out / HEATMAP_FILENAME)
        }
    names = [a.name for a in axes]
    return {"parallel": plot_parallel(plot_frame, names, metric, out / PARALLEL_FILENAME)}


def run_optimization(prep: Prepared) -> OptOutcome:
    """Sweep the ``--optimize`` ranges; write ``optimization.csv`` (and a heatmap or parallel plot)."""
    req = prep.request
    plan = plan_search(prep)
    metric, axes = plan.metric, plan.axes
    if plan.describe():
        prep.say(plan.describe())
    local_workers = min(req.workers or default_workers(plan.n_runs), plan.n_runs)
    line, estimate = estimate_line(prep, plan, local_workers, req.engine)
    prep.say(line)
    check_grid_size(plan.n_runs, estimate, req.yes)
    if plan.combos is not None:
        ledger = oos.guard(prep, [oos.effective_params(prep, c) for c in plan.combos], kind="sweep")
    else:
        oos.precheck(prep, plan.n_runs, "an optuna search")
    out = prep.out_dir
    csv_path = out / RESULTS_FILENAME
    started = time.perf_counter()
    interrupted = False
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    engine = make_engine(prep, plan.n_runs)
    try:
        with engine:
            workers = engine.parallelism()
            notes = run_search(plan, prep, engine, rows, progress=not req.quiet)
    except KeyboardInterrupt:
        interrupted = True
    seconds = time.perf_counter() - started
    if plan.combos is None:  # optuna: the trials are known now
        ledger = oos.guard(
            prep,
            [oos.effective_params(prep, c) for c in trial_params(plan, rows)],
            kind="sweep",
            refuse=False,
        )
    oos.store_sweep_figures(ledger, rows, axes, prep)
    grid_order(rows, axes)
    frame = results_frame(rows, axes, metric)
    files: dict[str, Path] = {}
    try:
        if rows or not interrupted:
            frame.to_csv(csv_path, index=False, float_format="%.10g")
            files["results"] = csv_path
        if rows and not interrupted:
            files.update(write_plots(frame, plan, out))
    except OSError as exc:
        raise RunFailed(f"cannot write the optimization results into {out}: {one_line(exc)}") from exc
    if interrupted:
        raise KeyboardInterrupt(f"{len(rows)} of {plan.n_runs} finished run(s) written to {csv_path}")
    console = render_table(frame, axes, metric)
    for note in notes:
        console += note + "\n"
    if plan.seed is not None:
        console += (
            f"{plan.method} search: seed {plan.seed}; pass --seed {plan.seed} to draw the same trials\n"
        )
    console += failures_line(frame)
    if ledger.touches_oos:
        console += ledger.console_line(req.strategy)
    best = best_command(frame, axes)
    if best:
        where = f"{workers} process(es)" if req.engine == ENGINE_LOCAL else f"Ray ({workers} CPU)"
        console += f"\nbest: {best}   ({seconds:.1f} s for {len(rows)} runs on {where})\n"
    return OptOutcome(frame=frame, console=console, files=files, seconds=seconds)
