"""Walk-forward outputs: winners per window, stitched out-of-sample equity, parameter stability, report.json.

Files: ``walkforward_windows.csv`` (one row per window: its dates, the winning
params, the winner's training figure and its test figures), ``walkforward_equity.csv``
and ``.png`` (end-of-session account value of the test windows, each starting
where the previous one ended), ``parameter_stability.png``, ``optimization.csv``
(every training trial, ``window`` first, each window ranked), ``trades.csv`` (the
test windows' trades) and ``report.json`` (``walk_forward``: spec, search, windows,
out-of-sample totals; ``run``; ``oos_touches``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from app.backtest import Prepared, RunFailed, one_line, run_info
from app.search import SearchPlan
from app.sweep import OptOutcome
from app.walkforward import WalkSpec

if TYPE_CHECKING:
    from app.walkforward_run import WindowResult

WINDOWS_FILENAME = "walkforward_windows.csv"
EQUITY_CSV = "walkforward_equity.csv"
EQUITY_PNG = "walkforward_equity.png"
STABILITY_PNG = "parameter_stability.png"
TRIALS_FILENAME = "optimization.csv"


def windows_frame(plan: SearchPlan, results: Sequence[WindowResult]) -> pd.DataFrame:
    rows = []
    for r in results:
        w, best, test = r.window, r.trials.iloc[0], r.test.row
        rows.append(
            {
                "window": w.index,
                "train_start": w.train[0].isoformat(),
                "train_end": w.train[-1].isoformat(),
                "test_start": w.test[0].isoformat(),
                "test_end": w.test[-1].isoformat(),
                **r.winner,
                f"train_{plan.metric}": best[plan.metric],
                "train_trials": len(r.trials),
                "test_trades": test["total_trades"],
                "test_total_pnl": test["total_pnl"],
                "test_win_rate": test["win_rate"],
                "test_profit_factor": test["profit_factor"],
                "test_max_drawdown_pct": test["max_drawdown_pct"],
            }
        )
    return pd.DataFrame(rows)


def stitched_equity(prep: Prepared, results: Sequence[WindowResult]) -> pd.DataFrame:
    """Each test window's end-of-session value, shifted to start where the previous window ended."""
    cash = prep.request.cash
    carried = cash
    rows = []
    for r in results:
        last = cash
        for day in sorted(r.test.daily):
            last = r.test.daily[day]
            rows.append(
                {"session": day.isoformat(), "window": r.window.index, "value": carried + last - cash}
            )
        carried += last - cash
    return pd.DataFrame(rows, columns=["session", "window", "value"])


def _totals(prep: Prepared, trades: Sequence[Any], equity: pd.DataFrame) -> dict[str, Any]:
    from analyzers.stats import core_figures

    figures = core_figures(trades)
    values = [prep.request.cash, *equity["value"].tolist()]
    peak, drawdown = values[0], 0.0
    for v in values:
        peak = max(peak, v)
        drawdown = max(drawdown, peak - v)
    figures.update(end_value=values[-1], total_return_pct=values[-1] / values[0] - 1.0, max_drawdown=drawdown)
    return figures


def _render(plan: SearchPlan, windows: pd.DataFrame, totals: dict[str, Any]) -> str:
    names = [a.name for a in plan.axes]
    head = f"WALK-FORWARD: {len(windows)} window(s), winners by {plan.metric} on each training window"
    lines = [head, "#" * len(head)]
    for _, w in windows.iterrows():
        params = " ".join(f"{n}={w[n]}" for n in names)
        lines.append(
            f"{w['window']:>3}  train {w['train_start']}..{w['train_end']}  test {w['test_start']}..{w['test_end']}"
            f"  {params}  test: {w['test_trades']} trade(s), {w['test_total_pnl']:+,.2f}"
        )
    pf = totals["profit_factor"]
    win = totals["win_rate"]
    lines.append(
        f"out-of-sample (test windows stitched): {totals['trades']} trade(s), P&L {totals['total_pnl']:+,.2f}, "
        f"win rate {'n/a' if win is None else f'{win:.1%}'}, profit factor "
        f"{'n/a' if pf is None else ('inf' if math.isinf(pf) else f'{pf:.2f}')}, "
        f"max drawdown {totals['max_drawdown']:,.2f}"
    )
    return "\n".join(lines) + "\n"


def write_outputs(
    prep: Prepared,
    spec: WalkSpec,
    plan: SearchPlan,
    results: Sequence[WindowResult],
    seconds: float,
    oos_touches: int,
) -> OptOutcome:
    from analyzers.report import write_report_json, write_trades_csv
    from analyzers.research_plots import plot_stability, plot_walk_equity

    out = prep.out_dir
    names = [a.name for a in plan.axes]
    windows = windows_frame(plan, results)
    equity = stitched_equity(prep, results)
    trades = [t for r in results for t in r.test.trades]
    trials = pd.concat([r.trials.assign(window=r.window.index) for r in results], ignore_index=True)
    trials = trials[["window", *[c for c in trials.columns if c != "window"]]]
    totals = _totals(prep, trades, equity)
    report = {
        "walk_forward": {
            "spec": spec.text(),
            "search": plan.method,
            "seed": plan.seed,
            "sort_by": plan.metric,
            "engine": prep.request.engine,
            "params": names,
            "windows": windows.to_dict(orient="records"),
            "out_of_sample": totals,
        },
        "run": run_info(prep, None, seconds=round(seconds, 2)),
        "oos_touches": oos_touches,
    }
    files: dict[str, Path] = {}
    try:
        files["report"] = write_report_json(report, out / "report.json")
        windows.to_csv(out / WINDOWS_FILENAME, index=False, float_format="%.10g")
        files["windows"] = out / WINDOWS_FILENAME
        equity.to_csv(out / EQUITY_CSV, index=False, float_format="%.10g")
        files["equity_csv"] = out / EQUITY_CSV
        trials.to_csv(out / TRIALS_FILENAME, index=False, float_format="%.10g")
        files["trials"] = out / TRIALS_FILENAME
        files["trades"] = write_trades_csv(trades, out / "trades.csv")
        if not equity.empty:
            files["equity"] = plot_walk_equity(equity, out / EQUITY_PNG)
        files["stability"] = plot_stability(windows, names, out / STABILITY_PNG)
    except OSError as exc:
        raise RunFailed(f"cannot write the walk-forward outputs into {out}: {one_line(exc)}") from exc
    console = _render(plan, windows, totals)
    if oos_touches:
        console += f"out-of-sample touched {oos_touches} time(s) by {prep.request.strategy}\n"
    return OptOutcome(frame=windows, console=console, files=files, seconds=seconds)
