"""What a live restart reads back from the journal: open scalps, orders, today's realized P&L.

All reads are scoped to one broker account (``runs.broker`` / ``runs.account``) and
to real runs (paper, live) or dry runs (``dry_run=True``: a dry run's simulated
positions never meet a real one's), whatever run wrote the rows, so a new run of ``run_live.py`` sees what every earlier
run on that account left open. Values are plain dataclasses (aware UTC times).

``chain_minutes`` / ``recorded_chain`` read back the chain snapshots a run's strategy
was served (``live_chains``, revision 140) as the ``ChainSnapshot`` it decided on, with the
account its pipeline was given and the signals it entered on at that minute (payload fields
``account`` / ``signals``; absent from rows written before they were recorded).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from journal.errors import JournalError
from journal.live import OpenScalpRow
from journal.models import LiveChainRecord, LiveOrderRecord, OptionsScalpRecord, RunRecord
from options_scalper.model import AccountState, ChainSnapshot, Direction
from options_scalper.records import ClosedScalp

TERMINAL_EVENTS = frozenset({"fill", "canceled", "expired", "rejected"})


def aware(ts: datetime | None) -> datetime | None:
    return None if ts is None else ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


@dataclass(frozen=True, kw_only=True)
class JournalScalp(OpenScalpRow):
    """An ``options_scalps`` row still ``open``: the ``OpenScalpRow`` written, with its row id and run."""

    row_id: int
    run_id: str | None


@dataclass(frozen=True)
class JournalOrder:
    """One order's events summed up: its last event and the quantity its fills booked."""

    client_order_id: str
    run_id: str
    venue_order_id: str | None
    option_symbol: str
    side: str
    qty: int
    role: str | None
    last_event: str
    filled_qty: int

    @property
    def working(self) -> bool:
        """Not known to be done: no cancel/expiry/rejection and not fully filled."""
        if self.last_event in ("canceled", "expired", "rejected"):
            return False
        return self.filled_qty < self.qty


def _account_runs(engine: Engine, broker: str, account: str, dry_run: bool = False) -> list[str]:
    """The runs of ``broker``/``account``: the paper and live ones, or (``dry_run``) the dry ones."""
    modes = ("dry_run",) if dry_run else ("paper", "live")
    with engine.connect() as conn:
        rows = conn.execute(
            select(RunRecord.run_id).where(
                RunRecord.broker == broker, RunRecord.account == account, RunRecord.mode.in_(modes)
            )
        )
        return [r[0] for r in rows]


def _read(what: str, fn: Any) -> Any:
    try:
        return fn()
    except SQLAlchemyError as exc:
        raise JournalError(f"journal: cannot read {what}: {str(exc).splitlines()[0]}") from exc


def open_scalps(engine: Engine, broker: str, account: str, dry_run: bool = False) -> list[JournalScalp]:
    """Every ``open`` scalp row journaled by a run of ``broker``/``account``, oldest first."""

    def go() -> list[JournalScalp]:
        runs = _account_runs(engine, broker, account, dry_run)
        if not runs:
            return []
        with engine.connect() as conn:
            rows = conn.execute(
                select(OptionsScalpRecord)
                .where(OptionsScalpRecord.run_id.in_(runs), OptionsScalpRecord.status == "open")
                .order_by(OptionsScalpRecord.id)
            ).all()
        return [
            JournalScalp(
                row_id=r.id, run_id=r.run_id, signal_id=r.signal_id or "", ticker=r.ticker,
                option_symbol=r.option_symbol, option_type=r.option_type, strike=r.strike,
                expiry=r.expiry, dte=r.dte, direction=r.direction, contracts=r.contracts,
                entry_premium=r.entry_premium, entry_time=aware(r.entry_time),  # type: ignore[arg-type]
                entry_delta=r.entry_delta, entry_theta=r.entry_theta, entry_iv=r.entry_iv,
                order_id=r.order_id or "", metadata=json.loads(r.metadata_json) if r.metadata_json else {},
            )
            for r in rows
        ]  # fmt: skip

    result: list[JournalScalp] = _read("the open scalps", go)
    return result


def summarize_orders(rows: Iterable[Any]) -> list[JournalOrder]:
    """``live_orders`` rows (any order) -> one ``JournalOrder`` per client order id, first seen first."""
    orders: dict[str, dict[str, Any]] = {}
    for r in rows:
        o = orders.setdefault(
            r.client_order_id,
            {"run_id": r.run_id, "venue": r.venue_order_id, "symbol": r.option_symbol, "side": r.side,
             "qty": r.qty, "role": r.role, "last": r.event, "filled": 0},
        )  # fmt: skip
        o["venue"] = o["venue"] or r.venue_order_id
        o["role"] = o["role"] or r.role
        if r.event in ("partial_fill", "fill") and r.fill_qty:
            o["filled"] += int(r.fill_qty)
        if o["last"] not in ("canceled", "expired", "rejected"):
            o["last"] = r.event
    return [
        JournalOrder(coid, o["run_id"], o["venue"], o["symbol"], o["side"], int(o["qty"]), o["role"],
                     o["last"], o["filled"])
        for coid, o in orders.items()
    ]  # fmt: skip


