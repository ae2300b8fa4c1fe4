"""Registry, --param resolution and the runner's preparation: no Cerebro except one small run."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from app.backtest import BadInput, RunFailed, RunRequest, prepare, run_once
from options_scalper.model import ScalperError
from strategies import registry
from tests.support.probe import ProbeScalp
from tests.support.tiny_data import TINY_DAYS, tiny_spy

DAYS = TINY_DAYS


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_spy(tmp_path_factory)


def test_registry_unknown_strategy_suggests_the_closest_name():
    with pytest.raises(registry.StrategyError, match="did you mean 'momentum_burst'"):
        registry.entry("momentum_brust")


def test_registry_unimportable_strategy_is_one_line(monkeypatch):
    broken = registry.StrategyEntry("broken", "strategies.not_written_yet:Nope", "x:Y", "missing")
    monkeypatch.setitem(registry.STRATEGIES, "broken", broken)
    with pytest.raises(registry.StrategyError) as info:
        registry.load_strategy("broken")
    message = str(info.value)
    assert "\n" not in message and "strategies.not_written_yet" in message and "--strategy" in message


def test_resolve_params_types_values_by_the_strategy_defaults():
    typed = registry.resolve_params(
        "tests.support.probe:ProbeScalp",
        ProbeScalp,
        ["profit_target_pct=0.3", "max_dte=0", "no_average_up=false", "fast=4"],
    )
    assert typed == {"profit_target_pct": 0.3, "max_dte": 0, "no_average_up": False, "fast": 4}


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("profit_targt_pct=0.3", "did you mean 'profit_target_pct'"),
        ("max_dte=1.5", "whole number"),
        ("no_average_up=maybe", "true or false"),
        ("max_loss_pct=2", "out of range"),
        ("commission=1", "--commission"),
        ("=3", "expected key=value"),
    ],
)
def test_resolve_params_bad_assignment_raises_one_line(assignment, message):
    with pytest.raises(registry.StrategyError, match=message) as info:
        registry.resolve_params("tests.support.probe:ProbeScalp", ProbeScalp, [assignment])
    assert "\n" not in str(info.value)


def test_profile_values_merge_under_explicit_params():
    cls = registry.load_strategy("momentum_burst")
    typed = registry.resolve_params("momentum_burst", cls, ["take_profit_pct=0.5"], profile="Conservative")
    assert typed["take_profit_pct"] == 0.5  # the user's value wins
    assert typed["stop_loss_pct"] == 0.10  # the profile's value
    if "profile" in registry.strategy_params(cls):
        assert typed["profile"] == "conservative"


def test_prepare_resolves_range_and_notes_and_leaves_no_out_dir_on_bad_input(data, tmp_path):
    out = tmp_path / "out"
    prep = prepare(
        RunRequest(
            strategy="tests.support.probe:ProbeScalp", data_dir=data, out_dir=out, quiet=True, start=DAYS[1]
        )
    )
    assert (prep.start, prep.end, prep.symbols) == (DAYS[1], DAYS[2], ["SPY"])
    assert prep.sessions == 3  # two warm-up sessions requested, one exists before --start
    assert prep.journal_url == f"sqlite:///{out / 'journal.sqlite'}"
    missing = tmp_path / "never"
    with pytest.raises(BadInput, match="no trading days"):
        prepare(
            RunRequest(
                strategy="tests.support.probe:ProbeScalp",
                data_dir=data,
                out_dir=missing,
                quiet=True,
                start=date(2030, 1, 2),
            )
        )
    assert not missing.exists()


def test_run_once_report_matches_its_trades_and_keeps_the_requested_range(data, tmp_path):
    prep = prepare(
        RunRequest(
            strategy="tests.support.probe:ProbeScalp",
            data_dir=data,
            out_dir=tmp_path,
            quiet=True,
            start=DAYS[1],
            cash=50_000,
        )
    )
    outcome = run_once(prep)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["start"] == "2024-01-03" and report["run"]["requested_start"] == "2024-01-03"
    assert report["initial_value"] == 50_000
    assert report["total_trades"] == outcome.report["total_trades"]
    assert sorted(outcome.files) == ["equity", "journal", "report", "trades"]
    assert "Rejected signals" in outcome.console


def test_two_runs_into_one_out_dir_are_two_runs_in_the_journal(data, tmp_path):
    import sqlalchemy as sa

    request = RunRequest(
        strategy="tests.support.probe:ProbeScalp", data_dir=data, out_dir=tmp_path, quiet=True
    )
    reports = []
    for _ in range(2):
        run_once(prepare(request))
        reports.append(json.loads((tmp_path / "report.json").read_text()))
    run_ids = [r["run"]["run_id"] for r in reports]
    assert run_ids[0] != run_ids[1] and all(run_ids)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'journal.sqlite'}")
    with engine.connect() as conn:
        per_run = dict(
            conn.execute(sa.text("select run_id, count(*) from options_scalps group by run_id")).all()
        )
        runs = conn.execute(
            sa.text("select run_id, strategy, status, scalps, symbols from runs order by run_id")
        ).all()
        params = [json.loads(p) for p in conn.execute(sa.text("select params_json from runs")).scalars()]
    engine.dispose()
    assert reports[0]["total_trades"] > 0
    assert per_run == {rid: r["total_trades"] for rid, r in zip(run_ids, reports, strict=True)}
    assert [tuple(r) for r in runs] == [
        (rid, "tests.support.probe:ProbeScalp", "finished", r["total_trades"], "SPY")
        for rid, r in sorted(zip(run_ids, reports, strict=True))
    ]
    assert all(p["fast"] == 5 and p["cap_to_size"] == registry.VENUE_PARAMS["cap_to_size"] for p in params)


def test_a_half_created_journal_is_one_line_naming_the_file(data, tmp_path):
    journal = tmp_path / "journal.sqlite"
    journal.write_bytes(b"\x00" * 512)  # what a full disk leaves behind
    with pytest.raises(BadInput) as info:
        prepare(
            RunRequest(strategy="tests.support.probe:ProbeScalp", data_dir=data, out_dir=tmp_path, quiet=True)
        )
    message = str(info.value)
    assert message.startswith(f"--journal: journal: {journal} is not a SQLite database")
    assert "move or delete the file" in message and "\n" not in message


def test_run_once_report_carries_the_execution_cost_of_its_trades(data, tmp_path):
    import pandas as pd

    prep = prepare(
        RunRequest(
            strategy="tests.support.probe:ProbeScalp",
            data_dir=data,
            out_dir=tmp_path,
            quiet=True,
            params=("profit_target_pct=0.3",),
        )
    )
    outcome = run_once(prep)
    report = json.loads((tmp_path / "report.json").read_text())
    trades = pd.read_csv(tmp_path / "trades.csv")
    cost = report["execution_cost"]
    assert cost["thresholds"]["take_profit_pct"] == 0.3  # the run's param
    assert cost["thresholds"]["stop_loss_pct"] == 0.5  # ScalpConfig's default max_loss_pct
    by_reason = cost["by_exit_reason"]
    assert {k: v["trades"] for k, v in by_reason.items()} == trades["exit_reason"].value_counts().to_dict()
    for reason, group in trades.groupby("exit_reason"):
        assert by_reason[reason]["pnl_pct"]["mean"] == pytest.approx(group["pnl_pct"].mean())
        assert by_reason[reason]["pnl_pct"]["worst"] == pytest.approx(group["pnl_pct"].min())
    assert "Execution cost" in outcome.console


@pytest.mark.parametrize(
    ("error", "raised", "status"),
    [
        (ScalperError("strategy broke"), RunFailed, "failed"),
        (KeyboardInterrupt(), KeyboardInterrupt, "interrupted"),
    ],
)
def test_a_run_that_stops_early_is_marked_in_the_journal(data, tmp_path, monkeypatch, error, raised, status):
    import sqlalchemy as sa

    prep = prepare(
        RunRequest(strategy="tests.support.probe:ProbeScalp", data_dir=data, out_dir=tmp_path, quiet=True)
    )

    def stop_the_run(self, symbol):
        raise error

    monkeypatch.setattr(ProbeScalp, "on_signal_bar", stop_the_run)  # the strategy fails, not the runner
    with pytest.raises(raised):
        run_once(prep)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'journal.sqlite'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select status, finished_at from runs")).all()
    engine.dispose()
    assert len(rows) == 1 and rows[0][0] == status and rows[0][1] is not None
