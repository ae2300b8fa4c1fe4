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

import math
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from app import oos
from app.backtest import Prepared, RunFailed, one_line
from app.engine_local import default_workers, sweep
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
    random_combinations,
    validate_combinations,
    validate_grid,
)
from app.request import SEARCH_RANDOM
from app.sweep_results import (
    DEFAULT_SORT,
    METRICS,
    TOP_ROWS,
    best_command,
    check_sort_metric,
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


@dataclass
class OptOutcome:
    frame: pd.DataFrame
    console: str
    files: dict[str, Path]
    seconds: float
    interrupted: bool = False


def _position(axis: GridAxis, value: Any) -> int:
    return axis.values.index(value) if value in axis.values else len(axis.values)


def run_optimization(prep: Prepared) -> OptOutcome:
    """Sweep the ``--optimize`` grid; write ``optimization.csv`` (and ``heatmap.png`` for 2 keys)."""
    req = prep.request
    metric = check_sort_metric(req.sort_by or DEFAULT_SORT)
    random_search = req.search == SEARCH_RANDOM
    axes = parse_grid(
        req.optimize,
        req.strategy,
        prep.strategy_cls,
        prep.params,
        None if random_search else MAX_COMBINATIONS,
    )
    combos: list[dict[str, Any]] | None = None
    if random_search:
        seed = req.seed if req.seed is not None else secrets.randbelow(2**31)
        combos = random_combinations(axes, req.trials or 1, seed)
        n_runs = validate_combinations(req.strategy, prep.params, combos)
        space = math.prod(len(a.values) for a in axes)
        prep.say(f"random search: {n_runs} of {space} combination(s), --seed {seed}")
    else:
        n_runs = validate_grid(req.strategy, prep.params, axes)
    workers = min(req.workers or default_workers(n_runs), n_runs)
    estimate = estimate_seconds(n_runs, prep.sessions, len(prep.symbols), workers)
    prep.say(
        f"optimize: {n_runs} run(s) over {', '.join(a.name for a in axes)} on {workers} process(es), "
        f"about {duration_text(estimate)} ({SECONDS_PER_SESSION} s per session per underlying per run)"
    )
    check_grid_size(n_runs, estimate, req.yes)
    chosen = combos if combos is not None else combinations(axes)
    ledger = oos.guard(prep, [oos.effective_params(prep, c) for c in chosen], kind="sweep")
    out = prep.out_dir
    csv_path = out / RESULTS_FILENAME
    started = time.perf_counter()
    interrupted = False
    rows: list[dict[str, Any]] = []
    try:
        sweep(prep, axes, workers, rows, progress=not req.quiet, combos=combos)
    except KeyboardInterrupt:
        interrupted = True
    seconds = time.perf_counter() - started
    oos.store_sweep_figures(ledger, rows, axes, prep)
    rows.sort(
        key=lambda r: tuple(_position(a, r[a.name]) for a in axes)
    )  # ties rank in grid order, not arrival
    frame = results_frame(rows, axes, metric)
    files: dict[str, Path] = {}
    try:
        if rows or not interrupted:
            frame.to_csv(csv_path, index=False, float_format="%.10g")
            files["results"] = csv_path
        if len(axes) == 2 and rows and not interrupted and not random_search:
            from analyzers.plots import plot_heatmap

            plot_frame = frame.copy()
            plot_frame[metric] = plot_frame[metric].astype(float)
            files["heatmap"] = plot_heatmap(
                plot_frame, axes[0].name, axes[1].name, metric, out / HEATMAP_FILENAME
            )
    except OSError as exc:
        raise RunFailed(f"cannot write the optimization results into {out}: {one_line(exc)}") from exc
    if interrupted:
        raise KeyboardInterrupt(f"{len(rows)} of {n_runs} finished run(s) written to {csv_path}")
    console = render_table(frame, axes, metric)
    if random_search:
        console += f"random search: seed {seed}; pass --seed {seed} to draw the same trials\n"
    if ledger.touches_oos:
        console += ledger.console_line(req.strategy)
    best = best_command(frame, axes)
    if best:
        console += f"\nbest: {best}   ({seconds:.1f} s for {n_runs} runs on {workers} process(es))\n"
    return OptOutcome(frame=frame, console=console, files=files, seconds=seconds)
