"""run_backtest.py end to end: a real run in a subprocess, the bad-input corpus, the --param typo."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("run_backtest", REPO / "run_backtest.py")
assert _spec is not None and _spec.loader is not None
run_backtest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_backtest)
DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
STRATEGY = "ema_cloud"


def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three SPY sessions, generated once per test session, catalog pre-ingested."""
    root = tmp_path_factory.getbasetemp() / "tiny-spy"
    marker = root / ".done"
    if not marker.exists():
        from feeds.catalog import Catalog
        from feeds.synthetic.generate import generate_dataset
        from feeds.synthetic.spec import SPY_SPEC

        generate_dataset(root, [SPY_SPEC], DAYS, progress=False)
        Catalog(root / ".catalog").ingest(root, progress=False)
        marker.write_text("ok")
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_data(tmp_path_factory)


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, str(REPO / "run_backtest.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )


@pytest.fixture(scope="module")
def full_run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    proc = cli("--strategy", STRATEGY, "--data", str(data), "--out", str(out), "--plot", "--quiet")
    return proc, out


def test_cli_run_exits_0_and_writes_the_four_outputs_and_the_plot(full_run):
    proc, out = full_run
    assert proc.returncode == 0, proc.stderr
    for name in ("report.json", "trades.csv", "equity.png", "journal.sqlite", "backtrader.png"):
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0
    assert (out / "backtrader.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "BACKTEST REPORT" in proc.stdout and "Exit breakdown" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_cli_report_json_holds_the_console_figures_in_snake_case(full_run):
    _, out = full_run
    report = json.loads((out / "report.json").read_text())
    for key in (
        "total_trades",
        "winning_trades",
        "losing_trades",
        "win_rate",
        "profit_factor",
        "total_pnl",
        "avg_pnl_pct",
        "avg_hold_minutes",
        "exit_breakdown",
        "rejections",
        "success_criteria",
        "data_notes",
    ):
        assert key in report, key
    assert report["strategy"] == STRATEGY
    assert report["start"] == "2024-01-02" and report["end"] == "2024-01-04"
    assert isinstance(report["exit_breakdown"], dict) and isinstance(report["rejections"], dict)
    assert all(k == k.lower() and " " not in k for k in report)


def test_cli_trades_csv_loads_and_its_pnl_sums_to_the_report_total(full_run):
    _, out = full_run
    report = json.loads((out / "report.json").read_text())
    trades = pd.read_csv(out / "trades.csv")
    assert len(trades) == report["total_trades"]
    assert {"pnl", "commission", "conviction", "exit_reason", "option_symbol"} <= set(trades.columns)
    assert trades["pnl"].sum() == pytest.approx(report["total_pnl"], abs=1e-6)


def run_main(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = run_backtest.main(argv)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def bad_inputs(data: Path, tmp: Path) -> list[tuple[str, list[str]]]:
    locked = tmp / "locked"
    locked.write_text("a file, not a folder")
    base = ["--data", str(data), "--out", str(tmp / "o"), "--quiet"]
    return [
        ("bad date", [*base, "--start", "2024-13-01"]),
        ("end before start", [*base, "--start", "2024-01-04", "--end", "2024-01-02"]),
        ("unknown strategy", [*base, "--strategy", "ema_clod"]),
        ("unknown param", [*base, "--param", "profit_targt_pct=0.3"]),
        ("param without =", [*base, "--param", "profit_target_pct"]),
        ("bad value type", [*base, "--param", "profit_target_pct=abc"]),
        ("out of range", [*base, "--param", "max_loss_pct=5"]),
        ("missing data dir", ["--data", str(tmp / "nope"), "--out", str(tmp / "o"), "--quiet"]),
        ("empty date range", [*base, "--start", "2023-01-02", "--end", "2023-01-31"]),
        ("no data for symbol", [*base, "--symbols", "NVDA"]),
        ("unwritable out", ["--data", str(data), "--out", str(locked / "sub"), "--quiet"]),
        ("bad cash", [*base, "--cash", "-5"]),
        ("bad commission", [*base, "--commission", "lots"]),
        ("bad journal url", [*base, "--journal", "not a url"]),
        ("profile on ema_cloud", [*base, "--profile", "conservative"]),
        ("bad optimize", [*base, "--optimize", "profit_target_pct=0.4:0.2:0.1"]),
        ("bad sort metric", [*base, "--optimize", "profit_target_pct=0.2,0.3", "--sort-by", "pnl"]),
    ]


def test_every_bad_input_is_one_line_exit_2_without_traceback(data, tmp_path, capsys):
    for label, argv in bad_inputs(data, tmp_path):
        code, err = run_main(argv, capsys)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2, (label, err)
        assert len(lines) == 1, (label, err)
        assert "Traceback" not in err, label


def test_param_typo_names_the_closest_valid_key(data, tmp_path, capsys):
    code, err = run_main(
        ["--data", str(data), "--out", str(tmp_path / "o"), "--param", "profit_targt_pct=0.3"], capsys
    )
    assert code == 2
    assert "did you mean 'profit_target_pct'" in err
    assert "max_loss_pct" in err  # the valid keys are listed


def test_bad_input_in_a_subprocess_prints_one_line_and_no_traceback(data, tmp_path):
    proc = cli("--data", str(data), "--out", str(tmp_path / "o"), "--strategy", "nope", "--quiet")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "unknown strategy 'nope'" in proc.stderr and "Traceback" not in proc.stderr


def test_corrupt_file_in_strict_mode_stops_with_exit_1(tmp_path, capsys):
    from feeds.synthetic.generate import generate_dataset
    from feeds.synthetic.spec import SPY_SPEC

    src = tmp_path / "src"
    generate_dataset(src, [SPY_SPEC], DAYS[:2], progress=False)
    bad = src / "SPY" / "cbbo-1m" / "2024-01-03.csv.zst"
    bad.write_bytes(bad.read_bytes()[:200])  # truncated
    argv = [
        "--strategy",
        "tests.support.probe:ProbeScalp",
        "--data",
        str(src),
        "--out",
        str(tmp_path / "o"),
        "--quiet",
    ]
    code, err = run_main([*argv, "--strict"], capsys)
    assert code == 1, err
    assert len(err.strip().splitlines()) == 1 and "2024-01-03" in err and "Traceback" not in err
    code, err = run_main(argv, capsys)  # not strict: the day is skipped and the report says so
    assert code == 0, err
    assert "skipped SPY 2024-01-03" in err
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert any("2024-01-03" in note for note in report["data_notes"])
