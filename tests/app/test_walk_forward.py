"""--walk-forward: windows roll forward, optimisation never sees the test window, the ledger sees it all."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from app.backtest import BadInput
from app.backtest_command import main
from app.walkforward import Length, WalkSpec, parse_spec, windows
from journal.ledger import LEDGER_FILENAME

PROBE = "tests.support.probe:ProbeScalp"
DAYS = [date(2024, 7, 9), date(2024, 7, 10), date(2024, 7, 11)]  # out-of-sample dates (seed 003)
GRID = ["--optimize", "fast=3,5"]


def test_spec_and_rolling_windows():
    assert parse_spec("train=6M,test=1M") == WalkSpec(Length(6, "M"), Length(1, "M"))
    assert parse_spec("test=20d, train=60D") == WalkSpec(Length(60, "D"), Length(20, "D"))
    for bad in ("train=6M", "train=6X,test=1M", "train=0D,test=1D", "6M,1M", "train=1M,test=1M,test=2M"):
        with pytest.raises(BadInput, match="--walk-forward"):
            parse_spec(bad)
    sessions = [date(2024, 1, d) for d in (2, 3, 4, 5, 8, 9, 10)]
    found = windows(sessions, parse_spec("train=3D,test=2D"))
    assert [(w.train, w.test) for w in found] == [
        (tuple(sessions[0:3]), tuple(sessions[3:5])),
        (tuple(sessions[2:5]), tuple(sessions[5:7])),
    ]
    months = [date(2024, m, d) for m in (1, 2, 3, 4) for d in (2, 15)]
    found = windows(months, parse_spec("train=2M,test=1M"))
    assert [(w.train[0], w.test[0], w.test[-1]) for w in found] == [
        (date(2024, 1, 2), date(2024, 3, 2), date(2024, 3, 15)),
        (date(2024, 2, 2), date(2024, 4, 2), date(2024, 4, 15)),
    ]
    assert windows(sessions[:3], parse_spec("train=3D,test=1D")) == []  # no test session after training


def _perturb_quotes(path: Path) -> None:
    """Widen every quote of the day: bids 20% lower, asks 20% higher (same rows, same sizes)."""
    quotes = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col, factor in (("bid_px_00", 0.8), ("ask_px_00", 1.2)):
        prices = pd.to_numeric(quotes[col], errors="coerce") * factor
        quotes[col] = prices.map(lambda v: "" if pd.isna(v) else f"{v:.4f}")  # an empty side stays empty
    quotes.to_csv(path, index=False, compression="zstd")


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> tuple[Path, Path]:
    """Two datasets that differ only in the last test window's option quotes (DAYS[-1])."""
    from feeds.synthetic.generate import generate_dataset
    from feeds.synthetic.spec import SPY_SPEC

    base = tmp_path_factory.mktemp("walk")
    same, other = base / "same", base / "perturbed"
    generate_dataset(same, [SPY_SPEC], DAYS, progress=False)
    shutil.copytree(same, other)
    (day_file,) = (other / "SPY" / "cbbo-1m").glob(f"{DAYS[-1].isoformat()}.csv*")
    _perturb_quotes(day_file)
    return same, other


def _walk(capsys, data: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    argv = ["--strategy", PROBE, "--data", str(data), "--out", str(out), "--quiet", "--warmup-days", "0"]
    code = main([*argv, *GRID, "--walk-forward", "train=1D,test=1D", "--workers", "2", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_walk_forward_winners_do_not_see_their_test_window(datasets, tmp_path, capsys):
    same, perturbed = datasets
    code, out, err = _walk(capsys, same, tmp_path / "a", "--i-know")
    assert code == 0, err
    code, _, err = _walk(capsys, perturbed, tmp_path / "b", "--i-know")
    assert code == 0, err
    a = pd.read_csv(tmp_path / "a" / "walkforward_windows.csv")
    b = pd.read_csv(tmp_path / "b" / "walkforward_windows.csv")
    assert list(a["test_start"]) == ["2024-07-10", "2024-07-11"]
    assert list(a["train_end"]) == ["2024-07-09", "2024-07-10"]
    winners = ["fast", "train_total_pnl"]
    pd.testing.assert_frame_equal(a[winners], b[winners])  # optimisation never read the perturbed day
    trials = ["window", "fast", "total_trades", "total_pnl"]
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "a" / "optimization.csv")[trials],
        pd.read_csv(tmp_path / "b" / "optimization.csv")[trials],
    )
    assert a.loc[0, "test_total_pnl"] == b.loc[0, "test_total_pnl"]
    assert a.loc[1, "test_total_pnl"] != b.loc[1, "test_total_pnl"]  # ...which the last test window traded
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    walk = report["walk_forward"]
    assert walk["spec"] == "train=1D,test=1D" and len(walk["windows"]) == 2
    assert walk["windows"][1]["fast"] == a.loc[1, "fast"]
    trades = pd.read_csv(tmp_path / "a" / "trades.csv")
    assert walk["out_of_sample"]["trades"] == len(trades) == a["test_trades"].sum()
    equity = pd.read_csv(tmp_path / "a" / "walkforward_equity.csv")
    assert list(equity["session"]) == ["2024-07-10", "2024-07-11"]
    assert equity["value"].iloc[-1] == pytest.approx(100_000 + a["test_total_pnl"].sum())
    for name in ("walkforward_equity.png", "parameter_stability.png"):
        assert (tmp_path / "a" / name).stat().st_size > 0
    assert "WALK-FORWARD: 2 window(s)" in out

    # the ledger beside the catalog: every training trial over its window, every winner over its test window
    engine = sa.create_engine(f"sqlite:///{same / '.catalog' / LEDGER_FILENAME}")
    with engine.connect() as conn:
        query = sa.text("select split, kind, start_date, trades from split_ledger order by id")
        rows = conn.execute(query).all()
    engine.dispose()
    assert [(r[1], str(r[2])) for r in rows] == [
        *[("sweep", "2024-07-09")] * 2,
        ("run", "2024-07-10"),
        *[("sweep", "2024-07-10")] * 2,
        ("run", "2024-07-11"),
    ]
    assert {r[0] for r in rows} == {"oos"} and all(r[3] is not None for r in rows)
    assert report["oos_touches"] == len(rows)


def test_walk_forward_over_out_of_sample_dates_refuses_without_i_know(datasets, tmp_path, capsys):
    same, _ = datasets
    catalog = tmp_path / "catalog"
    code, _, err = _walk(capsys, same, tmp_path / "o", "--catalog", str(catalog))
    assert code == 2 and err.count("\n") == 1
    assert "walk-forward would bring up to 2 parameter set(s) to out-of-sample" in err and "--i-know" in err
    assert not (tmp_path / "o" / "report.json").exists()


def test_walk_forward_without_a_full_window_exits_2(datasets, tmp_path, capsys):
    same, _ = datasets
    code, _, err = _walk(capsys, same, tmp_path / "o", "--i-know", "--start", "2024-07-11")
    assert code == 2 and "not one training window and a test session" in err
    argv = ["--strategy", PROBE, "--data", str(same), "--out", str(tmp_path / "p"), "--quiet"]
    assert main([*argv, "--walk-forward", "train=1D,test=1D"]) == 2
    assert "give at least one --optimize" in capsys.readouterr().err
