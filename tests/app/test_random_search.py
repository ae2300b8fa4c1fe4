"""--search random: --trials combinations drawn from the --optimize ranges, reproducible with --seed."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pandas as pd
import pytest

from app.backtest_command import main
from app.grid import GridAxis, combinations, random_combinations
from tests.support.tiny_data import TINY_DAYS, tiny_spy

DAYS = TINY_DAYS
AXES = [GridAxis("a", tuple(range(10))), GridAxis("b", ("x", "y", "z"))]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_spy(tmp_path_factory)


def test_random_combinations_are_distinct_grid_points_fixed_by_the_seed():
    grid = combinations(AXES)
    drawn = random_combinations(AXES, 5, seed=3)
    assert len(drawn) == 5 and all(c in grid for c in drawn)
    assert len({tuple(c.values()) for c in drawn}) == 5
    assert drawn == random_combinations(AXES, 5, seed=3)
    assert drawn != random_combinations(AXES, 5, seed=4)
    assert [grid.index(c) for c in drawn] == sorted(grid.index(c) for c in drawn)  # in grid order
    assert random_combinations(AXES, 99, seed=3) == grid  # a budget above the space runs it all


def test_random_search_beyond_the_grid_limit_draws_without_building_the_grid():
    axes = [GridAxis(n, tuple(range(100))) for n in "abc"]  # a million combinations
    drawn = random_combinations(axes, 4, seed=1)
    assert len(drawn) == 4 and drawn == random_combinations(axes, 4, seed=1)


def _search(data: Path, out: Path, capsys, seed: str) -> tuple[int, str, str]:
    code = main(
        [
            "--strategy", "tests.support.probe:ProbeScalp", "--data", str(data), "--out", str(out),
            "--quiet", "--warmup-days", "1", "--start", "2024-01-03", "--workers", "2",
            "--optimize", "profit_target_pct=0.2:0.4:0.05", "--optimize", "max_loss_pct=0.3,0.4,0.5",
            "--search", "random", "--trials", "3", "--seed", seed, "--sort-by", "win_rate",
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_random_search_with_a_fixed_seed_is_reproducible_and_ranked(data, tmp_path, capsys):
    code, out, err = _search(data, tmp_path / "one", capsys, "7")
    assert code == 0, err
    first = pd.read_csv(tmp_path / "one" / "optimization.csv")
    axes = [
        GridAxis("profit_target_pct", (0.2, 0.25, 0.3, 0.35, 0.4)),
        GridAxis("max_loss_pct", (0.3, 0.4, 0.5)),
    ]
    expected = {tuple(c.values()) for c in random_combinations(axes, 3, seed=7)}
    assert set(zip(first["profit_target_pct"], first["max_loss_pct"], strict=True)) == expected
    rates = first["win_rate"].to_numpy()
    assert all(a >= b for a, b in itertools.pairwise(rates) if not (math.isnan(a) or math.isnan(b)))
    assert "random search: seed 7; pass --seed 7" in out
    assert not (tmp_path / "one" / "heatmap.png").exists()  # a sparse draw is no heatmap
    assert (tmp_path / "one" / "parallel.png").stat().st_size > 0  # parallel coordinates instead
    code, _, err = _search(data, tmp_path / "two", capsys, "7")
    assert code == 0, err
    pd.testing.assert_frame_equal(first, pd.read_csv(tmp_path / "two" / "optimization.csv"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--search", "random", "--optimize", "fast=3,4"], "needs --trials N"),
        (["--trials", "3", "--optimize", "fast=3,4"], "belong to --search random"),
        (["--search", "random", "--trials", "3"], "give at least one --optimize"),
    ],
)
def test_random_search_options_out_of_place_exit_2(data, tmp_path, capsys, extra, message):
    argv = ["--strategy", "tests.support.probe:ProbeScalp", "--data", str(data), "--out", str(tmp_path / "o")]
    code = main([*argv, "--quiet", *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
