"""Backtrader's own chart of a finished run (``--plot``), saved headless."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import backtrader as bt

from app.request import RunFailed
from options_scalper.ports import ContractQuotes


def save_backtrader_plot(cerebro: bt.Cerebro, path: Path) -> Path:
    """Save Backtrader's own chart of the finished run to ``path`` (headless, Agg)."""
    import backtrader.plot  # noqa: F401  (selects TkAgg on import)
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot

    for data in cerebro.datas:
        if isinstance(data, ContractQuotes):  # NaN while unbound: nothing worth a panel
            _hide_from_plot(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "FigureCanvasAgg is non-interactive" from plotter.show()
        figures = [fig for group in cerebro.plot(iplot=False, volume=False) for fig in group]
    if not figures:
        raise RunFailed("Backtrader drew no chart for this run")
    path.parent.mkdir(parents=True, exist_ok=True)
    first = path
    for i, fig in enumerate(figures):
        target = path if i == 0 else path.with_name(f"{path.stem}-{i + 1}{path.suffix}")
        fig.set_size_inches(16, 9)
        fig.savefig(target, dpi=100)
        pyplot.close(fig)
    return first


def _hide_from_plot(feed: Any) -> None:
    feed.plotinfo.plot = False
