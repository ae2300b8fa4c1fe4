"""Sweep results: one figures row per run, ranking by a metric, the console table, the best command."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from app.backtest import BadInput
from app.grid import GridAxis
from strategies import registry

DEFAULT_SORT = "total_pnl"
TOP_ROWS = 20

# metric -> True when higher is better
METRICS: dict[str, bool] = {
    "total_pnl": True,
    "profit_factor": True,
    "win_rate": True,
    "total_trades": True,
    "winning_trades": True,
    "losing_trades": False,
    "avg_pnl": True,
    "avg_pnl_pct": True,
    "avg_winner": True,
    "avg_loser": True,
    "avg_hold_minutes": False,
    "total_commission": False,
    "total_return_pct": True,
    "end_value": True,
    "max_drawdown": False,
    "max_drawdown_pct": False,
}
_STAT_KEYS = (
    "total_trades",
    "winning_trades",
    "losing_trades",
    "win_rate",
    "profit_factor",
    "total_pnl",
    "avg_pnl",
    "avg_pnl_pct",
    "avg_winner",
    "avg_loser",
    "avg_hold_minutes",
    "total_commission",
)
_COUNT_KEYS = frozenset({"total_trades", "winning_trades", "losing_trades"})
_EQUITY_KEYS = ("total_return_pct", "end_value", "max_drawdown", "max_drawdown_pct")
_TRIAL_KEYS = ("rejected_signals", "attempts", "error")


def check_sort_metric(metric: str) -> str:
    if metric not in METRICS:
        raise BadInput(
            f"--sort-by {metric!r} is not a metric{registry.suggest(metric, METRICS)} "
            f"(choices: {', '.join(METRICS)})"
        )
    return metric


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def result_row(opt_return: Any, axes: Sequence[GridAxis]) -> dict[str, Any]:
    """The figures of one finished run (an ``OptReturn`` or a strategy)."""
    stats = opt_return.analyzers.scalp_stats.get_analysis()
    equity = opt_return.analyzers.equity.get_analysis()
    row: dict[str, Any] = {a.name: getattr(opt_return.params, a.name) for a in axes}
    for key in _STAT_KEYS:
        row[key] = int(stats.get(key) or 0) if key in _COUNT_KEYS else _number(stats.get(key))
    for key in _EQUITY_KEYS:
        row[key] = _number(equity.get(key))
    # JSON-safe analyzers turn inf into None: a profit with no loser is an infinite profit factor
    if (
        math.isnan(row["profit_factor"])
        and row["losing_trades"] == 0
        and (stats.get("gross_profit") or 0) > 0
    ):
        row["profit_factor"] = math.inf
    row["rejected_signals"] = int(sum(stats.get("rejections", {}).values()))
    return row


def sort_results(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Best first by ``metric`` (inf above finite, NaN last); ties by the other headline figure."""
    second = "profit_factor" if metric == "total_pnl" else "total_pnl"
    higher = METRICS[metric]
    out = frame.sort_values(
        [metric, second], ascending=[not higher, False], na_position="last", kind="stable"
    ).reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


def results_frame(rows: Sequence[Mapping[str, Any]], axes: Sequence[GridAxis], metric: str) -> pd.DataFrame:
    """The rows as a frame, best first; ``attempts`` / ``error``: how many runs a trial took, why it failed."""
    columns = [a.name for a in axes] + list(_STAT_KEYS) + list(_EQUITY_KEYS) + list(_TRIAL_KEYS)
    frame = pd.DataFrame(list(rows), columns=columns)
    frame["attempts"] = frame["attempts"].fillna(1).astype(int)
    frame["error"] = frame["error"].fillna("").astype(str)
    return sort_results(frame, metric)


def failures_line(frame: pd.DataFrame) -> str:
    """The console's word on retried and failed trials (empty when every trial ran once)."""
    failed = frame[frame["error"] != ""]
    retried = int((frame["attempts"] > 1).sum()) - len(failed)
    out = ""
    if retried:
        out += f"{retried} trial(s) failed once and succeeded on the retry (attempts 2 in optimization.csv)\n"
    for _, row in failed.iterrows():
        out += f"trial failed after {row['attempts']} attempt(s), figures left empty: {row['error']}\n"
    return out


def _fmt_cell(value: Any, column: str) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if column in ("total_pnl", "avg_pnl", "max_drawdown", "end_value"):
            return f"{value:,.2f}"
        if column in ("win_rate", "avg_pnl_pct", "total_return_pct", "max_drawdown_pct"):
            return f"{value:.1%}"
        return f"{value:.4g}" if column not in ("profit_factor",) else f"{value:.2f}"
    return str(value)


def render_table(frame: pd.DataFrame, axes: Sequence[GridAxis], metric: str, top: int = TOP_ROWS) -> str:
    """The best ``top`` rows as a fixed-width table."""
    shown_cols = ["rank", *(a.name for a in axes)]
    for col in (metric, "total_pnl", "profit_factor", "win_rate", "total_trades", "max_drawdown_pct"):
        if col not in shown_cols:
            shown_cols.append(col)
    rows = [[_fmt_cell(r[c], c) for c in shown_cols] for _, r in frame.head(top).iterrows()]
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(shown_cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(shown_cols, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    title = f"OPTIMIZATION: {len(frame)} run(s), sorted by {metric} (best first)"
    if len(frame) > top:
        title += f"; top {top} shown"
    return "\n".join([title, "#" * len(title), *lines]) + "\n"


def best_command(frame: pd.DataFrame, axes: Sequence[GridAxis]) -> str:
    """The ``--param`` options that reproduce the best row."""
    if frame.empty:
        return ""
    best = frame.iloc[0]
    return " ".join(f"--param {a.name}={_param_text(best[a.name])}" for a in axes)


def _param_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)
