"""--engine ray: the same optimization.csv rows as --engine local; a failed trial retried once, then reported."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from app.backtest_command import main
from tests.support.tiny_data import tiny_spy

PROBE = "tests.support.probe:ProbeScalp"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_spy(tmp_path_factory)


GRID = ["--strategy", PROBE, "--optimize", "fast=3,5", "--optimize", "profit_target_pct=0.2:0.3:0.1"]


@pytest.fixture(scope="module")
def local_csv(data, tmp_path_factory) -> str:
    """The local engine's optimization.csv, written before Ray starts in this process (no fork under Ray)."""
    out = tmp_path_factory.mktemp("local")
    code = main([*_argv(data, out), *GRID, "--workers", "2"])
    assert code == 0
    return (out / "optimization.csv").read_text()


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray instance of 2 CPUs for the module (start-up takes seconds)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _argv(data: Path, out: Path) -> list[str]:
    return [
        "--data", str(data), "--out", str(out), "--quiet", "--warmup-days", "1",
        "--start", "2024-01-03", "--end", "2024-01-03",
    ]  # fmt: skip


def _sweep(capsys, data: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    code = main([*_argv(data, out), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_ray_engine_writes_the_same_rows_as_the_local_engine(local_csv, ray_cluster, data, tmp_path, capsys):
    code, out, err = _sweep(capsys, data, tmp_path / "ray", *GRID, "--engine", "ray")
    assert code == 0, err
    assert "on Ray (2 CPU)" in out
    assert local_csv == (tmp_path / "ray" / "optimization.csv").read_text()
    frame = pd.read_csv(tmp_path / "ray" / "optimization.csv")
    assert len(frame) == 4 and (frame["attempts"] == 1).all() and frame["total_trades"].gt(0).any()


def test_ray_engine_retries_a_failed_trial_once_and_keeps_a_twice_failed_one(
    ray_cluster, data, tmp_path, capsys
):
    markers = tmp_path / "markers"
    markers.mkdir()
    code, out, err = _sweep(
        capsys, data, tmp_path / "o", "--strategy", "tests.support.flaky:FlakyProbe",
        "--param", f"marker_dir={markers}", "--optimize", "crash=0,1,2", "--engine", "ray",
    )  # fmt: skip
    assert code == 0, err
    frame = pd.read_csv(tmp_path / "o" / "optimization.csv", keep_default_na=False, na_values=[""])
    rows = {int(r["crash"]): r for _, r in frame.iterrows()}
    assert set(rows) == {0, 1, 2}  # nothing dropped
    assert rows[0]["attempts"] == 1 and rows[1]["attempts"] == 2 and rows[2]["attempts"] == 2
    assert rows[1]["total_pnl"] == rows[0]["total_pnl"] and rows[1]["total_trades"] == rows[0]["total_trades"]
    assert (markers / "flaky-crashed-once").exists()
    assert "fails every time" in rows[2]["error"] and math.isnan(rows[2]["total_pnl"])
    assert frame.iloc[-1]["crash"] == 2  # no figures: ranked last
    assert "1 trial(s) failed once and succeeded on the retry" in out
    assert "trial failed after 2 attempt(s), figures left empty: " in out and "fails every time" in out


def test_unsupported_catalog_uri_and_misplaced_ray_options_exit_2(data, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _sweep(capsys, data, tmp_path / "a", "--catalog", "s3://bucket/catalog", "--optimize", "fast=3,5")
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "s3:// catalog is not supported" in err and "mount it" in err
    assert err.count("\n") == 1
    code, _, err = _sweep(capsys, data, tmp_path / "b", "--address", "auto", "--optimize", "fast=3,5")
    assert code == 2 and "add --engine ray" in err and err.count("\n") == 1


def test_a_file_uri_catalog_is_the_local_folder():
    from app.cli import catalog_arg

    assert catalog_arg("file:///tmp/some/catalog") == Path("/tmp/some/catalog")
    assert catalog_arg("relative/catalog") == Path("relative/catalog")
