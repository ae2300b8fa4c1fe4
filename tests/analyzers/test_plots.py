"""Equity and heatmap PNGs are written, non-trivial and survive odd inputs."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import matplotlib.image as mpimg
import pandas as pd
import pytest

from analyzers.equity import EquityTracker
from analyzers.plots import plot_equity, plot_heatmap
from options_scalper.records import ClosedScalp

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def scalp(t0: datetime, hold: int, pnl: float) -> ClosedScalp:
    return ClosedScalp(
        signal_id="s", ticker="SPY", option_symbol="SPY240110C00470000", option_type="call", strike=470.0,
        expiry=t0.date(), dte=0, direction="long_call", contracts=2, entry_premium=1.0,
        exit_premium=1.0 + pnl / 200, entry_delta=0.4, entry_theta=-0.3, entry_iv=0.2,
        exit_reason="take_profit" if pnl > 0 else "stop_loss", pnl=pnl, pnl_pct=pnl / 200, entry_time=t0,
        exit_time=t0 + timedelta(minutes=hold), commission=2.6, conviction=70,
    )  # fmt: skip


def two_day_run() -> tuple[dict, list[ClosedScalp]]:
    tracker = EquityTracker(10_000.0)
    trades, value = [], 10_000.0
    for day in (date(2024, 3, 4), date(2024, 3, 5)):
        open_utc = datetime(day.year, day.month, day.day, 14, 30, tzinfo=UTC)
        for m in range(1, 391):
            ts = open_utc + timedelta(minutes=m)
            if m % 60 == 5:
                pnl = 50.0 if (m // 60) % 3 else -40.0
                trades.append(scalp(ts, 10, pnl))
            if m % 60 == 15:
                value += trades[-1].pnl
            tracker.update(ts, value, value)
    return tracker.as_dict(), trades


def assert_png(path: Path, min_bytes: int = 15_000) -> None:
    assert path.exists()
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert path.stat().st_size > min_bytes
    height, width = mpimg.imread(path).shape[:2]
    assert width > 600 and height > 300


def test_plot_equity_writes_png(tmp_path: Path) -> None:
    equity, trades = two_day_run()
    out = plot_equity(equity, trades, tmp_path / "plots" / "equity.png")
    assert out == tmp_path / "plots" / "equity.png"
    assert_png(out)


def test_plot_equity_without_trades_or_bars(tmp_path: Path) -> None:
    equity, _ = two_day_run()
    assert_png(plot_equity(equity, [], tmp_path / "no_trades.png"))
    assert_png(plot_equity(EquityTracker(10_000.0).as_dict(), [], tmp_path / "empty.png"), min_bytes=5_000)


def test_plot_heatmap_annotates_grid_with_inf_and_missing(tmp_path: Path) -> None:
    rows = [
        {"take_profit": tp, "stop_loss": sl, "profit_factor": tp / sl}
        for tp in (0.2, 0.25, 0.3)
        for sl in (0.15, 0.25, 0.5)
        if (tp, sl) != (0.2, 0.5)
    ]
    rows.append({"take_profit": 0.3, "stop_loss": 0.15, "profit_factor": math.inf})  # duplicate cell -> mean
    out = plot_heatmap(
        pd.DataFrame(rows), "take_profit", "stop_loss", "profit_factor", tmp_path / "heat.png", center=1
    )
    assert_png(out, min_bytes=10_000)


def test_plot_heatmap_unknown_column_names_the_columns(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1, 2], "b": [1, 2], "pnl": [0.0, 1.0]})
    with pytest.raises(KeyError, match="columns are"):
        plot_heatmap(df, "a", "nope", "pnl", tmp_path / "x.png")
