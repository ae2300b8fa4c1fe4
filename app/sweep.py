"""Parameter sweeps: ``--optimize key=start:stop:step`` -> ``cerebro.optstrategy`` on N processes.

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

import contextlib
import itertools
import math
import os
import signal
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from app.backtest import BadInput, Prepared, RunFailed, build, one_line
from options_scalper.model import ScalperError
from strategies import registry

DEFAULT_SORT = "total_pnl"
MAX_COMBINATIONS = 10_000
RESULTS_FILENAME = "optimization.csv"
HEATMAP_FILENAME = "heatmap.png"
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
# params that shape the feeds or the broker, fixed for the whole Cerebro
NOT_SWEEPABLE = {
    "pool_size": "it sets how many contract feeds exist",
    "cap_to_size": "it is a broker setting",
    "macro_compression": "it sets the resampled macro feed, built once for all runs",
}


@dataclass(frozen=True)
class GridAxis:
    """One swept parameter and its values, in order."""

    name: str
    values: tuple[Any, ...]


# --------------------------------------------------------------------------- parsing


def _decimals(text: str) -> int:
    text = text.strip().lower()
    if "e" in text:
        return 12
    return len(text.split(".", 1)[1]) if "." in text else 0


def _range_values(name: str, text: str, default: Any) -> tuple[Any, ...]:
    parts = text.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise BadInput(f"--optimize {name}={text}: expected start:stop:step, e.g. {name}=0.2:0.4:0.1")
    if isinstance(default, bool) or not isinstance(default, int | float):
        raise BadInput(
            f"--optimize {name}={text}: {name} is not numeric (default {default!r}); list values: {name}=a,b"
        )
    try:
        start, stop, step = (float(p) for p in parts)
    except ValueError:
        raise BadInput(f"--optimize {name}={text}: start, stop and step must be numbers") from None
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise BadInput(f"--optimize {name}={text}: start, stop and step must be finite")
    if step <= 0:
        raise BadInput(f"--optimize {name}={text}: step must be > 0")
    if start > stop:
        raise BadInput(f"--optimize {name}={text}: start {start:g} is above stop {stop:g}; swap them")
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_COMBINATIONS:
        raise BadInput(f"--optimize {name}={text}: {count} values; use a coarser step")
    if isinstance(default, int):
        if not all(v.is_integer() for v in (start, stop, step)):
            raise BadInput(f"--optimize {name}={text}: {name} takes whole numbers (default {default})")
        return tuple(int(start) + i * int(step) for i in range(count))
    digits = max(_decimals(p) for p in parts)
    return tuple(round(start + i * step, digits) for i in range(count))


def parse_axis(text: str, valid: Mapping[str, Any], strategy: str) -> GridAxis:
    """Parse one ``--optimize`` text against the strategy's settable params."""
    try:
        name, values_text = registry.parse_assignment(text, "--optimize")
        name = registry.canonical_param(strategy, name)
        registry.check_param_name(name, valid, strategy, "--optimize")
    except registry.StrategyError as exc:
        raise BadInput(one_line(exc)) from exc
    if name in NOT_SWEEPABLE:
        raise BadInput(f"--optimize {name}: cannot be swept ({NOT_SWEEPABLE[name]}); set it with --param")
    default = valid[name]
    if ":" in values_text:
        values = _range_values(name, values_text, default)
    else:
        items = [v for v in values_text.split(",") if v.strip()]
        if not items:
            raise BadInput(f"--optimize {name}=: no values; use start:stop:step or a,b,c")
        try:
            values = tuple(registry.coerce_value(name, v, default, "--optimize") for v in items)
        except registry.StrategyError as exc:
            raise BadInput(one_line(exc)) from exc
    return GridAxis(name, tuple(dict.fromkeys(values)))


def parse_grid(
    texts: Sequence[str], strategy: str, strategy_cls: type, fixed: Mapping[str, Any]
) -> list[GridAxis]:
    """Parse every ``--optimize`` text; check names are unique and not also fixed by ``--param``."""
    valid = registry.settable_params(strategy_cls)
    axes: list[GridAxis] = []
    for text in texts:
        axis = parse_axis(text, valid, strategy)
        if any(a.name == axis.name for a in axes):
            raise BadInput(f"--optimize {axis.name}: given twice; give each key once")
        if axis.name in fixed and axis.name != "profile":
            raise BadInput(f"--optimize {axis.name}: also set with --param/--profile; drop one of them")
        axes.append(axis)
    total = math.prod(len(a.values) for a in axes)
    if total > MAX_COMBINATIONS:
        raise BadInput(f"--optimize: {total} combinations (limit {MAX_COMBINATIONS}); use coarser steps")
    return axes


