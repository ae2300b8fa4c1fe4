"""The walk-forward loop: per window, the search on the training sessions, the winner on the test sessions.

The out-of-sample ledger sees everything: before the first window, ``oos.precheck``
refuses (unless ``--i-know``) a walk-forward whose range brings several parameter
sets to out-of-sample dates; then every training trial is recorded over its
training window (kind ``sweep``) and every winner over its test window (kind
``run``, with the figures of its trades there).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from app import oos
from app.backtest import Prepared
from app.engine_local import default_workers
from app.engines import make_engine
from app.grid import SECONDS_PER_SESSION, check_grid_size, duration_text, estimate_seconds
from app.search import SearchPlan, plan_search, run_search, trial_params
from app.sweep import OptOutcome, grid_order
from app.sweep_results import results_frame
from app.walkforward import TestRun, Window, parse_spec, plan_windows, run_test_window, window_prep


@dataclass
class WindowResult:
    window: Window
    trials: pd.DataFrame  # ranked, best first
    winner: dict[str, Any]
    test: TestRun


def _winner(plan: SearchPlan, frame: pd.DataFrame) -> dict[str, Any]:
    """The best row's combination, as the axes' own values (plain ints / floats / strings)."""
    best = frame.iloc[0]
    return {a.name: next((v for v in a.values if v == best[a.name]), best[a.name]) for a in plan.axes}


def _record_training(prep: Prepared, plan: SearchPlan, rows: list[dict[str, Any]]) -> int:
    sets = [oos.effective_params(prep, c) for c in trial_params(plan, rows)]
    status = oos.guard(prep, sets, kind="sweep", refuse=False)
    oos.store_sweep_figures(status, rows, plan.axes, prep)
    return status.oos_touches if status.touches_oos else 0


def _record_test(prep: Prepared, winner: dict[str, Any], test: TestRun) -> int:
    status = oos.guard(prep, [oos.effective_params(prep, winner)], kind="run", refuse=False)
    oos.store_figures(status, test.trades)
    return status.oos_touches if status.touches_oos else 0


def run_walk_forward(prep: Prepared) -> OptOutcome:
    """Walk forward over the prepared range; write the outputs of ``app.walkforward_report``."""
    from app.walkforward_report import write_outputs

    req = prep.request
    assert req.walk_forward is not None
    spec = parse_spec(req.walk_forward)
    plan = plan_search(prep)
    found = plan_windows(prep, spec)
    total_runs = plan.n_runs * len(found)
    train_sessions = sum(len(w.train) + req.warmup_days for w in found)
    prep.say(
        f"walk-forward {spec.text()}: {len(found)} window(s), {found[0].train[0]}..{found[-1].test[-1]}; "
        f"{plan.n_runs} trial(s) per training window"
    )
    if plan.describe():
        prep.say(plan.describe())
    workers = min(req.workers or default_workers(plan.n_runs), plan.n_runs)
    estimate = estimate_seconds(total_runs, train_sessions // len(found), len(prep.symbols), workers)
    prep.say(
        f"walk-forward: {total_runs} training run(s) and {len(found)} test run(s), about "
        f"{duration_text(estimate)} ({SECONDS_PER_SESSION} s per session per underlying per run)"
    )
    check_grid_size(total_runs, estimate, req.yes)
    engine = make_engine(prep, plan.n_runs)
    oos.precheck(prep, plan.n_runs, "walk-forward")
    results: list[WindowResult] = []
    touches = 0  # the strategy's out-of-sample touches in the ledger, when this walk touched OOS
    started = time.perf_counter()
    with engine:
        for w in found:
            train = window_prep(prep, w.train)
            rows: list[dict[str, Any]] = []
            run_search(
                plan, train, engine, rows, progress=not req.quiet, desc=f"window {w.index}/{len(found)}"
            )
            touches = max(touches, _record_training(train, plan, rows))
            grid_order(rows, plan.axes)
            frame = results_frame(rows, plan.axes, plan.metric)
            winner = _winner(plan, frame)
            test_prep = window_prep(prep, w.test)
            test = run_test_window(test_prep, winner, plan.axes)
            touches = max(touches, _record_test(test_prep, winner, test))
            results.append(WindowResult(w, frame, winner, test))
            prep.say(
                f"window {w.index}/{len(found)}: train {w.train[0]}..{w.train[-1]} -> "
                f"{' '.join(f'{k}={v}' for k, v in winner.items())}; test {w.test[0]}..{w.test[-1]}: "
                f"{test.row['total_trades']} trade(s), {test.row['total_pnl']:+,.2f}"
            )
    seconds = time.perf_counter() - started
    return write_outputs(prep, spec, plan, results, seconds, touches)
