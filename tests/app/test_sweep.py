"""--optimize grids, result ordering and a tiny 2x2 sweep on two worker processes."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from app.backtest import BadInput
from app.sweep import (
    GridAxis,
    check_sort_metric,
    combinations,
    parse_axis,
    parse_grid,
    sort_results,
    validate_grid,
)
from strategies import registry
from tests.support.probe import ProbeScalp

REPO = Path(__file__).resolve().parents[2]
DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
VALID = registry.settable_params(ProbeScalp)


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("profit_target_pct=0.2:0.4:0.1", (0.2, 0.3, 0.4)),  # stop inclusive, no float drift
        ("max_loss_pct=0.3:0.5:0.05", (0.3, 0.35, 0.4, 0.45, 0.5)),
        ("fast=3:9:3", (3, 6, 9)),
        ("max_dte=0:1:1", (0, 1)),
        ("entry_order_type=limit,ask", ("limit", "ask")),
        ("no_average_up=true,false", (True, False)),
        ("profit_target_pct=0.25", (0.25,)),
    ],
)
def test_parse_axis_builds_the_values(text, values):
    axis = parse_axis(text, VALID, "tests.support.probe:ProbeScalp")
    assert axis.values == values
    assert all(type(v) is type(values[0]) for v in axis.values)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("profit_target_pct=0.4:0.2:0.1", "swap them"),
        ("profit_target_pct=0.2:0.4:0", "step must be > 0"),
        ("profit_target_pct=0.2:0.4", "start:stop:step"),
        ("fast=3:9:1.5", "whole numbers"),
        ("profit_targt_pct=0.2:0.4:0.1", "did you mean 'profit_target_pct'"),
        ("entry_order_type=0:1:1", "not numeric"),
        ("pool_size=1:3:1", "cannot be swept"),
        ("max_dte", "key=value"),
    ],
)
def test_parse_axis_rejects_bad_grids(text, message):
    with pytest.raises(BadInput, match=message):
        parse_axis(text, VALID, "tests.support.probe:ProbeScalp")


def test_parse_grid_rejects_a_key_given_twice_or_also_fixed():
    with pytest.raises(BadInput, match="given twice"):
        parse_grid(["fast=3,4", "fast=5,6"], "tests.support.probe:ProbeScalp", ProbeScalp, {})
    with pytest.raises(BadInput, match="also set with --param"):
        parse_grid(["fast=3,4"], "tests.support.probe:ProbeScalp", ProbeScalp, {"fast": 5})


def test_validate_grid_names_the_invalid_combination():
    axes = [GridAxis("target_delta_min", (0.3, 0.6))]
    with pytest.raises(BadInput, match=r"target_delta_min=0\.6"):
        validate_grid("tests.support.probe:ProbeScalp", {}, axes)
    assert (
        validate_grid(
            "tests.support.probe:ProbeScalp", {}, [GridAxis("fast", (3, 4)), GridAxis("slow", (10, 12))]
        )
        == 4
    )
    assert combinations([GridAxis("a", (1, 2)), GridAxis("b", ("x",))]) == [
        {"a": 1, "b": "x"},
        {"a": 2, "b": "x"},
    ]


def test_sort_results_puts_inf_above_finite_and_nan_last():
    frame = pd.DataFrame(
        {
            "fast": [1, 2, 3, 4],
            "profit_factor": [1.5, math.inf, math.nan, 3.0],
            "total_pnl": [10.0, 5.0, 0.0, 20.0],
        }
    )
    ranked = sort_results(frame, "profit_factor")
    assert list(ranked["fast"]) == [2, 4, 1, 3]
    assert list(ranked["rank"]) == [1, 2, 3, 4]
    frame["max_drawdown"] = [5.0, 1.0, 3.0, 2.0]
    assert list(sort_results(frame, "max_drawdown")["fast"]) == [2, 4, 3, 1]  # lower is better


def test_check_sort_metric_suggests():
    assert check_sort_metric("win_rate") == "win_rate"
    with pytest.raises(BadInput, match="did you mean 'profit_factor'"):
        check_sort_metric("profit_factr")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.getbasetemp() / "tiny-spy"
    if not (root / ".done").exists():
        from feeds.catalog import Catalog
        from feeds.synthetic.generate import generate_dataset
        from feeds.synthetic.spec import SPY_SPEC

        generate_dataset(root, [SPY_SPEC], DAYS, progress=False)
        Catalog(root / ".catalog").ingest(root, progress=False)
        (root / ".done").write_text("ok")
    return root


def test_two_by_two_sweep_on_two_workers_writes_sorted_csv_and_heatmap(data, tmp_path):
    out = tmp_path / "opt"
    args = [
        "--strategy",
        "tests.support.probe:ProbeScalp",
        "--quiet",
        "--start",
        "2024-01-03",
        "--warmup-days",
        "1",
        "--workers",
        "2",
        "--sort-by",
        "profit_factor",
        "--optimize",
        "profit_target_pct=0.2:0.3:0.1",
        "--optimize",
        "max_loss_pct=0.4,0.5",
    ]
    proc = subprocess.run(
        [sys.executable, str(REPO / "run_backtest.py"), "--data", str(data), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    results = pd.read_csv(out / "optimization.csv")
    assert len(results) == 4
    assert set(zip(results["profit_target_pct"], results["max_loss_pct"], strict=True)) == {
        (0.2, 0.4), (0.2, 0.5), (0.3, 0.4), (0.3, 0.5),
    }  # fmt: skip
    pf = results["profit_factor"].to_numpy()
    assert all(a >= b for a, b in itertools.pairwise(pf) if not (math.isnan(a) or math.isnan(b)))
    assert list(results["rank"]) == [1, 2, 3, 4]
    assert (out / "heatmap.png").read_bytes()[:4] == b"\x89PNG"
    assert not (out / "journal.sqlite").exists()  # no journal during a sweep unless asked
    assert "best: --param profit_target_pct=" in proc.stdout