def combinations(axes: Sequence[GridAxis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, in ``itertools.product`` order."""
    names = [a.name for a in axes]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(a.values for a in axes))]


def validate_grid(strategy: str, fixed: Mapping[str, Any], axes: Sequence[GridAxis]) -> int:
    """Build the config of every combination; raise ``BadInput`` on the first invalid one."""
    combos = combinations(axes)
    for combo in combos:
        try:
            registry.validate_config(strategy, {**fixed, **combo})
        except registry.StrategyError as exc:
            shown = " ".join(f"{k}={v}" for k, v in combo.items())
            raise BadInput(f"--optimize: combination {shown} is invalid: {one_line(exc)}") from exc
    return len(combos)


def check_sort_metric(metric: str) -> str:
    if metric not in METRICS:
        raise BadInput(
            f"--sort-by {metric!r} is not a metric{registry.suggest(metric, METRICS)} "
            f"(choices: {', '.join(METRICS)})"
        )
    return metric


# --------------------------------------------------------------------------- results


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
    columns = [a.name for a in axes] + list(_STAT_KEYS) + list(_EQUITY_KEYS) + ["rejected_signals"]
    frame = pd.DataFrame(list(rows), columns=columns)
    return sort_results(frame, metric)


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


# --------------------------------------------------------------------------- run


@dataclass
class OptOutcome:
    frame: pd.DataFrame
    console: str
    files: dict[str, Path]
    seconds: float
    interrupted: bool = False


@contextlib.contextmanager
def _parent_only_sigint() -> Iterator[None]:
    """Ctrl-C stops the sweep in the parent; forked workers ignore it (no worker tracebacks)."""
    parent = os.getpid()
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if os.getpid() == parent:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def default_workers(n_runs: int) -> int:
    return max(1, min(os.cpu_count() or 1, n_runs))


class _Collector:
    """``optcallback`` target: one figures row per finished run, and the progress bar.

    Cerebro is pickled to the workers with its callbacks; the collector travels empty.
    """

    def __init__(self, rows: list[dict[str, Any]], axes: Sequence[GridAxis], bar: Any) -> None:
        self.rows, self.axes, self.bar = rows, list(axes), bar

    def __call__(self, result: Any) -> None:
        for r in result:
            self.rows.append(result_row(r, self.axes))
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __getstate__(self) -> dict[str, Any]:
        return {"rows": [], "axes": self.axes, "bar": None}


def sweep(
    prep: Prepared,
    axes: Sequence[GridAxis],
    workers: int,
    rows: list[dict[str, Any]],
    *,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run every combination on ``workers`` processes, appending one figures row per run to ``rows``.

    Rows arrive as runs finish, so an interrupted sweep keeps what it completed.
    """
    cerebro = build(
        prep, prep.params, journal_url=prep.journal_url, progress=False, equity_bars=False, criteria=False
    )
    (strategy_cls, args, kwargs) = cerebro.strats.pop()[0]
    grid = {k: (v,) for k, v in kwargs.items()}
    grid.update({a.name: a.values for a in axes})
    cerebro.optstrategy(strategy_cls, *args, **grid)
    total = math.prod(len(a.values) for a in axes)
    collector = _Collector(
        rows, axes, tqdm(total=total, desc="optimize", unit="run", disable=not progress, leave=False)
    )
    cerebro.optcallback(collector)
    try:
        with _parent_only_sigint():
            cerebro.run(maxcpus=workers, optreturn=True)
    except ScalperError as exc:
        raise RunFailed(f"optimization stopped: {one_line(exc)}") from exc
    finally:
        collector.close()
    return rows


def run_optimization(prep: Prepared) -> OptOutcome:
    """Sweep the ``--optimize`` grid; write ``optimization.csv`` (and ``heatmap.png`` for 2 keys)."""
    req = prep.request
    metric = check_sort_metric(req.sort_by or DEFAULT_SORT)
    axes = parse_grid(req.optimize, req.strategy, prep.strategy_cls, prep.params)
    n_runs = validate_grid(req.strategy, prep.params, axes)
    workers = min(req.workers or default_workers(n_runs), n_runs)
    prep.say(f"optimize: {n_runs} run(s) over {', '.join(a.name for a in axes)} on {workers} process(es)")
    out = prep.out_dir
    csv_path = out / RESULTS_FILENAME
    started = time.perf_counter()
    interrupted = False
    rows: list[dict[str, Any]] = []
    try:
        sweep(prep, axes, workers, rows, progress=not req.quiet)
    except KeyboardInterrupt:
        interrupted = True
    seconds = time.perf_counter() - started
    frame = results_frame(rows, axes, metric)
    files: dict[str, Path] = {}
    try:
        if rows or not interrupted:
            frame.to_csv(csv_path, index=False, float_format="%.10g")
            files["results"] = csv_path
        if len(axes) == 2 and rows and not interrupted:
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
    best = best_command(frame, axes)
    if best:
        console += f"\nbest: {best}   ({seconds:.1f} s for {n_runs} runs on {workers} process(es))\n"
    return OptOutcome(frame=frame, console=console, files=files, seconds=seconds)
