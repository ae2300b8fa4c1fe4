"""Each tab's data functions on a real journal written by two real backtests of the bundled sample.

Expected figures come from the journal rows read with plain ``sqlite3`` (not the
dashboard's queries) and from the report.json the same backtest wrote.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from datetime import date

import pandas as pd
import pytest

from dashboard import history, performance, runs, scalps
from dashboard.db import DashboardError, fingerprint, open_journal
from dashboard.runs import Filters
from strategies import registry


@pytest.fixture(scope="module")
def journal(backtest_journal):
    j = open_journal(backtest_journal.url)
    yield j
    j.engine.dispose()


def raw_rows(path, run_id):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("select * from options_scalps where run_id = ?", (run_id,))]
    finally:
        conn.close()


def test_run_picker_lists_both_backtests_with_their_scalps(journal, backtest_journal):
    table = runs.list_runs(journal)
    by_strategy = table.set_index("strategy")
    for strategy, report in backtest_journal.reports.items():
        row = by_strategy.loc[strategy]
        assert row["run_id"] == report["run"]["run_id"]
        assert row["journaled"] == report["total_trades"] == row["scalps"]
        assert row["mode"] == "backtest" and row["status"] == "finished"
    assert list(table["strategy"]) == ["momentum_burst", "ema_cloud"]  # newest first


def test_history_summary_matches_the_rows_and_the_report(journal, backtest_journal):
    run_id = backtest_journal.run_ids["momentum_burst"]
    rows = raw_rows(backtest_journal.path, run_id)
    report = backtest_journal.reports["momentum_burst"]
    s = history.summary(journal, Filters(run_ids=(run_id,)))
    wins = sum(1 for r in rows if r["pnl"] > 0)
    assert s.trades == len(rows) == report["total_trades"] > 10
    assert s.wins == wins == report["winning_trades"]
    assert s.win_rate == pytest.approx(report["win_rate"])
    assert s.total_pnl == pytest.approx(sum(r["pnl"] for r in rows)) == pytest.approx(report["total_pnl"])
    assert s.avg_hold_minutes == pytest.approx(report["avg_hold_minutes"], rel=1e-6)


def test_exit_breakdown_is_the_reports(journal, backtest_journal):
    run_id = backtest_journal.run_ids["momentum_burst"]
    table = history.exit_breakdown(journal, Filters(run_ids=(run_id,)))
    assert (
        dict(zip(table["exit_reason"], table["trades"], strict=True))
        == backtest_journal.reports["momentum_burst"]["exit_breakdown"]
    )
    assert table["share"].sum() == pytest.approx(1.0)


def test_filters_change_the_figures(journal, backtest_journal):
    run_id = backtest_journal.run_ids["momentum_burst"]
    rows = raw_rows(backtest_journal.path, run_id)
    per_ticker = Counter(r["ticker"] for r in rows)
    assert len(per_ticker) == 2
    for ticker, n in per_ticker.items():
        assert history.summary(journal, Filters(run_ids=(run_id,), tickers=(ticker,))).trades == n
    stops = sum(1 for r in rows if r["exit_reason"] == "stop_loss")
    assert history.summary(journal, Filters(run_ids=(run_id,), exit_reasons=("stop_loss",))).trades == stops
    both = history.summary(journal, Filters()).trades
    assert both == sum(r["total_trades"] for r in backtest_journal.reports.values())
    by_strategy = history.summary(journal, Filters(strategies=("ema_cloud",))).trades
    assert by_strategy == backtest_journal.reports["ema_cloud"]["total_trades"]
    one_day = date(2024, 10, 30)
    n_day = history.summary(journal, Filters(run_ids=(run_id,), start=one_day, end=one_day)).trades
    frame = scalps.load_scalps(journal, Filters(run_ids=(run_id,)))
    assert n_day == int((frame["entry_day"] == one_day).sum())
    choices = runs.filter_choices(journal, (run_id,))
    assert set(choices.tickers) == set(per_ticker) and choices.strategies == ("momentum_burst",)
    assert choices.first_day is not None and choices.first_day <= one_day <= choices.last_day


def test_trade_log_sorts_and_pages_in_sql_and_the_csv_holds_every_trade(journal, backtest_journal):
    run_id = backtest_journal.run_ids["momentum_burst"]
    f = Filters(run_ids=(run_id,))
    rows = raw_rows(backtest_journal.path, run_id)
    log = history.trade_log(journal, f, "pnl", descending=True, rows=5)
    assert list(log["pnl"]) == sorted((r["pnl"] for r in rows), reverse=True)[:5]
    second = history.trade_log(journal, f, "pnl", descending=True, page=1, rows=5)
    assert list(second["pnl"]) == sorted((r["pnl"] for r in rows), reverse=True)[5:10]
    with pytest.raises(ValueError, match="sort_by"):
        history.trade_log(journal, f, "pnl; drop table runs")
    csv_text = history.trades_csv(scalps.load_scalps(journal, f)).decode()
    trades_csv = (backtest_journal.path.parent / "momentum_burst" / "trades.csv").read_text()
    assert csv_text == trades_csv  # byte for byte the trades.csv the backtest wrote
    assert len(csv_text.splitlines()) == len(rows) + 1


def test_rejected_signals_come_from_the_runs_reports(backtest_journal):
    reports = history.reports_by_run(backtest_journal.url)
    assert set(reports) == set(backtest_journal.run_ids.values())
    run_id = backtest_journal.run_ids["momentum_burst"]
    table, missing = history.rejections(reports, [run_id, "no-such-run"])
    assert (
        dict(zip(table["reason"], table["signals"], strict=True))
        == backtest_journal.reports["momentum_burst"]["rejections"]
    )
    assert missing == ["no-such-run"]


def test_performance_groups_and_criteria_are_the_reports(journal, backtest_journal):
    run_id = backtest_journal.run_ids["momentum_burst"]
    report = backtest_journal.reports["momentum_burst"]
    frame = scalps.load_scalps(journal, Filters(run_ids=(run_id,)))
    for by, key in (
        ("ticker", "by_ticker"),
        ("entry_hour", "by_entry_hour"),
        ("conviction", "by_conviction"),
        ("dte", "by_dte"),
    ):
        table = performance.group_figures(frame, by).set_index("group")
        assert list(table.index) == list(report[key]), by
        for group, expected in report[key].items():
            assert table.loc[group, "trades"] == expected["trades"]
            assert table.loc[group, "win_rate"] == pytest.approx(expected["win_rate"])
            assert table.loc[group, "total_pnl"] == pytest.approx(expected["total_pnl"])
            pf = table.loc[group, "profit_factor"]
            assert (
                expected["profit_factor"] is None and (pf is None or math.isinf(pf))
            ) or pf == pytest.approx(expected["profit_factor"])
    criteria = performance.criteria_table(frame, report["initial_value"]).set_index("key")
    for row in report["success_criteria"]:
        if row["key"] in ("oos_degradation", "return_2022", "return_2024"):
            continue  # the report's equity marks positions each minute; the OOS row comes from the ledger
        assert criteria.loc[row["key"], "passed"] == row["passed"], row["key"]
        assert criteria.loc[row["key"], "value"] == pytest.approx(row["value"]), row["key"]
    best, worst = performance.best_worst(frame, 3)
    assert best["pnl"].iloc[0] == report["largest_winner"] and worst["pnl"].iloc[0] == report["largest_loser"]


def test_equity_curve_ends_at_the_net_pnl_and_its_drawdown_is_never_negative(journal, backtest_journal):
    run_id = backtest_journal.run_ids["momentum_burst"]
    report = backtest_journal.reports["momentum_burst"]
    frame = scalps.load_scalps(journal, Filters(run_ids=(run_id,)))
    curves = performance.equity_curves(frame, report["initial_value"])
    assert curves["equity"].iloc[-1] == pytest.approx(report["initial_value"] + report["total_pnl"])
    assert (curves["drawdown"] >= 0).all() and (curves["drawdown"] <= curves["peak"]).all()
    daily = performance.daily_equity(frame, report["initial_value"])
    assert list(daily.values())[-1] == pytest.approx(curves["equity"].iloc[-1])
    # every session closes flat, so realised end-of-day equity is the report's end value
    assert report["end_value"] == pytest.approx(curves["equity"].iloc[-1])


def test_execution_cost_is_the_reports(journal, backtest_journal):
    run_id = backtest_journal.run_ids["momentum_burst"]
    report = backtest_journal.reports["momentum_burst"]
    frame = scalps.load_scalps(journal, Filters(run_ids=(run_id,)))
    params = runs.run_params(runs.list_runs(journal).set_index("run_id").loc[run_id, "params_json"])
    section = performance.execution_section(frame, registry.load_config_class("momentum_burst"), params)
    assert section["thresholds"] == report["execution_cost"]["thresholds"]
    for reason, expected in report["execution_cost"]["by_exit_reason"].items():
        got = section["by_exit_reason"][reason]
        assert got["trades"] == expected["trades"]
        assert got["pnl_pct"]["mean"] == pytest.approx(expected["pnl_pct"]["mean"])
    assert section["entry_slippage"]["known"] == report["execution_cost"]["entry_slippage"]["known"]
    table = performance.execution_table(section)
    assert list(table["exit_reason"]) == list(report["execution_cost"]["by_exit_reason"])


def test_the_journal_is_opened_read_only(journal, backtest_journal):
    import sqlalchemy as sa

    before = fingerprint(journal)
    with (
        pytest.raises(sa.exc.OperationalError, match=r"readonly|read-only|query_only"),
        journal.engine.begin() as conn,
    ):
        conn.execute(sa.text("delete from options_scalps"))
    assert fingerprint(journal) == before


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:////nonexistent/journal.sqlite", "does not exist"),
        ("not a url", "not a SQLAlchemy URL"),
        ("sqlite://", "name a journal file"),
    ],
)
def test_a_bad_journal_is_one_line(url, message):
    with pytest.raises(DashboardError, match=message) as info:
        open_journal(url)
    assert "\n" not in str(info.value)


def test_a_file_that_is_not_a_journal_is_refused(tmp_path):
    junk = tmp_path / "journal.sqlite"
    junk.write_text("hello")
    with pytest.raises(DashboardError, match="not a SQLite database"):
        open_journal(f"sqlite:///{junk}")
    empty = tmp_path / "other.sqlite"
    sqlite3.connect(empty).execute("create table t (x)").connection.close()
    with pytest.raises(DashboardError, match="no options_scalps and no runs table"):
        open_journal(f"sqlite:///{empty}")


def test_a_journal_from_before_revision_139_is_refused_in_one_line(tmp_path):
    from journal.migrate import upgrade

    old = tmp_path / "old.sqlite"
    upgrade(f"sqlite:///{old}", "138_split_ledger")
    with pytest.raises(DashboardError, match="before schema revision 139") as info:
        open_journal(f"sqlite:///{old}")
    assert "\n" not in str(info.value)


def test_a_long_curve_is_drawn_with_each_days_close_and_low(journal, backtest_journal):
    run_id = backtest_journal.run_ids["momentum_burst"]
    frame = scalps.load_scalps(journal, Filters(run_ids=(run_id,)))
    curves = performance.equity_curves(frame, 100_000.0)
    assert performance.plot_points(curves) is curves  # short: every point
    drawn = performance.plot_points(curves, max_points=5)
    days = frame["exit_day"].nunique()
    assert days <= len(drawn) <= 2 * days < len(curves)
    assert drawn["equity"].iloc[-1] == curves["equity"].iloc[-1]
    assert drawn["drawdown"].max() == curves["drawdown"].max()


def journal_records(journal, run_id, frame):
    """The run's scalps read back as ``ClosedScalp`` records, in the frame's (exit) order."""
    from journal.live_read import run_closed_scalps

    records = run_closed_scalps(journal.engine, run_id)  # by entry time, then id
    ids = frame.sort_values(["entry_time", "id"], kind="stable")["id"].tolist()
    by_id = dict(zip(ids, records, strict=True))
    return [by_id[i] for i in frame["id"]]


@pytest.mark.parametrize("strategy", ["ema_cloud", "momentum_burst"])
def test_criteria_and_execution_cost_are_the_per_scalp_reference_on_the_journal(
    journal, backtest_journal, strategy
):
    import json

    from analyzers.columns import ScalpColumns
    from analyzers.criteria import success_criteria
    from analyzers.execution import exit_thresholds
    from tests.support import reference_analyzers as ref

    run_id = backtest_journal.run_ids[strategy]
    initial = backtest_journal.reports[strategy]["initial_value"]
    frame = scalps.load_scalps(journal, Filters(run_ids=(run_id,)), performance.FRAME_COLUMNS)
    records = journal_records(journal, run_id, frame)
    assert [r.signal_id for r in records] == frame["signal_id"].tolist()
    daily = performance.daily_equity(frame, initial)
    expected = ref.success_criteria(records, daily, initial)
    # the rows criteria_table makes its table of: the frame's columns through analyzers.criteria
    assert json.dumps(success_criteria(ScalpColumns.from_frame(frame), daily, initial)) == json.dumps(
        expected
    )
    table = performance.criteria_table(frame, initial)
    assert table[["key", "passed", "detail"]].to_dict("records") == [
        {k: r[k] for k in ("key", "passed", "detail")} for r in expected
    ]
    params = runs.run_params(runs.list_runs(journal).set_index("run_id").loc[run_id, "params_json"])
    config = registry.load_config_class(strategy)
    section = performance.execution_section(frame, config, params)
    assert json.dumps(section) == json.dumps(ref.execution_cost(records, exit_thresholds(config, params)))


def test_the_performance_frame_is_the_full_frames_columns(journal, backtest_journal):
    f = Filters(run_ids=(backtest_journal.run_ids["momentum_burst"],))
    full = scalps.load_scalps(journal, f)
    narrow = scalps.load_scalps(journal, f, performance.FRAME_COLUMNS)
    assert set(narrow.columns) == {*performance.FRAME_COLUMNS, *scalps.DERIVED}
    pd.testing.assert_frame_equal(narrow, full.loc[:, narrow.columns])
    order = list(zip(full["exit_time"], full["entry_time"], full["id"], strict=True))
    assert order == sorted(order) and len(order) == len(raw_rows(backtest_journal.path, f.run_ids[0]))
    assert full["depth_limited"].dtype == "boolean" and full["decision_ask"].notna().all()
    with pytest.raises(ValueError, match="no column metadata_json"):
        scalps.load_scalps(journal, f, ("metadata_json",))


def test_best_and_worst_break_ties_like_a_stable_sort(journal, backtest_journal):
    frame = scalps.load_scalps(journal, Filters(run_ids=(backtest_journal.run_ids["momentum_burst"],)))
    tied = frame.copy()
    tied["pnl"] = tied["pnl"].round(-2)  # many equal P&Ls
    tied["entry_time"] = tied["entry_time"].dt.floor("D")  # and equal entry times
    best, worst = performance.best_worst(tied, 7)
    by = ["pnl", "entry_time"]
    assert list(best.index) == list(tied.sort_values(by, ascending=[False, True], kind="stable").index[:7])
    assert list(worst.index) == list(tied.sort_values(by, ascending=[True, True], kind="stable").index[:7])
    assert len(set(tied["pnl"].head(20))) < 20


def test_curves_of_two_runs_and_a_scalp_without_run_are_per_run_cumulative_sums(journal):
    frame = scalps.load_scalps(journal, Filters(), performance.FRAME_COLUMNS)
    frame.loc[frame.index[3], "run_id"] = None  # one scalp that no run claims
    curves = performance.equity_curves(frame, 1_000.0)
    # the plain pandas statement of the same curve
    plain = frame.loc[:, ["run_id", "exit_time", "pnl"]].copy()
    plain["run_id"] = plain["run_id"].fillna("(no run id)")
    plain = plain.sort_values(["run_id", "exit_time"], kind="stable")
    plain["cum_pnl"] = plain.groupby("run_id")["pnl"].cumsum()
    assert curves["run_id"].nunique() == 3
    assert list(curves["run_id"]) == list(plain["run_id"])
    assert list(curves["exit_time"]) == list(plain["exit_time"])
    assert list(curves["cum_pnl"]) == list(plain["cum_pnl"])
    assert (curves["equity"] == 1_000.0 + curves["cum_pnl"]).all()
