"""Revision 138: a 137 journal upgrades in place to ``runs.split`` and the ``split_ledger`` table."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from journal.migrate import HEAD, current_revision, upgrade
from journal.models import LEDGER_TABLE
from journal.writer import JournalWriter, new_run_id
from tests.journal.test_journal_runs import entry


def test_a_137_journal_upgrades_in_place_keeping_its_runs_with_a_null_split(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'journal.sqlite'}"
    upgrade(url, "137_journal_runs")
    old = new_run_id()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into runs (run_id, strategy, started_at, status) values (:r, 'x', :t, 'finished')"
            ),
            {"r": old, "t": "2026-12-01 20:00:00.000000"},
        )
    new = new_run_id()
    with JournalWriter(url) as w:  # opening migrates to the head
        w.start_run(entry(new))
        w.set_split("oos")
    assert current_revision(engine) == HEAD == "140_live_chains"
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("select run_id, split from runs")).all())
        assert rows == {old: None, new: "oos"}
        assert LEDGER_TABLE in sa.inspect(conn).get_table_names()
    engine.dispose()
