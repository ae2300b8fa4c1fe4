"""Name a SQLite journal file that cannot be used, in one line that says what to do.

A journal whose creation was cut short (disk full, a killed process) is left as a
file that is not a database at all, or as a database holding some of the journal's
tables without the schema revision that goes with them. Both would otherwise fail
every later run with a misleading "check that the folder is writable".
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from journal.migrate import VERSION_TABLE
from journal.models import (
    HEARTBEATS_TABLE,
    LEDGER_TABLE,
    LIVE_CHAINS_TABLE,
    LIVE_ORDERS_TABLE,
    RUNS_TABLE,
    TABLE_NAME,
)

SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_HEADER_BYTES = 100
# The journal tables each revision leaves behind (None: before the first migration).
TABLES_AT_REVISION: dict[str | None, frozenset[str]] = {
    None: frozenset(),
    "136_options_scalper": frozenset({TABLE_NAME}),
    "137_journal_runs": frozenset({TABLE_NAME, RUNS_TABLE}),
    "138_split_ledger": frozenset({TABLE_NAME, RUNS_TABLE, LEDGER_TABLE}),
    "139_live_runtime": frozenset(
        {TABLE_NAME, RUNS_TABLE, LEDGER_TABLE, LIVE_ORDERS_TABLE, HEARTBEATS_TABLE}
    ),
    "140_live_chains": frozenset(
        {TABLE_NAME, RUNS_TABLE, LEDGER_TABLE, LIVE_ORDERS_TABLE, HEARTBEATS_TABLE, LIVE_CHAINS_TABLE}
    ),
}
JOURNAL_TABLES = frozenset().union(*TABLES_AT_REVISION.values())
_WHAT_TO_DO = "move or delete the file (or pass another --journal) and run again"


def sqlite_file_problem(path: Path) -> str | None:
    """Return why the file at ``path`` is not a SQLite database, or None (also when it does not exist).

    An empty file is fine: SQLite builds the database in it.
    """
    try:
        if not path.is_file():
            return None
        size = path.stat().st_size
        if size == 0:
            return None
        with path.open("rb") as fh:
            header = fh.read(SQLITE_HEADER_BYTES)
    except OSError:
        return None  # unreadable: the caller's own open reports it
    if not header.startswith(SQLITE_MAGIC):
        return f"journal: {path} is not a SQLite database (a half-written or foreign file); {_WHAT_TO_DO}"
    if len(header) < SQLITE_HEADER_BYTES:
        return f"journal: {path} is a truncated SQLite database ({size} bytes); {_WHAT_TO_DO}"
    return None


def sqlite_schema_problem(path: Path) -> str | None:
    """Return why the journal schema in ``path`` cannot be migrated, or None when it looks whole.

    Reads the file (read-only) for the journal's tables and its schema revision and
    names a database that is damaged, half-created or from a newer release.
    """
    problem = sqlite_file_problem(path)
    if problem or not path.is_file():
        return problem
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        revision = None
        if VERSION_TABLE in tables:
            row = conn.execute(f"select version_num from {VERSION_TABLE}").fetchone()
            revision = row[0] if row else None
    except sqlite3.DatabaseError as exc:
        return f"journal: {path} is a damaged SQLite database ({exc}); {_WHAT_TO_DO}"
    finally:
        conn.close()
    if revision not in TABLES_AT_REVISION:
        return (
            f"journal: {path} was written by a newer release (schema revision {revision}); "
            "update options-scalper-bt or pass another --journal"
        )
    found = tables & JOURNAL_TABLES
    expected = TABLES_AT_REVISION[revision]
    if found != expected:
        have = ", ".join(sorted(found)) or "no journal table"
        want = ", ".join(sorted(expected)) or "no journal table"
        return (
            f"journal: {path} is a half-created journal ({have} at schema revision {revision or 'none'}, "
            f"which has {want}; e.g. the disk filled while it was being created); {_WHAT_TO_DO}"
        )
    return None
