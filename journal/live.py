"""The live runtime's journal writes: the live run, every order event, open scalps, heartbeats.

``LiveJournal(url, run_id, broker)`` over revision 139's tables. Each call commits
on its own, as it happens, so a run killed at any moment leaves a journal a restart
can rebuild state from (``journal.live_read``):

* ``start_run`` adds the ``runs`` row with ``mode`` (paper, live, dry_run), ``broker``
  and ``account``; ``finish_run`` stamps its end.
* ``order_event`` appends one ``live_orders`` row per order event. Idempotent: a
  fill is keyed by ``(run_id, execution_id)`` (the table's unique constraint), any
  other event by ``(run_id, client_order_id, event)``, so a replayed event is never
  booked twice (the call returns False for a repeat).
* ``open_scalp`` writes a scalp's ``options_scalps`` row when its first entry fill
  is booked (status ``open``); ``close_scalp`` updates that row when it closes.
* ``heartbeat`` appends one ``live_heartbeats`` row (the runtime writes one a minute) and, in
  the same transaction, the ``live_chains`` rows of the chain snapshots served since the last
  one (revision 140: one row per run, underlying and minute; ``chain_payload`` is its JSON,
  with the ``account`` the strategy had as it was served the chain and the ``signals`` it
  entered on at that minute, so the dashboard sizes a replayed minute as the run did).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from journal.errors import JournalError, mask_url
from journal.models import HeartbeatRecord, LiveChainRecord, LiveOrderRecord, OptionsScalpRecord, RunRecord
from journal.writer import RunEntry, finish_run, metadata_json, open_engine, run_record
from options_scalper.model import AccountState, ChainSnapshot, Signal
from options_scalper.records import ClosedScalp

LIVE_MODES = ("paper", "live", "dry_run")


def naive_utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo is None else ts.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class OrderEventRow:
    """One order event as ``live_orders`` keeps it (``ts`` aware UTC: the venue's time)."""

    ts: datetime
    client_order_id: str
    option_symbol: str
    side: str
    qty: int
    event: str
    venue_order_id: str | None = None
    ticker: str | None = None
    limit_price: float | None = None
    role: str | None = None
    execution_id: str | None = None
    fill_qty: int | None = None
    fill_price: float | None = None
    commission: float | None = None
    message: str | None = None


@dataclass(frozen=True)
class OpenScalpRow:
    """A scalp that has its first entry fill: what its ``options_scalps`` row says while open."""

    signal_id: str
    ticker: str
    option_symbol: str
    option_type: str
    strike: float
    expiry: date
    dte: int
    direction: str
    contracts: int
    entry_premium: float
    entry_time: datetime
    entry_delta: float | None = None
    entry_theta: float | None = None
    entry_iv: float | None = None
    order_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HeartbeatRow:
    ts: datetime
    state: str
    bar_time: datetime | None = None
    data_state: str | None = None
    underlying: str | None = None
    underlying_price: float | None = None
    day_pnl: float | None = None
    open_scalps: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None


CHAIN_FLOAT_FIELDS = (
    "strike",
    "bid",
    "ask",
    "bid_size",
    "ask_size",
    "quote_age_min",
    "open_interest",
    "volume",
)


def _floats(values: Any) -> list[float | None]:
    return [None if math.isnan(v) else v for v in (float(x) for x in values)]


def account_payload(account: AccountState) -> dict[str, Any]:
    """``account`` as a chain payload's ``account`` keeps it (``journal.live_read.account_of``'s inverse)."""
    return {
        "equity": float(account.equity),
        "cash": float(account.cash),
        "open_scalps": int(account.open_scalps),
        "scalps_today": int(account.scalps_today),
        "open_symbols": [str(s) for s in account.open_symbols],
    }


def signal_payload(signal: Signal) -> dict[str, Any]:
    """A signal entered on at a chain's minute, as the payload's ``signals`` list keeps it."""
    return {
        "signal_id": str(signal.signal_id),
        "direction": str(signal.direction.value),
        "conviction": int(signal.conviction),
        "trigger": str(signal.trigger),
    }


def chain_payload(
    snapshot: ChainSnapshot,
    quote_times: Mapping[str, datetime | None] | None = None,
    iv_history: Sequence[float] = (),
    account: AccountState | None = None,
) -> dict[str, Any]:
    """``snapshot`` as ``live_chains.payload_json`` keeps it (parallel lists; NaN -> null; exact floats).

    ``account``: what the strategy's pipeline was given with it (None: unknown). The runtime adds
    ``signals`` (``signal_payload``) when it writes the row.
    """
    symbols = [str(s) for s in snapshot.symbol]
    times = quote_times or {}
    by_age = snapshot.underlying_by_age
    payload: dict[str, Any] = {
        "underlying_by_age": None if by_age is None else _floats(by_age),
        "iv_history": [float(v) for v in iv_history],
        "half_day": bool(snapshot.half_day),
        "oi_known": bool(snapshot.oi_known),
        "volume_known": bool(snapshot.volume_known),
        "symbol": symbols,
        "expiry": [str(d) for d in snapshot.expiry.astype("datetime64[D]")],
        "is_call": [bool(c) for c in snapshot.is_call],
        "quote_time": [None if times.get(s) is None else naive_utc(times[s]).isoformat() for s in symbols],  # type: ignore[arg-type]
        "account": None if account is None else account_payload(account),
    }
    for name in CHAIN_FLOAT_FIELDS:
        payload[name] = _floats(getattr(snapshot, name))
    return payload


@dataclass(frozen=True)
class ChainRow:
    """One served chain snapshot: ``minute`` (aware UTC, the decision bar's close) and its payload."""

    underlying: str
    minute: datetime
    underlying_price: float
    payload: dict[str, Any]

    @property
    def contracts(self) -> int:
        return len(self.payload.get("symbol", ()))


class LiveJournal:
    """Writes of one live run (thread-safe: venue callbacks may arrive on other threads)."""

    def __init__(self, url: str, run_id: str, broker: str) -> None:
        self.url = url
        self.run_id = run_id
        self.broker = broker
        self.engine = open_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._lock = threading.Lock()
        self.scalps_closed = 0

    def _fail(self, what: str, exc: BaseException) -> JournalError:
        return JournalError(f"journal: cannot {what} in {mask_url(self.url)}: {str(exc).splitlines()[0]}")

    def start_run(self, entry: RunEntry, mode: str, account: str) -> None:
        if mode not in LIVE_MODES:
            raise JournalError(f"journal: live run mode {mode!r} is not one of {', '.join(LIVE_MODES)}")
        record = run_record(entry)
        record.mode, record.broker, record.account = mode, self.broker, account
        try:
            with self._lock, self._sessions.begin() as session:
                session.add(record)
        except SQLAlchemyError as exc:
            raise self._fail(f"record run {self.run_id}", exc) from exc

    def finish_run(self, status: str) -> None:
        finish_run(self.url, self.run_id, status, self.scalps_closed, engine=self.engine)

    def order_event(self, row: OrderEventRow) -> bool:
        """Append ``row``; False when this run already has it (a replayed event)."""
        record = LiveOrderRecord(
            run_id=self.run_id,
            ts=naive_utc(row.ts),
            broker=self.broker,
            client_order_id=row.client_order_id,
            venue_order_id=row.venue_order_id,
            ticker=row.ticker,
            option_symbol=row.option_symbol,
            side=row.side,
            qty=int(row.qty),
            limit_price=row.limit_price,
            role=row.role,
            event=row.event,
            execution_id=row.execution_id,
            fill_qty=row.fill_qty,
            fill_price=row.fill_price,
            commission=row.commission,
            message=row.message,
        )
        try:
            with self._lock, self._sessions.begin() as session:
                if row.execution_id is None:
                    seen = session.scalar(
                        select(LiveOrderRecord.id).where(
                            LiveOrderRecord.run_id == self.run_id,
                            LiveOrderRecord.client_order_id == row.client_order_id,
                            LiveOrderRecord.event == row.event,
                        )
                    )
                    if seen is not None:
                        return False
                session.add(record)
        except IntegrityError:
            return False  # (run_id, execution_id) already booked
        except SQLAlchemyError as exc:
            raise self._fail(f"write order event {row.event} of {row.client_order_id}", exc) from exc
        return True

    def open_scalp(self, row: OpenScalpRow) -> int:
        """Insert the open scalp's row (status ``open``); return its id."""
        record = OptionsScalpRecord(
            run_id=self.run_id,
            signal_id=row.signal_id or None,
            ticker=row.ticker,
            option_symbol=row.option_symbol,
            option_type=row.option_type,
            strike=float(row.strike),
            expiry=row.expiry,
            dte=int(row.dte),
            direction=row.direction,
            contracts=int(row.contracts),
            entry_premium=float(row.entry_premium),
            entry_delta=row.entry_delta,
            entry_theta=row.entry_theta,
            entry_iv=row.entry_iv,
            status="open",
            broker=self.broker,
            order_id=row.order_id or None,
            entry_time=naive_utc(row.entry_time),
            metadata_json=json.dumps(row.metadata, sort_keys=True, default=str),
        )
        try:
            with self._lock, self._sessions.begin() as session:
                session.add(record)
                session.flush()
                return int(record.id)
        except SQLAlchemyError as exc:
            raise self._fail(f"write the open scalp {row.option_symbol}", exc) from exc

    def update_open_scalp(self, row_id: int, contracts: int, entry_premium: float) -> None:
        """A later entry fill (a partial, the add): the row's size and average premium."""
        self._update(row_id, {"contracts": int(contracts), "entry_premium": float(entry_premium)})

    def close_scalp(self, row_id: int | None, scalp: ClosedScalp) -> int:
        """Mark the open row ``row_id`` closed with ``scalp``'s figures (None: insert it closed)."""
        values: dict[str, Any] = {
            "contracts": int(scalp.contracts),
            "entry_premium": float(scalp.entry_premium),
            "exit_premium": float(scalp.exit_premium),
            "status": scalp.status,
            "exit_reason": scalp.exit_reason,
            "pnl": float(scalp.pnl),
            "pnl_pct": float(scalp.pnl_pct),
            "exit_time": naive_utc(scalp.exit_time),
            "metadata_json": metadata_json(scalp),
        }
        if row_id is None:
            from journal.writer import to_record

            record = to_record(scalp, self.run_id)
            record.broker = self.broker
            try:
                with self._lock, self._sessions.begin() as session:
                    session.add(record)
                    session.flush()
                    row_id = int(record.id)
            except SQLAlchemyError as exc:
                raise self._fail(f"write the closed scalp {scalp.option_symbol}", exc) from exc
        else:
            values["metadata_json"] = self._merged_metadata(row_id, values["metadata_json"])
            self._update(row_id, values)
        self.scalps_closed += 1
        return row_id

    def _merged_metadata(self, row_id: int, closing: str) -> str:
        """The closed scalp's metadata, keeping what only the open row knew (e.g. the venue's greeks)."""
        try:
            with self._lock, self.engine.connect() as conn:
                old = conn.scalar(
                    select(OptionsScalpRecord.metadata_json).where(OptionsScalpRecord.id == row_id)
                )
        except SQLAlchemyError as exc:
            raise self._fail(f"read scalp row {row_id}", exc) from exc
        try:
            opened = json.loads(old) if old else {}
        except ValueError:
            opened = {}
        merged = {**opened, **json.loads(closing)} if isinstance(opened, dict) else json.loads(closing)
        return json.dumps(merged, sort_keys=True, default=str)

    def mark_expired(self, row_id: int, note: str) -> None:
        """An open row whose contract expired while no runtime ran and that the broker no longer holds."""
        self._update(
            row_id,
            {"status": "expired", "exit_reason": "expiry", "metadata_json": json.dumps({"note": note})},
        )

    def _update(self, row_id: int, values: dict[str, Any]) -> None:
        try:
            with self._lock, self.engine.begin() as conn:
                conn.execute(
                    update(OptionsScalpRecord).where(OptionsScalpRecord.id == row_id).values(**values)
                )
        except SQLAlchemyError as exc:
            raise self._fail(f"update scalp row {row_id}", exc) from exc

    def heartbeat(self, row: HeartbeatRow | None, chains: Sequence[ChainRow] = ()) -> None:
        """Append the heartbeat ``row`` (None: none this time) and the ``chains`` rows, in one transaction."""
        records: list[Any] = [self._chain_record(c) for c in chains]
        if row is not None:
            records.append(self._heartbeat_record(row))
        if not records:
            return
        try:
            with self._lock, self._sessions.begin() as session:
                session.add_all(records)
        except SQLAlchemyError as exc:
            raise self._fail("write the heartbeat", exc) from exc

    def _chain_record(self, row: ChainRow) -> LiveChainRecord:
        return LiveChainRecord(
            run_id=self.run_id,
            underlying=row.underlying,
            minute=naive_utc(row.minute),
            underlying_price=float(row.underlying_price),
            contracts=row.contracts,
            payload_json=json.dumps(row.payload, separators=(",", ":")),
        )

    def _heartbeat_record(self, row: HeartbeatRow) -> HeartbeatRecord:
        return HeartbeatRecord(
            run_id=self.run_id,
            ts=naive_utc(row.ts),
            bar_time=naive_utc(row.bar_time) if row.bar_time else None,
            state=row.state,
            data_state=row.data_state,
            underlying=row.underlying,
            underlying_price=row.underlying_price,
            day_pnl=row.day_pnl,
            open_scalps=len(row.open_scalps),
            open_scalps_json=json.dumps(row.open_scalps, default=str),
            message=row.message,
        )

    def run_row(self) -> RunRecord | None:
        with self._sessions() as session:
            return session.get(RunRecord, self.run_id)

    def close(self) -> None:
        self.engine.dispose()


__all__ = [
    "LIVE_MODES",
    "ChainRow",
    "HeartbeatRow",
    "LiveJournal",
    "OpenScalpRow",
    "OrderEventRow",
    "account_payload",
    "chain_payload",
    "naive_utc",
    "signal_payload",
]
