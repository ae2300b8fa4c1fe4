"""Performance: equity and drawdown curves, figures by group, best and worst scalps, seed 003's criteria.

Every function takes the frame of ``dashboard.scalps.load_scalps`` (cached by the
page), so one read of the journal serves the whole tab. The figures follow
``analyzers.stats`` (a win is pnl > 0; profit factor by ``analyzers.stats.profit_factor``);
the success criteria and the execution cost are ``analyzers.criteria`` and
``analyzers.execution``, the code of the backtest report, run on the frame's columns
(``analyzers.columns.ScalpColumns.from_frame``: no record per scalp).

The curves are *realised* equity: the starting equity plus the cumulative net P&L
of the scalps at their exit times (the report's equity curve also marks open
positions each minute; at the end of a session with every scalp closed both agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from analyzers.columns import FRAME_COLUMNS as ANALYZER_COLUMNS
from analyzers.columns import ScalpColumns, eastern_dates
from analyzers.criteria import success_criteria
from analyzers.execution import execution_cost, exit_thresholds
from analyzers.stats import CONVICTION_BUCKETS, conviction_bucket, profit_factor

GROUPS: dict[str, str] = {
    "ticker": "Ticker",
    "entry_hour": "Entry hour (ET)",
    "conviction": "Conviction",
    "dte": "DTE",
}
# the ``load_scalps`` columns this module reads (the page reads only these for the tab; entry_hour is derived)
FRAME_COLUMNS = tuple(dict.fromkeys(("id", "run_id", "ticker", "conviction", "dte", *ANALYZER_COLUMNS)))


def _ns(times: pd.Series) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(times).as_unit("ns").asi8, dtype=np.int64)


def equity_curves(frame: pd.DataFrame, initial_equity: float) -> pd.DataFrame:
    """Per run, in exit order: ``exit_time``, ``cum_pnl``, ``equity``, ``drawdown`` ($), ``drawdown_pct``."""
    cols = ["run_id", "exit_time", "pnl", "cum_pnl", "equity", "peak", "drawdown", "drawdown_pct"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    run_ids = frame["run_id"]
    run, names = pd.factorize(run_ids, sort=True)
    if (run < 0).any():  # a scalp without a run id: a run of its own
        run_ids = run_ids.fillna("(no run id)")
        run, names = pd.factorize(run_ids, sort=True)
    order = np.lexsort((_ns(frame["exit_time"]), run))  # by run id, then exit time, ties as they come
    out = frame.loc[:, ["exit_time", "pnl"]].iloc[order]
    out.insert(
        0, "run_id", pd.Series(np.asarray(names, dtype=object)[run[order]], index=out.index, dtype=object)
    )
    by_run = out.groupby(run[order], sort=False)
    out["cum_pnl"] = by_run["pnl"].cumsum()
    out["equity"] = initial_equity + out["cum_pnl"]
    out["peak"] = np.maximum(out.groupby(run[order], sort=False)["equity"].cummax(), initial_equity)
    out["drawdown"] = out["peak"] - out["equity"]
    out["drawdown_pct"] = np.where(out["peak"] > 0, out["drawdown"] / out["peak"], 0.0)
    return out.loc[:, cols].reset_index(drop=True)


def plot_points(curves: pd.DataFrame, max_points: int = 4000) -> pd.DataFrame:
    """The curve rows worth drawing: all of them up to ``max_points`` a run, else per US/Eastern exit day
    the day's last point and its deepest drawdown (so the chart keeps every day's close and low)."""
    if curves.empty:
        return curves
    run, _ = pd.factorize(curves["run_id"])
    if np.bincount(run).max() <= max_points:
        return curves
    keys = [run, eastern_dates(_ns(curves["exit_time"])).astype(np.int64)]
    last = curves.groupby(keys, sort=False).tail(1).index
    deepest = curves["drawdown"].groupby(keys, sort=False).idxmax()
    keep = sorted(set(last) | set(deepest.to_numpy().tolist()))
    return curves.loc[keep]


def daily_equity(frame: pd.DataFrame, initial_equity: float) -> dict[date, float]:
    """US/Eastern exit day -> realised end-of-day equity of all the frame's scalps together."""
    if frame.empty:
        return {}
    per_day = frame.groupby("exit_day")["pnl"].sum().sort_index().cumsum() + initial_equity
    return {_as_date(d): float(v) for d, v in per_day.items()}


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def max_drawdown(curves: pd.DataFrame) -> dict[str, float]:
    """Largest drawdown ($ and fraction of the peak) over the curves (0 with no trades)."""
    if curves.empty:
        return {"max_drawdown": 0.0, "max_drawdown_pct": 0.0}
    return {
        "max_drawdown": float(curves["drawdown"].max()),
        "max_drawdown_pct": float(curves["drawdown_pct"].max()),
    }