def account_orders(engine: Engine, broker: str, account: str, dry_run: bool = False) -> list[JournalOrder]:
    """Every order a run of ``broker``/``account`` journaled, summed up per client order id."""

    def go() -> list[JournalOrder]:
        runs = _account_runs(engine, broker, account, dry_run)
        if not runs:
            return []
        with engine.connect() as conn:
            rows = conn.execute(
                select(LiveOrderRecord)
                .where(LiveOrderRecord.run_id.in_(runs))
                .order_by(LiveOrderRecord.ts, LiveOrderRecord.id)
            ).all()
        return summarize_orders(rows)

    result: list[JournalOrder] = _read("the live orders", go)
    return result


def realized_today(
    engine: Engine, broker: str, account: str, day: date, tz: Any, dry_run: bool = False
) -> float:
    """Net P&L of the account's scalps closed on session ``day`` (``tz``: US/Eastern)."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC).replace(tzinfo=None)
    end = start + timedelta(days=1)

    def go() -> float:
        runs = _account_runs(engine, broker, account, dry_run)
        if not runs:
            return 0.0
        with engine.connect() as conn:
            rows = conn.execute(
                select(OptionsScalpRecord.pnl).where(
                    OptionsScalpRecord.run_id.in_(runs),
                    OptionsScalpRecord.status.in_(("closed", "expired")),
                    OptionsScalpRecord.exit_time >= start,
                    OptionsScalpRecord.exit_time < end,
                )
            ).all()
        return float(sum(r[0] for r in rows if r[0] is not None))

    result: float = _read("today's realized P&L", go)
    return result


def run_closed_scalps(engine: Engine, run_id: str) -> list[ClosedScalp]:
    """The closed scalps a run journaled, by entry time (what ``--compare-with`` compares)."""

    def go() -> list[ClosedScalp]:
        with engine.connect() as conn:
            rows = conn.execute(
                select(OptionsScalpRecord)
                .where(
                    OptionsScalpRecord.run_id == run_id, OptionsScalpRecord.status.in_(("closed", "expired"))
                )
                .order_by(OptionsScalpRecord.entry_time, OptionsScalpRecord.id)
            ).all()
        out = []
        for r in rows:
            meta = json.loads(r.metadata_json) if r.metadata_json else {}
            out.append(
                ClosedScalp(
                    signal_id=r.signal_id or "", ticker=r.ticker, option_symbol=r.option_symbol,
                    option_type=r.option_type, strike=r.strike, expiry=r.expiry, dte=r.dte,
                    direction=r.direction, contracts=r.contracts, entry_premium=r.entry_premium,
                    exit_premium=r.exit_premium if r.exit_premium is not None else float("nan"),
                    entry_delta=r.entry_delta or 0.0, entry_theta=r.entry_theta or 0.0,
                    entry_iv=r.entry_iv or 0.0, exit_reason=r.exit_reason or "",
                    pnl=r.pnl if r.pnl is not None else float("nan"),
                    pnl_pct=r.pnl_pct if r.pnl_pct is not None else float("nan"),
                    entry_time=aware(r.entry_time),  # type: ignore[arg-type]
                    exit_time=aware(r.exit_time or r.entry_time),  # type: ignore[arg-type]
                    commission=float(meta.get("commission") or 0.0),
                    conviction=int(meta.get("conviction") or 0), status=r.status or "closed",
                    broker=r.broker or "", order_id=r.order_id or "", metadata=meta,
                )
            )  # fmt: skip
        return out

    result: list[ClosedScalp] = _read(f"the scalps of run {run_id}", go)
    return result


def latest_live_run(engine: Engine) -> str | None:
    """The most recent live/paper/dry-run run id in the journal (None: none)."""

    def go() -> str | None:
        with engine.connect() as conn:
            row = conn.execute(
                select(RunRecord.run_id)
                .where(RunRecord.mode.in_(("paper", "live", "dry_run")))
                .order_by(RunRecord.started_at.desc())
                .limit(1)
            ).first()
        return None if row is None else str(row[0])

    result: str | None = _read("the live runs", go)
    return result


@dataclass(frozen=True)
class RecordedSignal:
    """A signal the run entered on at a recorded chain's minute."""

    signal_id: str
    direction: Direction
    conviction: int
    trigger: str


@dataclass(frozen=True)
class RecordedChain:
    """A served chain snapshot read back: the snapshot, the pipeline's IV history, each quote's venue time.

    ``account``: what the strategy's pipeline was given at that minute (None: not recorded);
    ``signals``: the signals it entered on at that minute (empty: none, or not recorded).
    """

    run_id: str
    snapshot: ChainSnapshot
    iv_history: tuple[float, ...]
    quote_time: tuple[datetime | None, ...]
    account: AccountState | None = None
    signals: tuple[RecordedSignal, ...] = ()


