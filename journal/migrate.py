"""Run the journal's Alembic migrations, configured in code (no alembic.ini).

The revision history lives in ``journal/migrations``; its version table is
``options_scalps_alembic_version`` so the journal can share a database with an
application that has its own Alembic history.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import URL, Engine, create_engine, make_url, pool
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "options_scalps_alembic_version"
HEAD = "140_live_chains"


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic ``Config`` pointing at the packaged migrations (and ``url`` if given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def ensure_sqlite_dir(url: str | URL) -> None:
    """Create the folder of a SQLite database file if it is missing (other URLs: nothing)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def upgrade(url_or_engine: str | Engine, revision: str = "head", attempts: int = 20) -> None:
    """Bring the journal schema at ``url_or_engine`` up to ``revision``; a no-op when already there.

    Safe when several processes (an ``optstrategy`` pool) open the same journal at
    once: a migration that loses the race to create the tables is retried, and
    succeeds as a no-op once the winner has committed.
    """
    if isinstance(url_or_engine, str):
        ensure_sqlite_dir(url_or_engine)
        engine = create_engine(url_or_engine, poolclass=pool.NullPool)
    else:
        engine = url_or_engine
    try:
        with engine.connect():  # an unreachable database fails here, at once, without retries
            pass
        for attempt in range(attempts):
            try:
                _upgrade_once(engine, revision)
                return
            except (OperationalError, ProgrammingError, IntegrityError):
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 + random.random() * 0.1)
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()


def _upgrade_once(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            # SQLite's DDL is transactional but pysqlite opens no transaction before it: without this
            # BEGIN a migration cut short (disk full, a kill) leaves a half-created schema behind.
            # IMMEDIATE takes the write lock at once, so concurrent migrations queue instead of racing.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """Return the journal schema revision of the database (None before the first upgrade)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()
