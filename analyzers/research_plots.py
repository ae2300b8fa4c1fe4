"""Research PNGs: a search's parallel coordinates, walk-forward parameter stability and stitched equity.

Drawn like ``analyzers.plots`` (``Figure`` + Agg canvas, no pyplot).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize

from analyzers.plots import LINE, _figure, _save


def _scaled(column: pd.Series) -> tuple[np.ndarray, list[float], list[str]]:
    """Values on [0, 1], with the tick positions and labels of the axis."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=float)
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        span = hi - lo or 1.0
        ticks = sorted(set(values[np.isfinite(values)].tolist()))
        if len(ticks) > 8:
            ticks = list(np.linspace(lo, hi, 5))
        return (values - lo) / span, [(t - lo) / span for t in ticks], [f"{t:g}" for t in ticks]
    labels = list(dict.fromkeys(str(v) for v in column))
    step = 1.0 / max(1, len(labels) - 1)
    index = {v: i * step for i, v in enumerate(labels)}
    return np.array([index[str(v)] for v in column]), [index[v] for v in labels], labels


def plot_parallel(
    frame: pd.DataFrame, params: Sequence[str], metric: str, path: str | os.PathLike[str]
) -> Path:
    """One line per trial across the swept params and the metric, coloured by the metric (best bold)."""
    columns = [*params, metric]
    metric_values = frame[metric].to_numpy(dtype=float)
    finite = metric_values[np.isfinite(metric_values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
    cmap = matplotlib.colormaps["viridis"]
    scaled = {
        c: _scaled(frame[c].replace([np.inf, -np.inf], [hi, lo]) if c == metric else frame[c])
        for c in columns
    }
    fig = _figure(1.8 * len(columns) + 2.5, 4.8)
    ax = fig.subplots()
    xs = np.arange(len(columns))
    for i in range(len(frame)):
        ys = [scaled[c][0][i] for c in columns]
        value = metric_values[i]
        colour: Any = (
            cmap(norm(min(max(value, lo), hi))) if np.isfinite(value) or np.isinf(value) else "#bbbbbb"
        )
        ax.plot(xs, ys, color=colour, lw=2.6 if i == 0 else 1.0, alpha=1.0 if i == 0 else 0.7)
    for x, c in zip(xs, columns, strict=True):
        ax.axvline(float(x), color="black", lw=0.8)
        for pos, label in zip(scaled[c][1], scaled[c][2], strict=True):
            ax.text(x + 0.03, pos, label, fontsize=7, va="center")
    ax.set_xticks(xs, columns)
    ax.set_yticks([])
    ax.set_xlim(-0.2, len(columns) - 0.6)
    ax.set_title(f"{len(frame)} trial(s): {metric} by parameters (best bold)", fontsize=12, loc="left")
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=metric, shrink=0.85)
    return _save(fig, path)


def plot_stability(windows: pd.DataFrame, params: Sequence[str], path: str | os.PathLike[str]) -> Path:
    """Each window's winning value of every swept param (one panel per param), by test-window start."""
    fig = _figure(8.5, 1.9 * len(params) + 0.8)
    axes = fig.subplots(len(params), 1, sharex=True, squeeze=False)[:, 0]
    labels = [str(v) for v in windows["test_start"]]
    xs = np.arange(len(windows))
    for ax, name in zip(axes, params, strict=True):
        ys, ticks, tick_labels = _scaled(windows[name])
        ax.step(xs, ys, where="mid", color=LINE, lw=1.6)
        ax.plot(xs, ys, "o", color=LINE)
        ax.set_yticks(ticks, tick_labels)
        ax.set_ylim(-0.1, 1.1)
        ax.set_ylabel(name, fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1].set_xticks(xs, labels, rotation=45, ha="right", fontsize=7)
    axes[-1].set_xlabel("test window start")
    axes[0].set_title("walk-forward winners by window (parameter stability)", fontsize=12, loc="left")
    return _save(fig, path)


def plot_walk_equity(equity: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """The stitched out-of-sample equity (``session``, ``window``, ``value``): one colour per test window."""
    fig = _figure(10, 4.2)
    ax = fig.subplots()
    xs = np.arange(len(equity))
    cmap = matplotlib.colormaps["tab10"]
    ax.plot(xs, equity["value"].to_numpy(), color="#999999", lw=1.0, zorder=1)  # across window joins
    for k, (window, part) in enumerate(equity.groupby("window", sort=True)):
        idx = xs[equity["window"].to_numpy() == window]
        ax.plot(
            idx,
            part["value"].to_numpy(),
            color=cmap(k % 10),
            lw=1.8,
            marker="o",
            ms=3,
            label=f"window {window}",
        )
    if equity["window"].nunique() <= 12:
        ax.legend(fontsize=7, ncols=4, loc="best")
    step = max(1, len(equity) // 12)
    ax.set_xticks(xs[::step], [str(s) for s in equity["session"].iloc[::step]], rotation=45, ha="right")
    ax.set_ylabel("account value (stitched)")
    ax.grid(alpha=0.3)
    ax.set_title("walk-forward: out-of-sample equity, test windows stitched", fontsize=12, loc="left")
    return _save(fig, path)
