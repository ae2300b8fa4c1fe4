"""Write closed scalps to the journal database, one commit per scalp.

``JournalWriter(url)`` opens any SQLAlchemy URL (SQLite by default, PostgreSQL
with ``psycopg``), brings the schema up to date (idempotent) and commits every
``write`` on its own, so a run killed mid-way loses no closed scalp.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from journal.errors import JournalError, mask_url
from journal.migrate import ensure_sqlite_dir, upgrade
from journal.models import OptionsScalpRecord
from options_scalper.records import ClosedScalp

JOURNAL_FILENAME = "journal.sqlite"


def default_url(out_dir: str | os.PathLike[str]) -> str:
    """Return ``sqlite:///<out_dir>/journal.sqlite``."""
    return f"sqlite:///{Path(out_dir) / JOURNAL_FILENAME}"


def _naive_utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo is None else ts.astimezone(UTC).replace(tzinfo=None)


def metadata_json(scalp: ClosedScalp) -> str:
    """Return the scalp's metadata plus ``conviction`` and ``commission`` as sorted JSON text."""
    payload: dict[str, Any] = {
        **scalp.metadata,
        "conviction": scalp.conviction,
        "commission": scalp.commission,
    }
    return json.dumps(payload, sort_keys=True, default=str)


def to_record(scalp: ClosedScalp) -> OptionsScalpRecord:
    """Return the ``options_scalps`` row of a closed scalp (times as naive UTC)."""
    return OptionsScalpRecord(
        signal_id=scalp.signal_id or None,
        ticker=scalp.ticker,
        option_symbol=scalp.option_symbol,
        option_type=scalp.option_type,
        strike=float(scalp.strike),
        expiry=scalp.expiry,
        dte=int(scalp.dte),
        direction=scalp.direction,
        contracts=int(scalp.contracts),
        entry_premium=float(scalp.entry_premium),
        exit_premium=float(scalp.exit_premium),
        entry_delta=float(scalp.entry_delta),
        entry_theta=float(scalp.entry_theta),
        entry_iv=float(scalp.entry_iv),
        status=scalp.status,
        exit_reason=scalp.exit_reason,
        pnl=float(scalp.pnl),
        pnl_pct=float(scalp.pnl_pct),
        broker=scalp.broker,
        order_id=scalp.order_id or None,
        entry_time=_naive_utc(scalp.entry_time),
        exit_time=_naive_utc(scalp.exit_time),
        metadata_json=metadata_json(scalp),
    )


def _hint(exc: BaseException, url: str) -> str:
    if isinstance(exc, NoSuchModuleError | ModuleNotFoundError | ImportError):
        return (
            "install the database driver (PostgreSQL: pip install 'psycopg[binary]') or fix the dialect name"
        )
    if isinstance(exc, ArgumentError | ValueError):
        return "use a SQLAlchemy URL such as sqlite:///out/journal.sqlite or postgresql+psycopg://user:pw@host/db"
    if url.startswith("sqlite"):
        return "check that the folder exists and is writable"
    return "check that the server is running, the database exists and the credentials are right"


def open_engine(url: str) -> Engine:
    """Return an engine for ``url`` with its schema migrated; raise ``JournalError`` naming the URL."""
    try:
        parsed = make_url(url)
        ensure_sqlite_dir(parsed)
        engine = create_engine(parsed)
        upgrade(engine)
    except (SQLAlchemyError, ImportError, ValueError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise JournalError(f"journal: cannot open {mask_url(url)}: {first_line}; {_hint(exc, url)}") from exc
    return engine


class JournalWriter:
    """Append closed scalps to the ``options_scalps`` table of ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.rows_written = 0

    def write(self, scalp: ClosedScalp) -> int:
        """Insert one closed scalp and commit; return its row id."""
        record = to_record(scalp)
        try:
            with self._sessions.begin() as session:
                session.add(record)
                session.flush()
                row_id = int(record.id)
        except SQLAlchemyError as exc:
            raise JournalError(
                f"journal: cannot write {scalp.option_symbol} ({scalp.signal_id}) to {mask_url(self.url)}: "
                f"{str(exc).splitlines()[0]}"
            ) from exc
        self.rows_written += 1
        return row_id

    def session(self) -> Session:
        """Return a new session on the journal (for reading back)."""
        return self._sessions()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