def _label(by: str, value: Any) -> str:
    if by == "entry_hour":
        return f"{int(value):02d}"
    if by == "conviction":
        return conviction_bucket(int(value))
    return str(value)


def _group_codes(frame: pd.DataFrame, by: str) -> tuple[np.ndarray, np.ndarray]:
    """Each row's group number and the group labels: one label per distinct value, not per row."""
    codes, distinct = pd.factorize(frame[by])
    label_of, labels = pd.factorize(np.array([_label(by, v) for v in distinct], dtype=object))
    return np.asarray(label_of)[codes], np.asarray(labels, dtype=object)


def group_figures(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Trades, wins, win rate, P&L, profit factor and average P&L % per ``by`` (``GROUPS``), report order."""
    if by not in GROUPS:
        raise ValueError(f"group {by!r} is not one of {', '.join(GROUPS)}")
    cols = ["group", "trades", "wins", "win_rate", "total_pnl", "profit_factor", "avg_pnl_pct"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    group, labels = _group_codes(frame, by)
    work = pd.DataFrame(
        {
            "group": group,
            "pnl": frame["pnl"],
            "pnl_pct": frame["pnl_pct"],
            "win": frame["win"].astype(int),
            "gain": frame["pnl"].clip(lower=0.0),
            "loss": (-frame["pnl"]).clip(lower=0.0),
        }
    )
    g = work.groupby("group", sort=False).agg(
        trades=("pnl", "size"),
        wins=("win", "sum"),
        total_pnl=("pnl", "sum"),
        avg_pnl_pct=("pnl_pct", "mean"),
        gain=("gain", "sum"),
        loss=("loss", "sum"),
    )
    g["win_rate"] = g["wins"] / g["trades"]
    # gross profit / gross loss with analyzers.stats' edge cases (inf: no loss; None: neither)
    g["profit_factor"] = [profit_factor([gp, -gl]) for gp, gl in zip(g["gain"], g["loss"], strict=True)]
    g.index = labels[g.index.to_numpy()]
    g = g.rename_axis("group").reset_index()
    if by == "conviction":
        rank = {b: i for i, b in enumerate(CONVICTION_BUCKETS)}
        g = g.sort_values("group", key=lambda s: s.map(rank))
    elif by == "dte":
        g = g.sort_values("group", key=lambda s: s.astype(int))
    else:
        g = g.sort_values("group")
    return g.loc[:, cols].reset_index(drop=True)


def best_worst(frame: pd.DataFrame, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` best and ``n`` worst scalps by net P&L (ties: earlier entry first)."""
    cols = [
        "id",
        "run_id",
        "ticker",
        "option_symbol",
        "entry_time",
        "exit_time",
        "exit_reason",
        "pnl",
        "pnl_pct",
    ]
    if frame.empty:
        empty = pd.DataFrame(columns=cols)
        return empty, empty
    pnl, entry = frame["pnl"].to_numpy(dtype=np.float64), _ns(frame["entry_time"])
    best = np.lexsort((entry, -pnl))[:n]  # stable: ties on both keys keep the frame's order
    worst = np.lexsort((entry, pnl))[:n]
    return frame.iloc[best].loc[:, cols], frame.iloc[worst].loc[:, cols]


def criteria_table(frame: pd.DataFrame, initial_equity: float) -> pd.DataFrame:
    """Seed 003's success criteria (``analyzers.criteria.success_criteria``) of the frame's scalps."""
    rows = success_criteria(
        ScalpColumns.from_frame(frame), daily_equity(frame, initial_equity), initial_equity
    )
    table = pd.DataFrame(rows, columns=["key", "name", "target", "value", "passed", "detail"])
    table["result"] = table["passed"].map(lambda p: "n/a" if p is None else ("PASS" if p else "FAIL"))
    return table


def execution_section(
    frame: pd.DataFrame, config_cls: type | None, params: Mapping[str, Any]
) -> dict[str, Any]:
    """The report's ``execution_cost`` section for the frame's scalps and the run's exit thresholds."""
    return execution_cost(ScalpColumns.from_frame(frame), exit_thresholds(config_cls, params))


def execution_table(section: Mapping[str, Any]) -> pd.DataFrame:
    """Exit reason, trades, threshold and realised P&L / premium move (mean, median, worst): fractions."""
    rows = [
        {
            "exit_reason": reason,
            "trades": r["trades"],
            "threshold_pct": r["threshold_pct"],
            "pnl_mean": r["pnl_pct"]["mean"],
            "pnl_median": r["pnl_pct"]["median"],
            "pnl_worst": r["pnl_pct"]["worst"],
            "move_mean": r["premium_move_pct"]["mean"],
            "move_past_threshold": r["mean_move_past_threshold_pct"],
        }
        for reason, r in section.get("by_exit_reason", {}).items()
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "exit_reason",
            "trades",
            "threshold_pct",
            "pnl_mean",
            "pnl_median",
            "pnl_worst",
            "move_mean",
            "move_past_threshold",
        ],
    )
