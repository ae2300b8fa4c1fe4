"""The split ledger: which runs touched which dataset split, with which params (``split_ledger``, revision 138).

Kept where it outlives one run's output folder: the journal database named by
``--journal``, else ``<catalog>/split_ledger.sqlite`` (a journal database of its
own, migrated like any other). One row per run (or sweep combination) and per
split its sessions touch; ``params_json`` is the full effective parameter set as
sorted JSON, so two rows hold the same parameters exactly when their texts match.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from journal.errors import JournalError, mask_url
from journal.models import LedgerRecord, utc_now_naive
from journal.writer import open_engine

LEDGER_FILENAME = "split_ledger.sqlite"
KINDS = ("run", "sweep")


def ledger_url(catalog_root: str | Path) -> str:
    """``sqlite:///<catalog_root>/split_ledger.sqlite``."""
    return f"sqlite:///{Path(catalog_root) / LEDGER_FILENAME}"


def params_key(params: Mapping[str, Any]) -> str:
    """The parameter set as sorted JSON text: the ledger's identity of a parameter set."""
    return json.dumps(dict(params), sort_keys=True, default=str)


@dataclass(frozen=True)
class Touch:
    """One run (or sweep combination) touching one split over ``start``..``end`` (sessions)."""

    strategy: str
    params_json: str
    split: str
    start: date
    end: date
    kind: str = "run"
    run_id: str | None = None
    requested_split: str | None = None
    symbols: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise JournalError(f"ledger: kind {self.kind!r} is not one of {', '.join(KINDS)}")


@dataclass(frozen=True)
class LedgerRow:
    """A ledger row as read back (figures None until the run finished)."""

    id: int
    run_id: str | None
    strategy: str
    params_json: str
    split: str
    start: date
    end: date
    kind: str
    touched_at: datetime
    trades: int | None
    avg_pnl_pct: float | None
    total_pnl: float | None


def _row(r: LedgerRecord) -> LedgerRow:
    return LedgerRow(
        id=r.id,
        run_id=r.run_id,
        strategy=r.strategy,
        params_json=r.params_json,
        split=r.split,
        start=r.start_date,
        end=r.end_date,
        kind=r.kind,
        touched_at=r.touched_at,
        trades=r.trades,
        avg_pnl_pct=r.avg_pnl_pct,
        total_pnl=r.total_pnl,
    )


class Ledger:
    """Read and append the ``split_ledger`` table of the journal database at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_engine(url)

    def _fail(self, what: str, exc: SQLAlchemyError) -> JournalError:
        return JournalError(f"ledger: cannot {what} in {mask_url(self.url)}: {str(exc).splitlines()[0]}")

    def rows(self, strategy: str, split: str) -> list[LedgerRow]:
        """Every row of ``strategy`` in ``split``, oldest first."""
        query = (
            select(LedgerRecord)
            .where(LedgerRecord.strategy == strategy, LedgerRecord.split == split)
            .order_by(LedgerRecord.id)
        )
        try:
            with Session(self.engine) as session:
                return [_row(r) for r in session.scalars(query).all()]
        except SQLAlchemyError as exc:
            raise self._fail("read the ledger", exc) from exc

    def latest_finished(self, strategy: str, params_json: str, split: str) -> LedgerRow | None:
        """The newest row of ``strategy`` with exactly these params in ``split`` that has its figures."""
        query = (
            select(LedgerRecord)
            .where(
                LedgerRecord.strategy == strategy,
                LedgerRecord.params_json == params_json,
                LedgerRecord.split == split,
                LedgerRecord.trades.is_not(None),
            )
            .order_by(LedgerRecord.id.desc())
            .limit(1)
        )
        try:
            with Session(self.engine) as session:
                found = session.scalars(query).first()
        except SQLAlchemyError as exc:
            raise self._fail("read the ledger", exc) from exc
        return None if found is None else _row(found)

    def record(self, touches: Sequence[Touch]) -> list[int]:
        """Append one row per touch in one transaction; return their ids."""
        now = utc_now_naive()
        records = [
            LedgerRecord(
                run_id=t.run_id,
                strategy=t.strategy,
                params_json=t.params_json,
                split=t.split,
                requested_split=t.requested_split,
                symbols=",".join(t.symbols),
                start_date=t.start,
                end_date=t.end,
                kind=t.kind,
                touched_at=now,
            )
            for t in touches
        ]
        try:
            with Session(self.engine) as session, session.begin():
                session.add_all(records)
                session.flush()
                return [int(r.id) for r in records]
        except SQLAlchemyError as exc:
            raise self._fail("record the run", exc) from exc

    def set_figures(self, row_id: int, trades: int, avg_pnl_pct: float | None, total_pnl: float) -> None:
        """Store the figures of the run's trades inside the row's split."""
        values = {"trades": trades, "avg_pnl_pct": avg_pnl_pct, "total_pnl": total_pnl}
        try:
            with self.engine.begin() as conn:
                conn.execute(update(LedgerRecord).where(LedgerRecord.id == row_id).values(**values))
        except SQLAlchemyError as exc:
            raise self._fail("store the run's figures", exc) from exc

    def close(self) -> None:
        self.engine.dispose()
