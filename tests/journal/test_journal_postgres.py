"""The journal on a throwaway local PostgreSQL server; skipped when no server binary or driver is present."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select

from journal.migrate import HEAD, current_revision, upgrade
from journal.models import INDEXES, RUN_ID_INDEX, RUNS_TABLE, TABLE_NAME, OptionsScalpRecord, RunRecord
from journal.writer import JournalWriter, RunEntry, new_run_id
from options_scalper.records import ClosedScalp


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl); apt-get install postgresql to run")
    pytest.importorskip("psycopg", reason="no psycopg driver; pip install 'psycopg[binary]' to run")
    run_as: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="journal-pg-"))
    if os.geteuid() == 0:  # the server refuses to run as root
        runuser = shutil.which("runuser")
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            user = None
        if not runuser or user is None:
            shutil.rmtree(base, ignore_errors=True)
            pytest.skip("running as root without a 'postgres' user / runuser to start the server")
        os.chown(base, user.pw_uid, user.pw_gid)
        run_as = [runuser, "-u", "postgres", "--"]
    data, port = base / "data", _free_port()
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -F"
    try:
        subprocess.run(
            [*run_as, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [*run_as, pg_ctl, "-D", str(data), "-l", str(base / "log"), "-o", opts, "-w", "start"],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(
            f"could not start a local PostgreSQL: {exc.stderr.decode(errors='replace').strip()[:200]}"
        )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def scalp(n: int) -> ClosedScalp:
    t0 = datetime(2024, 7, 10, 14, 40, tzinfo=UTC) + timedelta(minutes=10 * n)
    return ClosedScalp(
        signal_id=f"pg-{n}",
        ticker="SPY",
        option_symbol="SPY   240710P00560000",
        option_type="put",
        strike=560.0,
        expiry=date(2024, 7, 10),
        dte=0,
        direction="long_put",
        contracts=3,
        entry_premium=0.80,
        exit_premium=0.60,
        entry_delta=-0.38,
        entry_theta=-0.9,
        entry_iv=0.14,
        exit_reason="stop_loss",
        pnl=-63.9,
        pnl_pct=-63.9 / 240.0,
        entry_time=t0,
        exit_time=t0 + timedelta(minutes=4),
        commission=3.9,
        conviction=55,
    )


def test_postgres_migration_write_read_and_commit_per_trade(pg_url: str) -> None:
    upgrade(pg_url)
    upgrade(pg_url)  # idempotent
    engine = create_engine(pg_url)
    insp = inspect(engine)
    assert TABLE_NAME in insp.get_table_names()
    assert {ix["name"]: tuple(ix["column_names"]) for ix in insp.get_indexes(TABLE_NAME)} == {
        **INDEXES,
        RUN_ID_INDEX: ("run_id",),
    }
    assert RUNS_TABLE in insp.get_table_names()
    assert current_revision(engine) == HEAD
    run_id = new_run_id()
    with JournalWriter(pg_url) as w:
        w.start_run(RunEntry(run_id=run_id, strategy="momentum_burst", params={"stop_loss_pct": 0.15}))
        w.write(scalp(0))
        w.write(scalp(1))
        with engine.connect() as conn:  # another connection sees both rows before close
            cols = (OptionsScalpRecord.signal_id, OptionsScalpRecord.entry_time, OptionsScalpRecord.expiry,
                    OptionsScalpRecord.pnl, OptionsScalpRecord.run_id)  # fmt: skip
            rows = conn.execute(select(*cols).order_by(OptionsScalpRecord.id)).all()
        w.finish_run()
    with engine.connect() as conn:
        run = conn.execute(select(RunRecord.status, RunRecord.scalps).where(RunRecord.run_id == run_id)).one()
    assert tuple(run) == ("finished", 2)
    assert [r.run_id for r in rows] == [run_id, run_id]
    assert [r.signal_id for r in rows] == ["pg-0", "pg-1"]
    assert rows[0].entry_time == datetime(2024, 7, 10, 14, 40)
    assert rows[0].expiry == date(2024, 7, 10) and rows[0].pnl == pytest.approx(-63.9)
    engine.dispose()
