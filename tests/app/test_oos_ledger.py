"""The out-of-sample ledger: every OOS touch recorded, a second parameter set refused, re-runs counted."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from app.backtest_command import main
from app.oos import refusal
from journal.ledger import LEDGER_FILENAME, LedgerRow, params_key

DEV_DAYS = [date(2023, 12, 27), date(2023, 12, 28)]
OOS_DAYS = [date(2024, 7, 9), date(2024, 7, 10)]
PROBE = "tests.support.probe:ProbeScalp"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.getbasetemp() / "tiny-spy-dev-oos"
    if not (root / ".done").exists():
        from feeds.catalog import Catalog
        from feeds.synthetic.generate import generate_dataset
        from feeds.synthetic.spec import SPY_SPEC

        generate_dataset(root, [SPY_SPEC], [*DEV_DAYS, *OOS_DAYS], progress=False)
        Catalog(root / ".catalog").ingest(root, progress=False)
        (root / ".done").write_text("ok")
    return root


@pytest.fixture
def catalog(data, tmp_path) -> Path:
    """A copy of the catalog, so each test starts with an empty ledger beside it."""
    target = tmp_path / "catalog"
    shutil.copytree(data / ".catalog", target)
    return target


def run(capsys, data: Path, catalog: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    argv = ["--strategy", PROBE, "--data", str(data), "--catalog", str(catalog), "--out", str(out)]
    code = main([*argv, "--quiet", "--warmup-days", "0", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ledger_rows(url: str) -> list[tuple[str, str, str]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select split, kind, params_json from split_ledger order by id")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_second_oos_parameter_set_refuses_reruns_count_and_i_know_proceeds(data, catalog, tmp_path, capsys):
    code, out, err = run(capsys, data, catalog, tmp_path / "a", "--split", "oos")
    assert code == 0, err
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["oos_touches"] == 1 and report["run"]["split"] == "oos"
    assert "out-of-sample touched 1 time(s) by this strategy" in out
    ledger = catalog / LEDGER_FILENAME
    assert report["run"]["ledger"] == f"sqlite:///{ledger}"
    shutil.rmtree(tmp_path / "a")  # the ledger outlives the output folder

    code, _, err = run(
        capsys, data, catalog, tmp_path / "b", "--start", "2024-07-09"
    )  # same params, no --split
    assert code == 0, err
    assert json.loads((tmp_path / "b" / "report.json").read_text())["oos_touches"] == 2

    code, _, err = run(
        capsys, data, catalog, tmp_path / "c", "--split", "oos", "--param", "profit_target_pct=0.3"
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "touched it 2 time(s) already" in err and "pass --i-know to proceed" in err
    assert "profit_target_pct" in err and f"run {datetime.now(UTC):%Y}" in err
    assert not (tmp_path / "c" / "report.json").exists()

    code, _, err = run(
        capsys,
        data,
        catalog,
        tmp_path / "d",
        "--split",
        "oos",
        "--param",
        "profit_target_pct=0.3",
        "--i-know",
    )
    assert code == 0, err
    assert json.loads((tmp_path / "d" / "report.json").read_text())["oos_touches"] == 3
    rows = ledger_rows(f"sqlite:///{ledger}")
    assert [(s, k) for s, k, _ in rows] == [("oos", "run")] * 3
    assert len({p for _, _, p in rows}) == 2


def test_dev_runs_are_recorded_but_never_refused(data, catalog, tmp_path, capsys):
    for n, target in enumerate(("0.2", "0.3")):
        out = tmp_path / f"dev{n}"
        code, _, err = run(
            capsys, data, catalog, out, "--split", "dev", "--param", f"profit_target_pct={target}"
        )
        assert code == 0, err
        assert json.loads((out / "report.json").read_text())["oos_touches"] == 0
    assert [s for s, _, _ in ledger_rows(f"sqlite:///{catalog / LEDGER_FILENAME}")] == ["dev", "dev"]


def test_a_sweep_over_oos_is_refused_without_i_know_and_counts_every_combination(
    data, catalog, tmp_path, capsys
):
    journal = f"sqlite:///{tmp_path / 'research.sqlite'}"
    sweep = [
        "--split",
        "oos",
        "--journal",
        journal,
        "--workers",
        "1",
        "--optimize",
        "profit_target_pct=0.2,0.3",
    ]
    code, _, err = run(capsys, data, catalog, tmp_path / "s1", *sweep)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert (
        "a sweep of 2 parameter sets over out-of-sample 2024-07-01..2025-12-31" in err and "--i-know" in err
    )
    assert not (tmp_path / "s1" / "optimization.csv").exists()

    code, out, err = run(capsys, data, catalog, tmp_path / "s2", *sweep, "--i-know")
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "s2" / "optimization.csv")) == 2
    assert "out-of-sample touched 2 time(s)" in out
    rows = ledger_rows(journal)  # the ledger is in the --journal database, not beside the catalog
    assert [(s, k) for s, k, _ in rows] == [("oos", "sweep")] * 2
    assert not (catalog / LEDGER_FILENAME).exists()
    engine = sa.create_engine(journal)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("select trades, total_pnl from split_ledger order by id")).all()
    engine.dispose()
    results = pd.read_csv(tmp_path / "s2" / "optimization.csv").sort_values("profit_target_pct")
    assert [tuple(r) for r in stored] == [
        (int(t), pytest.approx(p)) for t, p in zip(results["total_trades"], results["total_pnl"], strict=True)
    ]  # each combination's figures on its own ledger row (0.2 then 0.3)


def _row(params: dict[str, float]) -> LedgerRow:
    return LedgerRow(
        id=1,
        run_id="r1",
        strategy="s",
        params_json=params_key(params),
        split="oos",
        start=date(2024, 7, 1),
        end=date(2024, 7, 2),
        kind="run",
        touched_at=datetime(2026, 1, 2),
        trades=None,
        avg_pnl_pct=None,
        total_pnl=None,
    )


@pytest.mark.parametrize(
    ("earlier", "now", "refused"),
    [
        ([], [{"a": 1}], False),  # first touch
        ([{"a": 1}], [{"a": 1}], False),  # a re-run
        ([{"a": 1}, {"a": 1}], [{"a": 1}], False),
        ([{"a": 1}], [{"a": 2}], True),
        ([], [{"a": 1}, {"a": 2}], True),  # a sweep brings several sets at once
        ([{"a": 1}], [{"a": 1}, {"a": 2}], True),
    ],
)
def test_refusal_allows_one_parameter_set_only(earlier, now, refused):
    reason = refusal([_row(p) for p in earlier], [params_key(p) for p in now], "s", "2024-07-01..2025-12-31")
    assert (reason is not None) is refused
    if refused:
        assert reason is not None and reason.endswith("pass --i-know to proceed")


def _criterion(report: dict, key: str) -> dict:
    return next(r for r in report["success_criteria"] if r["key"] == key)


def test_dev_then_oos_runs_of_the_same_params_report_degradation_from_the_ledger(
    data, catalog, tmp_path, capsys
):
    reports = {}
    for split in ("dev", "oos"):
        code, _, err = run(capsys, data, catalog, tmp_path / split, "--split", split)
        assert code == 0, err
        reports[split] = json.loads((tmp_path / split / "report.json").read_text())
    assert _criterion(reports["dev"], "oos_degradation").get("source") is None  # no OOS run yet
    row = _criterion(reports["oos"], "oos_degradation")
    assert row["source"] == "ledger"
    for split in ("dev", "oos"):
        assert row[split]["run_id"] == reports[split]["run"]["run_id"]
        assert row[split]["trades"] == reports[split]["total_trades"]
        assert row[split]["avg_pnl_pct"] == pytest.approx(reports[split]["avg_pnl_pct"])
    dev, oos = row["dev"]["avg_pnl_pct"], row["oos"]["avg_pnl_pct"]
    if dev > 0:
        assert row["value"] == pytest.approx((dev - oos) / dev) and row["passed"] is (row["value"] < 0.3)
    else:
        assert row["value"] is None and row["passed"] is None and "not positive" in row["detail"]


def test_oos_run_against_a_profitable_dev_run_in_the_ledger_passes_or_fails_by_30_percent(
    data, catalog, tmp_path, capsys
):
    from app.backtest import RunRequest, prepare
    from app.oos import effective_params
    from journal.ledger import Ledger, Touch

    prep = prepare(
        RunRequest(strategy=PROBE, data_dir=data, catalog_dir=catalog, out_dir=tmp_path / "p", quiet=True)
    )
    key = params_key(effective_params(prep))
    ledger = Ledger(f"sqlite:///{catalog / LEDGER_FILENAME}")
    (row_id,) = ledger.record([Touch(PROBE, key, "dev", DEV_DAYS[0], DEV_DAYS[1], run_id="dev-run")])
    ledger.set_figures(row_id, trades=10, avg_pnl_pct=1.0, total_pnl=500.0)  # +100% per trade in dev
    ledger.close()
    code, out, err = run(capsys, data, catalog, tmp_path / "oos", "--split", "oos")
    assert code == 0, err
    report = json.loads((tmp_path / "oos" / "report.json").read_text())
    row = _criterion(report, "oos_degradation")
    assert row["dev"]["run_id"] == "dev-run" and row["dev"]["avg_pnl_pct"] == 1.0
    oos = report["avg_pnl_pct"]
    assert row["value"] == pytest.approx(1.0 - oos)
    assert row["passed"] is (1.0 - oos < 0.3)
    assert "Out-of-sample degradation" in out and "dev run dev-run" in out


def test_a_grid_refused_for_its_size_records_no_oos_touch(data, catalog, tmp_path, capsys):
    grid = ["--split", "oos", "--i-know", "--optimize", "profit_target_pct=0.1:0.5:0.001"]  # 401 runs
    code, _, err = run(capsys, data, catalog, tmp_path / "big", *grid)
    assert code == 2 and "pass --yes to start it" in err
    assert not (catalog / LEDGER_FILENAME).exists()
