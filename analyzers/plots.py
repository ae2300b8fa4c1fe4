"""Equity-curve and parameter-sweep heatmap PNGs (matplotlib's Agg canvas, headless).

Figures are drawn on ``Figure`` + ``FigureCanvasAgg`` directly: no pyplot, no
global backend switch, nothing left open.

``plot_equity`` draws the account value with trade entries and exits (green
winners, red losers) above a drawdown panel; bars are spaced evenly so nights
and weekends leave no flat gaps, and the axis is labelled in US/Eastern time.
``plot_heatmap`` draws one metric of a two-parameter ``optstrategy`` sweep.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analyzers.equity import BarColumns
from options_scalper.records import ClosedScalp

EASTERN = "America/New_York"
WIN, LOSS, LINE, DD = "#1a9850", "#d73027", "#1f3b73", "#c0392b"
MAX_TRADE_MARKERS = 400  # beyond this, only exits are marked


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | os.PathLike[str]) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120, bbox_inches="tight", facecolor="white")
    return out


def _title(equity: Mapping[str, Any], trades: Sequence[ClosedScalp]) -> str:
    n = len(trades)
    total = sum(t.pnl for t in trades)
    win_rate = f"{sum(t.is_win for t in trades) / n:.0%}" if n else "n/a"
    dd, dd_pct = equity.get("max_drawdown") or 0.0, equity.get("max_drawdown_pct") or 0.0
    sign = "-" if total < 0 else "+"
    text = (
        f"Total P&L {sign}${abs(total):,.2f}   |   {n} trades   |   win rate {win_rate}   |   "
        f"max drawdown ${dd:,.2f} ({dd_pct:.1%})"
    )
    return _no_math(text)


def _no_math(text: str) -> str:
    """Escape dollar signs so matplotlib does not read them as mathtext."""
    return text.replace("$", r"\$")


def _tick_formatter(times: pd.DatetimeIndex) -> FuncFormatter:
    multi_day = times.normalize().nunique() > 1 if len(times) else False
    fmt = "%m-%d %H:%M" if multi_day else "%H:%M"
    if len(times) and times.normalize().nunique() > 20:
        fmt = "%Y-%m-%d"

    def label(x: float, _pos: int) -> str:
        i = round(x)
        return times[i].strftime(fmt) if 0 <= i < len(times) else ""

    return FuncFormatter(label)


def plot_equity(
    equity_analysis: Mapping[str, Any], trades: Sequence[ClosedScalp], path: str | os.PathLike[str]
) -> Path:
    """Write the equity and drawdown PNG of a run to ``path``; return the path.

    ``equity_analysis`` is ``EquityCurve.get_analysis()`` (needs its per-bar columns).
    """
    values, utc_times, dd_frac = _bar_arrays(equity_analysis.get("bars", {}))
    fig = _figure(13, 7.5)
    ax, ax_dd = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.06})
    fig.subplots_adjust(top=0.92)
    fig.suptitle("Equity curve", fontsize=15, fontweight="bold", x=0.125, ha="left", y=0.985)
    ax.set_title(_title(equity_analysis, trades), fontsize=10.5, loc="left", color="#333333")
    if not len(values):
        ax.text(0.5, 0.5, "no bars recorded", ha="center", va="center", transform=ax.transAxes, fontsize=14)
        return _save(fig, path)

    times = utc_times.tz_convert(EASTERN)
    x = np.arange(len(values))
    initial = float(equity_analysis.get("initial_value") or values[0])
    ax.plot(x, values, color=LINE, lw=1.4, zorder=2)
    ax.fill_between(x, values, initial, where=values >= initial, color=WIN, alpha=0.08, interpolate=True)
    ax.fill_between(x, values, initial, where=values < initial, color=LOSS, alpha=0.08, interpolate=True)
    ax.axhline(initial, color="#888888", lw=0.8, ls="--", zorder=1)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: _no_math(f"${v:,.0f}")))
    ax.set_ylabel("Account value")

    _mark_trades(ax, trades, times, values)
    _day_separators((ax, ax_dd), times)

    dd_pct = dd_frac * 100
    ax_dd.fill_between(x, -dd_pct, 0, color=DD, alpha=0.35, lw=0)
    ax_dd.plot(x, -dd_pct, color=DD, lw=0.9)
    worst = int(np.argmax(dd_pct)) if dd_pct.size else 0
    if dd_pct.size and dd_pct[worst] > 0:
        ax_dd.annotate(
            f"max DD {dd_pct[worst]:.1f}%",
            (worst, -dd_pct[worst]),
            xytext=(8, -2) if worst < 0.75 * len(x) else (-8, -2),
            textcoords="offset points",
            fontsize=9,
            color=DD,
            va="top",
            ha="left" if worst < 0.75 * len(x) else "right",
        )
    ax_dd.set_ylim(min(-dd_pct.max() * 1.35, -0.5) if dd_pct.size else -1, 0.2)
    ax_dd.set_ylabel("Drawdown %")
    ax_dd.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0f}%" if abs(v) >= 1 else f"{v:.1f}%"))
    ax_dd.xaxis.set_major_formatter(_tick_formatter(times))
    ax_dd.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True))
    ax_dd.set_xlabel("US/Eastern")
    ax_dd.set_xlim(0, max(len(x) - 1, 1))
    for a in (ax, ax_dd):
        a.grid(True, color="#e6e6e6", lw=0.7)
        a.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


def _bar_arrays(bars: Mapping[str, Any]) -> tuple[np.ndarray, pd.DatetimeIndex, np.ndarray]:
    """Per-bar value (NaN where not finite), UTC time and drawdown fraction (0 where not finite),
    as the JSON-safe lists hold them (``None`` for a value that is not finite)."""
    if isinstance(bars, BarColumns):  # an EquityCurve analysis: arrays, no Python object per bar
        cols = bars.arrays()
        values, dd = cols["value"].copy(), cols["drawdown_pct"].copy()
        values[~np.isfinite(values)] = np.nan
        dd[~np.isfinite(dd)] = 0.0
        micros = np.round(cols["epoch"] * 1e6).astype(np.int64)  # the ISO strings' microseconds
        return values, pd.DatetimeIndex(pd.to_datetime(micros, unit="us", utc=True)), dd
    values = np.asarray([np.nan if v is None else v for v in bars.get("value", [])], dtype=float)
    times = pd.DatetimeIndex(pd.to_datetime(bars.get("datetime", []), utc=True))
    dd = np.asarray(
        [0.0 if v is None else v for v in bars.get("drawdown_pct", [0.0] * len(values))], dtype=float
    )
    return values, times, dd


def _bar_index(times: pd.DatetimeIndex, ts: Any) -> int:
    """Index of the first bar at or after ``ts`` (clamped to the series)."""
    i = int(times.searchsorted(pd.Timestamp(ts).tz_convert(EASTERN)))
    return min(max(i, 0), len(times) - 1)


def _mark_trades(ax: Any, trades: Sequence[ClosedScalp], times: pd.DatetimeIndex, values: np.ndarray) -> None:
    if not trades:
        return
    show_entries = len(trades) <= MAX_TRADE_MARKERS
    size = 46 if len(trades) <= 60 else (20 if len(trades) <= 200 else 9)
    for t in trades:
        color = WIN if t.is_win else LOSS
        xi, xo = _bar_index(times, t.entry_time), _bar_index(times, t.exit_time)
        if show_entries:
            ax.plot([xi, xo], [values[xi], values[xo]], color=color, lw=1.0, alpha=0.5, zorder=3)
            ax.scatter(
                [xi], [values[xi]], marker="^", s=size, color=color, edgecolor="white", lw=0.6, zorder=4
            )
        ax.scatter(
            [xo], [values[xo]], marker="o", s=size * 0.8, color=color, edgecolor="white", lw=0.6, zorder=4
        )
    handles = [
        Line2D([], [], color=WIN, marker="o", lw=0, label="winning exit"),
        Line2D([], [], color=LOSS, marker="o", lw=0, label="losing exit"),
    ]
    if show_entries:
        handles.insert(0, Line2D([], [], color="#555555", marker="^", lw=0, label="entry"))
    ax.legend(handles=handles, loc="upper left", frameon=False, fontsize=9, ncol=len(handles))


def _day_separators(axes: Sequence[Any], times: pd.DatetimeIndex) -> None:
    days = times.normalize()
    starts = np.flatnonzero(days[1:] != days[:-1]) + 1
    if 0 < len(starts) <= 40:
        for a in axes:
            for s in starts:
                a.axvline(s - 0.5, color="#bbbbbb", lw=0.7, ls=":", zorder=0)


# ------------------------------------------------------------------ heatmap


def _cell_text(v: float, fmt: str) -> str:
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return format(v, fmt)


def plot_heatmap(
    results_df: pd.DataFrame,
    x: str,
    y: str,
    metric: str,
    path: str | os.PathLike[str],
    *,
    fmt: str = ".2f",
    center: float | None = None,
) -> Path:
    """Write a heatmap of ``metric`` over the ``x`` x ``y`` parameter grid (mean of duplicates).

    Cells are annotated; ``inf`` cells (e.g. a profit factor with no losses) take the
    top colour and read ``inf``; missing cells are grey. ``center`` fixes the neutral
    colour (default 0 when the metric changes sign). The best cell is outlined.
    """
    missing = [c for c in (x, y, metric) if c not in results_df.columns]
    if missing:
        raise KeyError(
            f"plot_heatmap: no column {missing} in results; columns are {list(results_df.columns)}"
        )
    grid = (
        results_df.pivot_table(index=y, columns=x, values=metric, aggfunc="mean")
        .sort_index()
        .sort_index(axis=1)
    )
    data = grid.to_numpy(dtype=float)
    finite = data[np.isfinite(data)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if vmin == vmax:
        vmin, vmax = vmin - 1.0, vmax + 1.0
    if center is None and vmin < 0 < vmax:
        center = 0.0
    norm = (
        TwoSlopeNorm(vcenter=center, vmin=vmin, vmax=vmax)
        if center is not None and vmin < center < vmax
        else None
    )
    shown = np.where(np.isposinf(data), vmax, np.where(np.isneginf(data), vmin, data))
    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#d9d9d9")

    fig = _figure(1.1 * len(grid.columns) + 3.2, 0.7 * len(grid.index) + 2.4)
    ax = fig.subplots()
    image = ax.imshow(
        np.ma.masked_invalid(shown),
        cmap=cmap,
        norm=norm,
        vmin=None if norm else vmin,
        vmax=None if norm else vmax,
        aspect="auto",
        origin="lower",
    )
    for (r, c), v in np.ndenumerate(data):
        rgba = (
            cmap(norm(shown[r, c]) if norm else (shown[r, c] - vmin) / (vmax - vmin))
            if np.isfinite(shown[r, c])
            else (0.85, 0.85, 0.85, 1)
        )
        luminance = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]
        ax.text(c, r, _no_math(_cell_text(v, fmt)), ha="center", va="center", fontsize=9,
                color="black" if luminance > 0.5 else "white")  # fmt: skip
    if finite.size:
        best_r, best_c = np.unravel_index(
            int(np.nanargmax(np.where(np.isnan(data), -np.inf, data))), data.shape
        )
        ax.add_patch(Rectangle((best_c - 0.5, best_r - 0.5), 1, 1, fill=False, ec="black", lw=2.2))
    ax.set_xticks(range(len(grid.columns)), [str(v) for v in grid.columns])
    ax.set_yticks(range(len(grid.index)), [str(v) for v in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{metric} by {y} x {x}", fontsize=12, fontweight="bold", loc="left")
    fig.colorbar(image, ax=ax, label=metric, shrink=0.85)
    return _save(fig, path)
