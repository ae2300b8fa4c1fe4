"""build_report, report.json, trades.csv and the console render."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from analyzers.criteria import criteria_analysis
from analyzers.equity import EquityTracker, daily_equity_map
from analyzers.jsonsafe import to_jsonable
from analyzers.report import build_report, render_console, write_report_json, write_trades_csv
from analyzers.stats import scalp_stats
from options_scalper.records import TRADE_COLUMNS, ClosedScalp

REQUIRED_KEYS = {
    "total_trades", "winning_trades", "losing_trades", "win_rate", "profit_factor", "total_pnl", "avg_pnl_pct",
    "avg_hold_minutes", "exit_breakdown", "rejections", "success_criteria", "data_notes", "max_drawdown",
    "max_drawdown_pct", "start", "end", "params", "strategy", "by_ticker", "daily",
}  # fmt: skip


def scalp(n: int, pnl: float, ticker: str = "SPY", reason: str = "take_profit") -> ClosedScalp:
    t0 = datetime(2024, 1, 10, 14, 40, tzinfo=UTC) + timedelta(minutes=50 * n)
    return ClosedScalp(
        signal_id=f"sig-{n}", ticker=ticker, option_symbol=f"{ticker}240110C00470000", option_type="call",
        strike=470.5, expiry=date(2024, 1, 10), dte=0, direction="long_call", contracts=2, entry_premium=1.05,
        exit_premium=1.05 + (pnl + 2.6) / 200, entry_delta=0.41, entry_theta=-0.35, entry_iv=0.21,
        exit_reason=reason, pnl=pnl, pnl_pct=pnl / 210, entry_time=t0, exit_time=t0 + timedelta(minutes=7, seconds=30),
        commission=2.6, conviction=60 + n,
    )  # fmt: skip


TRADES = [scalp(0, 47.4), scalp(1, 21.4, "QQQ"), scalp(2, -55.6, reason="stop_loss"), scalp(3, 33.0, "QQQ")]


def make_report(trades: list[ClosedScalp] = TRADES) -> dict:
    tracker = EquityTracker(10_000.0)
    value = 10_000.0
    for i, t in enumerate(trades):
        tracker.update(t.entry_time, value, value)
        value += t.pnl
        tracker.update(t.exit_time + timedelta(seconds=i), value, value)
    equity = to_jsonable(tracker.as_dict())
    stats = to_jsonable(scalp_stats(trades))
    criteria = to_jsonable(criteria_analysis(trades, daily_equity_map(equity), 10_000.0))
    return build_report(
        stats,
        equity,
        criteria,
        {"spread_too_wide": 7, "no_contract_in_delta_band": 12},
        ["no open interest in CBBO: OI filter skipped"],
        {
            "strategy": "ema_cloud",
            "start": "2024-01-10",
            "end": "2024-01-10",
            "params": {"profit_target_pct": 0.25},
        },
    )


def test_report_has_the_keys_and_figures() -> None:
    report = make_report()
    assert set(report) >= REQUIRED_KEYS
    assert report["total_trades"] == 4 and report["winning_trades"] == 3 and report["losing_trades"] == 1
    assert report["total_pnl"] == pytest.approx(47.4 + 21.4 - 55.6 + 33.0)
    assert report["profit_factor"] == pytest.approx((47.4 + 21.4 + 33.0) / 55.6)
    assert report["avg_hold_minutes"] == pytest.approx(7.5)
    assert report["max_drawdown"] == pytest.approx(55.6)
    assert report["rejections"] == {"no_contract_in_delta_band": 12, "spread_too_wide": 7}
    assert report["rejected_signals"] == 19
    assert report["params"] == {"profit_target_pct": 0.25}
    assert [r["key"] for r in report["success_criteria"]][:3] == ["win_rate", "profit_factor", "avg_pnl_pct"]


def test_report_json_is_strict_and_inf_is_null(tmp_path: Path) -> None:
    report = make_report([scalp(0, 47.4), scalp(1, 20.0)])
    report["profit_factor"] = float("inf")  # as scalp_stats returns it before JSON
    path = write_report_json(report, tmp_path / "out" / "report.json")
    text = path.read_text()
    loaded = json.loads(text)  # strict JSON: no Infinity / NaN tokens
    assert "Infinity" not in text and "NaN" not in text
    assert loaded["profit_factor"] is None
    assert set(loaded) >= REQUIRED_KEYS
    assert not list(path.parent.glob(".*tmp"))  # the temp file was renamed away


def test_report_json_write_is_atomic_on_error(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text('{"old": true}')
    with pytest.raises(TypeError):
        write_report_json({"bad": object()}, path)
    assert json.loads(path.read_text()) == {"old": True}
    assert list(tmp_path.iterdir()) == [path]


def test_trades_csv_round_trips_with_pandas(tmp_path: Path) -> None:
    path = write_trades_csv(TRADES, tmp_path / "trades.csv")
    df = pd.read_csv(path)
    assert tuple(df.columns) == TRADE_COLUMNS
    assert len(df) == len(TRADES)
    assert df["pnl"].tolist() == pytest.approx([t.pnl for t in TRADES])
    assert df["option_symbol"].tolist() == [t.option_symbol for t in TRADES]
    entry = pd.to_datetime(df["entry_time"], utc=True)
    assert entry.tolist() == [pd.Timestamp(t.entry_time) for t in TRADES]
    assert df["entry_time"][0] == "2024-01-10T14:40:00+00:00"
    assert pd.to_datetime(df["expiry"]).dt.date.tolist() == [t.expiry for t in TRADES]


def test_trades_csv_converts_other_zones_to_utc(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    t = TRADES[0]
    eastern = ClosedScalp(
        **{**t.__dict__, "entry_time": t.entry_time.astimezone(ZoneInfo("America/New_York"))}
    )
    df = pd.read_csv(write_trades_csv([eastern], tmp_path / "t.csv"))
    assert df["entry_time"][0] == "2024-01-10T14:40:00+00:00"


def test_trades_csv_empty_has_header(tmp_path: Path) -> None:
    df = pd.read_csv(write_trades_csv([], tmp_path / "t.csv"))
    assert tuple(df.columns) == TRADE_COLUMNS and df.empty


def test_console_render_has_the_sections() -> None:
    text = render_console(make_report())
    for section in (
        "Summary",
        "Exit breakdown",
        "By ticker",
        "Success criteria",
        "Rejected signals",
        "Data notes",
    ):
        assert f"\n{section}" in text, section
    assert "PASS" in text and "FAIL" in text
    assert "spread_too_wide" in text and "OI filter skipped" in text
    assert "$46.20" in text  # total P&L
    assert "75.0%" in text  # win rate
    assert "QQQ" in text and "stop_loss" in text


def test_console_render_from_json_shows_inf_profit_factor(tmp_path: Path) -> None:
    report = make_report([scalp(0, 47.4), scalp(1, 20.0)])
    loaded = json.loads(write_report_json(report, tmp_path / "r.json").read_text())
    text = render_console(loaded)
    assert "inf (no losses)" in text


def test_console_render_of_empty_run() -> None:
    text = render_console(make_report([]))
    assert "n/a" in text and "(no trades)" in text


def test_report_files_get_the_umask_mode_not_mkstemp_0600(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        json_path = write_report_json({"total_trades": 0}, tmp_path / "report.json")
        csv_path = write_trades_csv(TRADES, tmp_path / "trades.csv")
    finally:
        os.umask(old)
    for path in (json_path, csv_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
