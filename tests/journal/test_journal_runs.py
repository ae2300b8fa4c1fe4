"""Runs in the journal: revision 137 upgrades a 136 journal in place, rows carry their run id,
and a half-created SQLite journal is named in one line with what to do (SQLite)."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import backtrader as bt
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, select

from analyzers.journal import JournalRecorder, run_json
from journal.errors import JournalError, JournalFileError
from journal.health import TABLES_AT_REVISION, sqlite_file_problem, sqlite_schema_problem
from journal.migrate import HEAD, VERSION_TABLE, current_revision, upgrade
from journal.models import (
    HEARTBEATS_TABLE,
    LEDGER_TABLE,
    LIVE_CHAINS_TABLE,
    LIVE_ORDERS_TABLE,
    RUNS_TABLE,
    TABLE_NAME,
    Base,
    OptionsScalpRecord,
    RunRecord,
)
from journal.writer import JournalWriter, RunEntry, finish_run, new_run_id
from options_scalper.records import ClosedScalp
from tests.journal.test_journal import scalp

LEGACY_INSERT = sa.text(
    "insert into options_scalps (signal_id, ticker, option_symbol, option_type, strike, expiry, dte, "
    "direction, contracts, entry_premium, entry_time) values ('legacy-1', 'SPY', 'SPY   240110C00470000', "
    "'call', 470.0, '2024-01-10', 0, 'long_call', 1, 1.0, '2024-01-10 14:40:00.000000')"
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite"


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def entry(run_id: str, **kw: object) -> RunEntry:
    fields: dict[str, object] = {
        "strategy": "momentum_burst",
        "params": {"stop_loss_pct": 0.15, "take_profit_pct": 0.3},
        "symbols": ("SPY", "TSLA"),
        "start": date(2024, 10, 28),
        "end": date(2024, 11, 29),
        "data_path": "/data/opra",
        "catalog_path": "/data/opra/.catalog",
    }
    fields.update(kw)
    return RunEntry(run_id=run_id, **fields)  # type: ignore[arg-type]


def test_new_run_id_is_time_stamped_and_unique() -> None:
    now = datetime(2026, 12, 1, 21, 5, 7, tzinfo=UTC)
    ids = {new_run_id(now) for _ in range(50)}
    assert len(ids) == 50
    assert all(i.startswith("20261201T210507Z-") and len(i) == 25 for i in ids)


def test_tables_at_revision_cover_the_head_and_the_model() -> None:
    assert (
        TABLES_AT_REVISION[HEAD]
        == set(Base.metadata.tables)
        == {
            TABLE_NAME,
            RUNS_TABLE,
            LEDGER_TABLE,
            LIVE_ORDERS_TABLE,
            HEARTBEATS_TABLE,
            LIVE_CHAINS_TABLE,
        }
    )


def test_a_136_journal_upgrades_in_place_and_keeps_its_rows_with_a_null_run_id(db: Path) -> None:
    upgrade(url_of(db), "136_options_scalper")
    engine = create_engine(url_of(db))
    with engine.begin() as conn:
        conn.execute(LEGACY_INSERT)
    assert current_revision(engine) == "136_options_scalper"

    run_id = new_run_id()
    with JournalWriter(url_of(db)) as w:  # opening migrates to the head
        w.start_run(entry(run_id))
        w.write(scalp(0))
    assert current_revision(engine) == HEAD == "140_live_chains"
    with engine.connect() as conn:
        rows = conn.execute(
            select(OptionsScalpRecord.signal_id, OptionsScalpRecord.run_id).order_by(OptionsScalpRecord.id)
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("legacy-1", None), ("sig-0", run_id)]


def test_two_runs_into_one_journal_are_told_apart_by_run_id(db: Path) -> None:
    ids = [new_run_id(), new_run_id()]
    for run_id, n_rows in zip(ids, (2, 3), strict=True):
        with JournalWriter(url_of(db)) as w:
            w.start_run(entry(run_id, params={"stop_loss_pct": 0.1 * n_rows}))
            for n in range(n_rows):
                w.write(scalp(n))
            w.finish_run()
    engine = create_engine(url_of(db))
    with engine.connect() as conn:
        per_run = dict(
            conn.execute(
                select(OptionsScalpRecord.run_id, sa.func.count()).group_by(OptionsScalpRecord.run_id)
            ).all()
        )
        runs = {r.run_id: r for r in conn.execute(select(RunRecord)).all()}
    engine.dispose()
    assert per_run == {ids[0]: 2, ids[1]: 3}
    first = runs[ids[0]]
    assert (first.status, first.scalps, first.strategy, first.symbols) == (
        "finished",
        2,
        "momentum_burst",
        "SPY,TSLA",
    )
    assert (first.start_date, first.end_date) == (date(2024, 10, 28), date(2024, 11, 29))
    assert (first.data_path, first.catalog_path) == ("/data/opra", "/data/opra/.catalog")
    assert json.loads(first.params_json) == {"stop_loss_pct": pytest.approx(0.2)}
    assert first.started_at <= first.finished_at


def test_finish_run_marks_a_failed_run_and_refuses_an_unknown_status(db: Path) -> None:
    run_id = new_run_id()
    with JournalWriter(url_of(db)) as w:
        w.start_run(entry(run_id))
    finish_run(url_of(db), run_id, "failed")
    engine = create_engine(url_of(db))
    with engine.connect() as conn:
        status, finished = conn.execute(select(RunRecord.status, RunRecord.finished_at)).one()
    engine.dispose()
    assert status == "failed" and finished is not None
    with pytest.raises(JournalError, match="'done' is not one of running, finished, failed"):
        finish_run(url_of(db), run_id, "done")


def test_a_reused_run_id_is_one_line_saying_what_to_do(db: Path) -> None:
    run_id = new_run_id()
    with JournalWriter(url_of(db)) as w:
        w.start_run(entry(run_id))
        with pytest.raises(JournalError, match=f"cannot record run {run_id}.*start the run again") as err:
            w.start_run(entry(run_id))
    assert "\n" not in str(err.value)


# ----------------------------------------------------------- half-created journals


def _sqlite_with(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_a_file_that_is_not_a_database_is_named_with_what_to_do(db: Path) -> None:
    db.write_bytes(b"\x00" * 37)  # e.g. the disk filled while the file was being written
    with pytest.raises(JournalFileError) as err:
        JournalWriter(url_of(db))
    message = str(err.value)
    assert "\n" not in message
    assert f"{db} is not a SQLite database" in message and "move or delete the file" in message
    assert "writable" not in message


def test_a_truncated_sqlite_header_is_named(db: Path) -> None:
    db.write_bytes(b"SQLite format 3\x00" + b"\x10\x00")
    assert "truncated SQLite database (18 bytes)" in (sqlite_file_problem(db) or "")


def test_an_empty_file_is_a_fine_place_for_a_new_journal(db: Path) -> None:
    db.touch()
    with JournalWriter(url_of(db)) as w:
        w.write(scalp(0))
    assert sqlite_file_problem(db) is None and sqlite_schema_problem(db) is None


def test_journal_tables_without_a_schema_revision_are_a_half_created_journal(db: Path) -> None:
    _sqlite_with(db, "create table options_scalps (id integer primary key)")  # created, never stamped
    with pytest.raises(JournalFileError) as err:
        JournalWriter(url_of(db))
    message = str(err.value)
    assert "\n" not in message and "writable" not in message
    assert f"{db} is a half-created journal (options_scalps at schema revision none" in message
    assert "move or delete the file" in message


def test_a_journal_stamped_136_that_lacks_its_table_is_named(db: Path) -> None:
    _sqlite_with(
        db,
        f"create table {VERSION_TABLE} (version_num varchar(32) not null primary key)",
        f"insert into {VERSION_TABLE} values ('136_options_scalper')",
    )
    problem = sqlite_schema_problem(db) or ""
    assert "half-created journal (no journal table at schema revision 136_options_scalper" in problem


def test_a_journal_from_a_newer_release_says_so(db: Path) -> None:
    _sqlite_with(
        db,
        f"create table {VERSION_TABLE} (version_num varchar(32) not null primary key)",
        f"insert into {VERSION_TABLE} values ('999_from_the_future')",
    )
    with pytest.raises(
        JournalFileError, match="newer release \\(schema revision 999_from_the_future\\)"
    ) as err:
        JournalWriter(url_of(db))
    assert "\n" not in str(err.value)


def test_another_applications_tables_are_no_problem(db: Path) -> None:
    _sqlite_with(db, "create table positions (id integer primary key)")  # the journal can share a database
    with JournalWriter(url_of(db)) as w:
        w.write(scalp(0))
    assert sqlite_schema_problem(db) is None


# ----------------------------------------------------------- the Backtrader recorder


class TwoScalps(bt.Strategy):
    params = (("dummy", 0),)

    def __init__(self) -> None:
        self.closed_scalps: list[ClosedScalp] = []
        self.rejections: Counter[str] = Counter()

    def next(self) -> None:
        if len(self) in (2, 8):
            self.buy(size=1)
        elif len(self) in (5, 11):
            self.close()

    def notify_trade(self, trade: bt.Trade) -> None:
        if trade.isclosed:
            self.closed_scalps.append(scalp(len(self.closed_scalps), pnl=trade.pnlcomm))


def _cerebro(maxcpus: int = 1) -> bt.Cerebro:
    prices = [1.0 + 0.01 * i for i in range(15)]
    stamps = pd.date_range("2024-01-10 14:31", periods=15, freq="min")
    frame = pd.DataFrame(
        {"open": prices, "high": prices, "low": prices, "close": prices, "volume": 1.0}, index=stamps
    )
    cerebro = bt.Cerebro(stdstats=False, maxcpus=maxcpus)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    return cerebro


def test_recorder_records_its_run_and_tags_every_row(db: Path) -> None:
    cerebro = _cerebro()
    cerebro.addstrategy(TwoScalps, dummy=7)
    run = run_json(
        "probe", ["SPY"], date(2024, 1, 10), date(2024, 1, 10), "/d", "/d/.catalog", {"cap_to_size": True}
    )
    cerebro.addanalyzer(JournalRecorder, _name="journal", url=url_of(db), run_id="run-a", run=run)
    analysis = cerebro.run()[0].analyzers.journal.get_analysis()
    assert (analysis["run_id"], analysis["rows_written"]) == ("run-a", 2)
    engine = create_engine(url_of(db))
    with engine.connect() as conn:
        run_ids = conn.execute(select(OptionsScalpRecord.run_id)).scalars().all()
        row = conn.execute(select(RunRecord)).one()
    engine.dispose()
    assert run_ids == ["run-a", "run-a"]
    assert (row.run_id, row.strategy, row.symbols, row.status, row.scalps) == (
        "run-a",
        "probe",
        "SPY",
        "finished",
        2,
    )
    assert json.loads(row.params_json) == {"dummy": 7, "cap_to_size": True}  # the strategy's and the venue's


def test_optstrategy_runs_each_get_their_own_run_id_and_params(db: Path) -> None:
    cerebro = _cerebro(maxcpus=2)
    cerebro.optstrategy(TwoScalps, dummy=[1, 2, 3])
    cerebro.addanalyzer(JournalRecorder, _name="journal", url=url_of(db))
    results = [r[0].analyzers.journal.get_analysis() for r in cerebro.run()]
    ids = [a["run_id"] for a in results]
    assert len(set(ids)) == 3
    engine = create_engine(url_of(db))
    with engine.connect() as conn:
        per_run = dict(
            conn.execute(
                select(OptionsScalpRecord.run_id, sa.func.count()).group_by(OptionsScalpRecord.run_id)
            ).all()
        )
        params = {r.run_id: json.loads(r.params_json)["dummy"] for r in conn.execute(select(RunRecord)).all()}
    engine.dispose()
    assert per_run == dict.fromkeys(ids, 2)
    assert sorted(params.values()) == [1, 2, 3] and set(params) == set(ids)


def test_a_migration_that_fails_half_way_leaves_the_journal_as_it_was(db: Path) -> None:
    upgrade(url_of(db), "136_options_scalper")
    engine = create_engine(url_of(db))
    with engine.begin() as conn:
        conn.execute(LEGACY_INSERT)
        conn.execute(sa.text("create table positions (id integer primary key)"))
        # an index name 137 also creates, after its runs table: the upgrade fails half-way
        conn.execute(sa.text("create index ix_options_scalps_run_id on positions (id)"))
    with pytest.raises(JournalError):
        JournalWriter(url_of(db))
    tables = set(sa.inspect(engine).get_table_names())
    assert current_revision(engine) == "136_options_scalper"
    assert RUNS_TABLE not in tables and TABLE_NAME in tables  # nothing of 137 was left behind
    with engine.connect() as conn:
        assert conn.execute(select(sa.func.count()).select_from(sa.table(TABLE_NAME))).scalar_one() == 1
    engine.dispose()


def test_a_half_created_journal_in_a_folder_with_uri_characters_is_still_read(tmp_path: Path) -> None:
    folder = tmp_path / "runs #1?"
    folder.mkdir()
    db = folder / "journal.sqlite"
    _sqlite_with(db, "create table runs (run_id varchar(40) primary key)")
    assert "half-created journal (runs at schema revision none" in (sqlite_schema_problem(db) or "")


def test_a_full_disk_says_to_free_space_not_to_check_the_folder() -> None:
    from journal.writer import _cannot_open

    exc = sa.exc.OperationalError("insert ...", {}, sqlite3.OperationalError("database or disk is full"))
    message = _cannot_open("sqlite:///out/journal.sqlite", exc)
    assert "database or disk is full; the disk is full: free some space" in message
    assert "writable" not in message
