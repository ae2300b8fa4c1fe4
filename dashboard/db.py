"""Open the journal read-only: SQLite through a ``mode=ro`` URI plus ``PRAGMA query_only``, others read-only.

The dashboard never writes, never migrates and never holds a transaction open:
every data function opens a connection, runs its queries and gives it back, so a
backtest or live session writing the same journal is never blocked for longer
than one query. A journal that is missing, not a SQLite file or from a newer
release is refused with one line (:class:`DashboardError`) naming it and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from journal.errors import mask_url
from journal.health import sqlite_file_problem
from journal.migrate import VERSION_TABLE
from journal.models import HEARTBEATS_TABLE, RUNS_TABLE, TABLE_NAME, OptionsScalpRecord, RunRecord
from options_scalper.model import ScalperError


class DashboardError(ScalperError):
    """The dashboard cannot read what it was pointed at (journal URL, catalog folder)."""


@dataclass(frozen=True)
class Journal:
    """A read-only journal: its engine, the masked URL (safe to show) and which tables it has."""

    engine: Engine
    label: str
    tables: frozenset[str]

    @property
    def has_live_tables(self) -> bool:
        return HEARTBEATS_TABLE in self.tables


def _readonly_sqlite_url(parsed: URL) -> tuple[URL, Path]:
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise DashboardError(
            f"--journal {mask_url(str(parsed))}: name a journal file, e.g. sqlite:///out/journal.sqlite"
        )
    path = Path(database).expanduser().resolve()
    if not path.is_file():
        raise DashboardError(
            f"--journal: {path} does not exist; run a backtest first (it writes <out>/journal.sqlite) "
            "or pass the URL of an existing journal"
        )
    problem = sqlite_file_problem(path)
    if problem:
        raise DashboardError(problem)
    # SQLite opens a "file:" URI read-only with mode=ro: no write can happen on this connection.
    url = parsed.set(database=f"file:{path}", query={**parsed.query, "mode": "ro", "uri": "true"})
    return url, path


def _query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


def open_journal(url: str) -> Journal:
    """Return the journal at ``url`` opened read-only; raise ``DashboardError`` (one line) if it cannot be."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DashboardError(
            f"--journal {mask_url(url)}: not a SQLAlchemy URL ({exc}); "
            "use e.g. sqlite:///out/journal.sqlite or postgresql+psycopg://user@host/db"
        ) from exc
    label = mask_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            ro_url, _ = _readonly_sqlite_url(parsed)
            engine = create_engine(ro_url)
            event.listen(engine, "connect", _query_only)
        else:
            engine = create_engine(
                parsed, pool_pre_ping=True, execution_options={"postgresql_readonly": True}
            )
        inspector = inspect(engine)
        tables = frozenset(inspector.get_table_names())
        run_columns = (
            {c["name"] for c in inspector.get_columns(RUNS_TABLE)} if RUNS_TABLE in tables else set()
        )
    except DashboardError:
        raise
    except (SQLAlchemyError, NoSuchModuleError, ImportError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DashboardError(f"--journal: cannot open {label}: {first}") from exc
    missing = {TABLE_NAME, RUNS_TABLE} - tables
    if missing:
        engine.dispose()
        raise DashboardError(
            f"--journal: {label} has no {' and no '.join(sorted(missing))} table: not a journal of this "
            "toolkit (or from before revision 137); pass the journal a backtest wrote"
        )
    if not {"mode", "broker", "catalog_path"} <= run_columns:
        engine.dispose()
        raise DashboardError(
            f"--journal: {label} is from before schema revision 139 (runs has no mode/broker column); "
            "the dashboard never writes: upgrade it by running any backtest with --journal on it"
        )
    return Journal(engine=engine, label=label, tables=tables)


def schema_revision(journal: Journal) -> str | None:
    """The journal's Alembic revision (None when it has no version table)."""
    if VERSION_TABLE not in journal.tables:
        return None
    with journal.engine.connect() as conn:
        from sqlalchemy import text

        row = conn.execute(text(f"select version_num from {VERSION_TABLE}")).first()
    return None if row is None else str(row[0])


def fingerprint(journal: Journal) -> tuple[Any, ...]:
    """A cheap value that changes whenever a scalp or run is written or a run finishes (cache key)."""
    with journal.engine.connect() as conn:
        scalps = conn.execute(select(func.max(OptionsScalpRecord.id), func.count())).one()
        runs = conn.execute(
            select(func.count(), func.max(RunRecord.started_at), func.max(RunRecord.finished_at))
        ).one()
    return (*scalps, *runs)
