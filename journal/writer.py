"""Write runs and closed scalps to the journal database, one commit per scalp.

``JournalWriter(url)`` opens any SQLAlchemy URL (SQLite by default, PostgreSQL
with ``psycopg``), brings the schema up to date (idempotent) and commits every
``write`` on its own, so a run killed mid-way loses no closed scalp.
``start_run(RunEntry)`` adds the run's ``runs`` row (status ``running``); from then
on every scalp row carries its ``run_id``; ``finish_run`` stamps its end.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from alembic.util.exc import CommandError as AlembicCommandError
from sqlalchemy import URL, Engine, create_engine, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from journal.errors import JournalError, JournalFileError, mask_url
from journal.health import sqlite_file_problem, sqlite_schema_problem
from journal.migrate import ensure_sqlite_dir, upgrade
from journal.models import OptionsScalpRecord, RunRecord, utc_now_naive
from options_scalper.records import ClosedScalp

JOURNAL_FILENAME = "journal.sqlite"


def default_url(out_dir: str | os.PathLike[str]) -> str:
    """Return ``sqlite:///<out_dir>/journal.sqlite``."""
    return f"sqlite:///{Path(out_dir) / JOURNAL_FILENAME}"


RUN_STATUSES = ("running", "finished", "failed", "interrupted")


def new_run_id(now: datetime | None = None) -> str:
    """Return a new run id: ``<UTC time YYYYmmddTHHMMSSZ>-<8 random hex digits>`` (sortable, unique)."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{stamp:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class RunEntry:
    """What the ``runs`` row of one backtest records (dates are trading sessions)."""

    run_id: str
    strategy: str
    params: Mapping[str, Any] = field(default_factory=dict)
    symbols: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    data_path: str | None = None
    catalog_path: str | None = None


def run_record(entry: RunEntry, started_at: datetime | None = None) -> RunRecord:
    """Return the ``runs`` row of ``entry`` with status ``running`` (params as sorted JSON text)."""
    return RunRecord(
        run_id=entry.run_id,
        strategy=entry.strategy,
        params_json=json.dumps(dict(entry.params), sort_keys=True, default=str),
        symbols=",".join(entry.symbols),
        start_date=entry.start,
        end_date=entry.end,
        data_path=entry.data_path,
        catalog_path=entry.catalog_path,
        started_at=_naive_utc(started_at) if started_at else utc_now_naive(),
        status="running",
    )


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


def to_record(scalp: ClosedScalp, run_id: str | None = None) -> OptionsScalpRecord:
    """Return the ``options_scalps`` row of a closed scalp (times as naive UTC) in run ``run_id``."""
    return OptionsScalpRecord(
        run_id=run_id,
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
        if "disk is full" in str(exc) or getattr(exc, "errno", None) == 28:
            return "the disk is full: free some space (or pass a --journal on another disk) and run again"
        return "check that the folder exists and is writable"
    return "check that the server is running, the database exists and the credentials are right"


def open_engine(url: str) -> Engine:
    """Return an engine for ``url`` with its schema migrated; raise ``JournalError`` naming the URL."""
    try:
        parsed = make_url(url)
        ensure_sqlite_dir(parsed)
    except (ArgumentError, ValueError, OSError) as exc:
        raise JournalError(_cannot_open(url, exc)) from exc
    db_file = _sqlite_file(parsed)
    problem = sqlite_file_problem(db_file) if db_file else None
    if problem:
        raise JournalFileError(problem)
    engine = None
    try:
        engine = create_engine(parsed)
        upgrade(engine)
    except (SQLAlchemyError, ImportError, ValueError, OSError, AlembicCommandError) as exc:
        if engine is not None:
            engine.dispose()
        problem = sqlite_schema_problem(db_file) if db_file else None
        if problem:
            raise JournalFileError(problem) from exc
        raise JournalError(_cannot_open(url, exc)) from exc
    return engine


def _cannot_open(url: str, exc: BaseException) -> str:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"journal: cannot open {mask_url(url)}: {first_line}; {_hint(exc, url)}"


def _sqlite_file(parsed: URL) -> Path | None:
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


class JournalWriter:
    """Append closed scalps to the ``options_scalps`` table of ``url``, tagged with ``run_id``."""

    def __init__(self, url: str, run_id: str | None = None) -> None:
        self.url = url
        self.run_id = run_id
        self.engine = open_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.rows_written = 0

    def start_run(self, entry: RunEntry) -> None:
        """Insert the ``runs`` row of ``entry`` (status ``running``); later scalps carry its id."""
        try:
            with self._sessions.begin() as session:
                session.add(run_record(entry))
        except SQLAlchemyError as exc:
            raise JournalError(
                f"journal: cannot record run {entry.run_id} in {mask_url(self.url)}: "
                f"{str(exc).splitlines()[0]}; start the run again (a new run id is drawn each time)"
            ) from exc
        self.run_id = entry.run_id

    def finish_run(self, status: str = "finished") -> None:
        """Stamp the end time, ``status`` and the number of scalps written on this writer's run."""
        if self.run_id is None:
            return
        finish_run(self.url, self.run_id, status, self.rows_written, engine=self.engine)

    def set_split(self, split: str | None) -> None:
        """Record the dataset split (``dev``, ``validation``, ``oos``) this writer's run was asked for."""
        if self.run_id is None or split is None:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(update(RunRecord).where(RunRecord.run_id == self.run_id).values(split=split))
        except SQLAlchemyError as exc:
            raise JournalError(
                f"journal: cannot record the split of run {self.run_id} in {mask_url(self.url)}: "
                f"{str(exc).splitlines()[0]}"
            ) from exc

    def write(self, scalp: ClosedScalp) -> int:
        """Insert one closed scalp and commit; return its row id."""
        record = to_record(scalp, self.run_id)
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


def finish_run(
    url: str, run_id: str, status: str, scalps: int | None = None, *, engine: Engine | None = None
) -> None:
    """Set ``finished_at`` (now), ``status`` (and ``scalps`` if given) on the ``runs`` row ``run_id``."""
    if status not in RUN_STATUSES:
        raise JournalError(f"journal: run status {status!r} is not one of {', '.join(RUN_STATUSES)}")
    values: dict[str, Any] = {"finished_at": utc_now_naive(), "status": status}
    if scalps is not None:
        values["scalps"] = scalps
    own = engine is None
    eng = open_engine(url) if engine is None else engine
    try:
        with eng.begin() as conn:
            conn.execute(update(RunRecord).where(RunRecord.run_id == run_id).values(**values))
    except SQLAlchemyError as exc:
        raise JournalError(
            f"journal: cannot mark run {run_id} {status} in {mask_url(url)}: {str(exc).splitlines()[0]}"
        ) from exc
    finally:
        if own:
            eng.dispose()