def account_of(payload: dict[str, Any]) -> AccountState | None:
    """The ``account`` of a chain payload (``journal.live.account_payload``'s inverse); None: not recorded."""
    a = payload.get("account")
    if not a:
        return None
    return AccountState(
        equity=float(a["equity"]),
        cash=float(a["cash"]),
        open_scalps=int(a.get("open_scalps") or 0),
        scalps_today=int(a.get("scalps_today") or 0),
        open_symbols=tuple(str(s) for s in a.get("open_symbols") or ()),
    )


def signals_of(payload: dict[str, Any]) -> tuple[RecordedSignal, ...]:
    """The ``signals`` of a chain payload (``journal.live.signal_payload``'s inverse)."""
    return tuple(
        RecordedSignal(
            str(s["signal_id"]), Direction(s["direction"]), int(s["conviction"]), str(s["trigger"])
        )
        for s in payload.get("signals") or ()
    )


def chain_minutes(engine: Engine, run_id: str) -> list[tuple[str, datetime]]:
    """(underlying, minute aware UTC) of every chain snapshot ``run_id`` recorded, by minute."""

    def go() -> list[tuple[str, datetime]]:
        with engine.connect() as conn:
            rows = conn.execute(
                select(LiveChainRecord.underlying, LiveChainRecord.minute)
                .where(LiveChainRecord.run_id == run_id)
                .order_by(LiveChainRecord.minute, LiveChainRecord.underlying)
            ).all()
        return [(str(u), aware(m)) for u, m in rows]  # type: ignore[misc]

    result: list[tuple[str, datetime]] = _read(f"the recorded chains of run {run_id}", go)
    return result


def _floats(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def snapshot_of(underlying: str, minute: datetime, price: float, payload: dict[str, Any]) -> ChainSnapshot:
    """The ``ChainSnapshot`` of a ``live_chains`` payload (``journal.live.chain_payload``'s inverse)."""
    by_age = payload.get("underlying_by_age")
    return ChainSnapshot(
        underlying=underlying,
        ts=minute,
        underlying_price=float(price),
        symbol=np.array(payload["symbol"], dtype=object),
        expiry=np.array(payload["expiry"], dtype="datetime64[D]"),
        is_call=np.array(payload["is_call"], dtype=bool),
        strike=_floats(payload["strike"]),
        bid=_floats(payload["bid"]),
        ask=_floats(payload["ask"]),
        bid_size=_floats(payload["bid_size"]),
        ask_size=_floats(payload["ask_size"]),
        quote_age_min=_floats(payload["quote_age_min"]),
        open_interest=_floats(payload["open_interest"]),
        volume=_floats(payload["volume"]),
        oi_known=bool(payload.get("oi_known")),
        volume_known=bool(payload.get("volume_known")),
        half_day=bool(payload.get("half_day")),
        underlying_by_age=None if by_age is None else _floats(by_age),
    )


def recorded_chain(engine: Engine, run_id: str, underlying: str, minute: datetime) -> RecordedChain | None:
    """The chain snapshot ``run_id`` was served for ``underlying`` at ``minute`` (aware UTC); None: not recorded."""
    at = minute.astimezone(UTC).replace(tzinfo=None) if minute.tzinfo else minute

    def go() -> RecordedChain | None:
        with engine.connect() as conn:
            row = conn.execute(
                select(LiveChainRecord).where(
                    LiveChainRecord.run_id == run_id,
                    LiveChainRecord.underlying == underlying,
                    LiveChainRecord.minute == at,
                )
            ).first()
        if row is None:
            return None
        r = row  # a Core row: one attribute per column
        payload = json.loads(r.payload_json)
        when = r.minute.replace(tzinfo=UTC)
        return RecordedChain(
            run_id=run_id,
            snapshot=snapshot_of(r.underlying, when, r.underlying_price, payload),
            iv_history=tuple(float(v) for v in payload.get("iv_history") or ()),
            quote_time=tuple(
                None if t is None else aware(datetime.fromisoformat(t)) for t in payload["quote_time"]
            ),
            account=account_of(payload),
            signals=signals_of(payload),
        )

    result: RecordedChain | None = _read(f"the recorded chain of run {run_id}", go)
    return result


__all__ = [
    "TERMINAL_EVENTS",
    "JournalOrder",
    "JournalScalp",
    "RecordedChain",
    "RecordedSignal",
    "account_of",
    "account_orders",
    "chain_minutes",
    "latest_live_run",
    "open_scalps",
    "realized_today",
    "recorded_chain",
    "run_closed_scalps",
    "signals_of",
    "snapshot_of",
    "summarize_orders",
]
