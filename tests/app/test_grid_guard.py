"""Absurd grids: the run count and an estimated time first, a refusal above the limits without --yes."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.backtest import BadInput
from app.backtest_command import main
from app.grid import CONFIRM_RUNS, SECONDS_PER_SESSION, check_grid_size, duration_text, estimate_seconds
from tests.support.tiny_data import TINY_DAYS, tiny_spy

DAYS = TINY_DAYS


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_spy(tmp_path_factory)


def test_estimate_scales_with_runs_sessions_and_underlyings_over_workers():
    assert estimate_seconds(200, 1000, 1, 1) == pytest.approx(200 * 1000 * SECONDS_PER_SESSION)
    assert estimate_seconds(200, 1000, 2, 4) == pytest.approx(estimate_seconds(200, 1000, 1, 1) / 2)
    assert (duration_text(30), duration_text(600), duration_text(18_000)) == ("30 s", "10 min", "5.0 h")


@pytest.mark.parametrize(
    ("runs", "seconds", "refused"),
    [
        (CONFIRM_RUNS, 60.0, False),
        (CONFIRM_RUNS + 1, 60.0, True),
        (4, 30 * 60 + 1, True),  # few runs, but long ones
        (4, 30 * 60, False),
    ],
)
def test_check_grid_size_refuses_above_either_limit_unless_yes(runs, seconds, refused):
    if refused:
        with pytest.raises(BadInput, match="pass --yes to start it") as info:
            check_grid_size(runs, seconds, yes=False)
        assert f"{runs} runs" in str(info.value) and "\n" not in str(info.value)
    else:
        check_grid_size(runs, seconds, yes=False)
    check_grid_size(runs, seconds, yes=True)  # --yes always starts it


def test_a_2121_run_grid_is_refused_before_any_run_with_the_count_and_estimate(data, tmp_path, capsys):
    argv = ["--strategy", "tests.support.probe:ProbeScalp", "--data", str(data), "--out", str(tmp_path / "o")]
    grid = ["--optimize", "profit_target_pct=0.2:0.3:0.001", "--optimize", "max_loss_pct=0.3:0.5:0.01"]
    code = main([*argv, "--workers", "1", *grid])
    captured = capsys.readouterr()
    assert code == 2
    assert (
        "optimize: 2121 run(s) over profit_target_pct, max_loss_pct on 1 process(es), about" in captured.out
    )
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err  # one line (tqdm uses \r)
    assert "--optimize: 2121 runs, about" in captured.err and "pass --yes to start it" in captured.err
    assert not (tmp_path / "o" / "optimization.csv").exists()
