"""--search optuna: TPE over the declared ranges (int / float / step kept), reproducible with --seed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from app.backtest_command import main
from app.grid import GridAxis
from app.search_optuna import distribution, snap
from tests.support.tiny_data import tiny_spy

FAST = (3, 5, 7, 9)
TARGET = (0.2, 0.25, 0.3, 0.35, 0.4)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_spy(tmp_path_factory)


def test_distributions_follow_the_declared_ranges():
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    assert distribution(GridAxis("fast", FAST, 2)) == IntDistribution(3, 9, step=2)
    assert distribution(GridAxis("p", TARGET, 0.05)) == FloatDistribution(0.2, 0.4, step=0.05)
    assert distribution(GridAxis("e", ("limit", "ask"))) == CategoricalDistribution(["limit", "ask"])
    assert snap(GridAxis("p", TARGET, 0.05), 0.30000000000000004) == 0.3


def _search(data: Path, out: Path, capsys, seed: str) -> tuple[int, str, str]:
    code = main(
        [
            "--strategy", "tests.support.probe:ProbeScalp", "--data", str(data), "--out", str(out),
            "--quiet", "--warmup-days", "1", "--start", "2024-01-03", "--end", "2024-01-03", "--workers", "2",
            "--optimize", "fast=3:9:2", "--optimize", "profit_target_pct=0.2:0.4:0.05",
            "--search", "optuna", "--trials", "4", "--seed", seed, "--sort-by", "total_pnl",
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_optuna_with_a_fixed_seed_is_reproducible(data, tmp_path, capsys):
    code, out, err = _search(data, tmp_path / "one", capsys, "11")
    assert code == 0, err
    first = pd.read_csv(tmp_path / "one" / "optimization.csv")
    assert 1 <= len(first) <= 4 and len(first.drop_duplicates(["fast", "profit_target_pct"])) == len(first)
    assert set(first["fast"]) <= set(FAST) and first["fast"].dtype.kind == "i"
    assert set(first["profit_target_pct"]) <= set(TARGET)  # on the step, exact decimals
    assert list(first["total_pnl"]) == sorted(first["total_pnl"], reverse=True)
    assert "optuna: 4 trial(s) asked" in out and "optuna search: seed 11; pass --seed 11" in out
    assert (tmp_path / "one" / "parallel.png").stat().st_size > 0
    code, _, err = _search(data, tmp_path / "two", capsys, "11")
    assert code == 0, err
    pd.testing.assert_frame_equal(first, pd.read_csv(tmp_path / "two" / "optimization.csv"))
