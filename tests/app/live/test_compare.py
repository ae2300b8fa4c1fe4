"""--compare-with: a live run's closed scalps against a backtest's trades.csv."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest

from analyzers.report import write_trades_csv
from app.live.compare import CompareError, Trade, compare, load_backtest_trades, render, write
from tests.journal.test_journal import scalp


def test_matches_by_contract_and_entry_time_and_reports_the_rest(tmp_path: Path) -> None:
    bt = [scalp(0), scalp(1), scalp(3)]
    write_trades_csv(bt, tmp_path / "trades.csv")
    backtest = load_backtest_trades(tmp_path)
    live = [
        Trade.of(
            dataclasses.replace(
                scalp(0), entry_premium=1.07, entry_time=scalp(0).entry_time + timedelta(minutes=1)
            )
        ),
        Trade.of(scalp(1)),
        Trade.of(dataclasses.replace(scalp(2), option_symbol="TSLA  240110P00245000")),
    ]
    report = compare(live, backtest)
    s = report["summary"]
    assert (s["matched"], s["live_only"], s["backtest_only"]) == (2, 1, 1)
    first = report["rows"][0]
    assert first["status"] == "matched" and first["entry_premium_diff"] == pytest.approx(0.02)
    assert {r["status"] for r in report["rows"][2:]} == {"live_only", "backtest_only"}
    assert "2 matched, 1 only live, 1 only in the backtest" in render(report)
    paths = write(report, tmp_path / "live")
    assert [p.name for p in paths] == ["compare.csv", "compare.json"]
    assert json.loads(paths[1].read_text())["summary"]["matched"] == 2
    assert paths[0].read_text().count("\n") == 5  # header + 4 rows


def test_other_days_of_the_backtest_are_left_out(tmp_path: Path) -> None:
    other = dataclasses.replace(scalp(0), entry_time=scalp(0).entry_time + timedelta(days=1),
                                exit_time=scalp(0).exit_time + timedelta(days=1))  # fmt: skip
    write_trades_csv([scalp(0), other], tmp_path / "trades.csv")
    report = compare([Trade.of(scalp(0))], load_backtest_trades(tmp_path))
    assert report["summary"]["backtest_trades"] == 1 and report["summary"]["matched"] == 1


def test_a_folder_without_trades_csv_or_a_damaged_one_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CompareError, match="not found; pass the --out folder"):
        load_backtest_trades(tmp_path)
    (tmp_path / "trades.csv").write_text("a,b\n1,2\n")
    with pytest.raises(CompareError, match="has no column"):
        load_backtest_trades(tmp_path)
