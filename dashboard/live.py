"""Live Scalps: the live run's last heartbeat, its open scalps counting down, its latest order events.

Reads ``runs`` (``mode`` paper / live / dry_run), ``live_heartbeats`` and
``live_orders`` exactly as ``journal.models`` documents them (revision 139). A
live run is *active* while its ``runs.status`` is ``running``; its heartbeat is
*stale* when the newest one is older than ``STALE_AFTER_S`` (the runtime writes one
a minute). Times are naive UTC in the journal and aware UTC here.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.db import Journal
from journal.models import HeartbeatRecord, LiveOrderRecord, RunRecord
from options_scalper.calendar import Settlement, expiry_time_utc

LIVE_MODES = ("paper", "live", "dry_run")
STALE_AFTER_S = 150.0  # two and a half heartbeat intervals
ORDER_ROWS = 20
SCALP_KEYS = (
    "ticker",
    "option_symbol",
    "option_type",
    "strike",
    "expiry",
    "contracts",
    "entry_premium",
    "entry_time",
    "bid",
    "ask",
    "pnl",
    "pnl_pct",
    "delta_entry",
    "theta_entry",
    "iv_entry",
    "delta_now",
    "theta_now",
    "iv_now",
    "cutoff",
)


def _aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


@dataclass(frozen=True)
class Heartbeat:
    """One ``live_heartbeats`` row (times aware UTC; ``scalps``: the parsed ``open_scalps_json``)."""

    run_id: str
    ts: datetime
    bar_time: datetime | None
    state: str
    data_state: str | None
    underlying: str | None
    underlying_price: float | None
    day_pnl: float | None
    open_scalps: int | None
    scalps: tuple[dict[str, Any], ...]
    message: str | None


@dataclass(frozen=True)
class LiveStatus:
    """What the tab says first: ``kind`` is ``none`` (no active live run), ``waiting`` (active, no
    heartbeat yet), ``stale`` or ``ok``; ``text`` is the sentence shown."""

    kind: str
    text: str
    run: dict[str, Any] | None = None
    heartbeat: Heartbeat | None = None
    age_s: float | None = None


def live_runs(journal: Journal) -> pd.DataFrame:
    """Every live / paper / dry-run run, newest first."""
    cols = [
        "run_id",
        "strategy",
        "mode",
        "broker",
        "account",
        "status",
        "symbols",
        "started_at",
        "finished_at",
    ]
    query = (
        select(*(getattr(RunRecord, c) for c in cols))
        .where(RunRecord.mode.in_(LIVE_MODES))
        .order_by(RunRecord.started_at.desc(), RunRecord.run_id.desc())
    )
    with journal.engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=cols)


def _scalps(text: str | None) -> tuple[dict[str, Any], ...]:
    if not text:
        return ()
    try:
        value = json.loads(text)
    except ValueError:
        return ()
    return tuple(v for v in value if isinstance(v, dict)) if isinstance(value, list) else ()


def latest_heartbeat(journal: Journal, run_id: str) -> Heartbeat | None:
    """The newest heartbeat of ``run_id`` (None when it has none or the journal predates revision 139)."""
    if not journal.has_live_tables:
        return None
    h = HeartbeatRecord
    query = select(h).where(h.run_id == run_id).order_by(h.ts.desc(), h.id.desc()).limit(1)
    with Session(journal.engine) as session:
        row = session.scalars(query).first()
    if row is None:
        return None
    return Heartbeat(
        run_id=row.run_id,
        ts=_aware(row.ts) or datetime.now(UTC),
        bar_time=_aware(row.bar_time),
        state=row.state,
        data_state=row.data_state,
        underlying=row.underlying,
        underlying_price=row.underlying_price,
        day_pnl=row.day_pnl,
        open_scalps=row.open_scalps,
        scalps=_scalps(row.open_scalps_json),
        message=row.message,
    )


def live_status(journal: Journal, now: datetime, run_id: str | None = None) -> LiveStatus:
    """The status of ``run_id`` (default: the newest active live run) at ``now`` (aware UTC)."""
    if not journal.has_live_tables:
        return LiveStatus("none", "no live run active: this journal has no live tables (before revision 139)")
    runs = live_runs(journal)
    if run_id is None:
        active = runs[runs["status"] == "running"]
        if active.empty:
            last = (
                "" if runs.empty else f" (last live run {runs.iloc[0]['run_id']}: {runs.iloc[0]['status']})"
            )
            return LiveStatus("none", f"no live run active{last}")
        run = {str(k): v for k, v in active.iloc[0].items()}
    else:
        picked = runs[runs["run_id"] == run_id]
        if picked.empty:
            return LiveStatus("none", f"no live run {run_id} in this journal")
        run = {str(k): v for k, v in picked.iloc[0].items()}
    beat = latest_heartbeat(journal, str(run["run_id"]))
    if run["status"] != "running":
        return LiveStatus("none", f"no live run active (run {run['run_id']} is {run['status']})", run, beat)
    if beat is None:
        return LiveStatus(
            "waiting", f"live run {run['run_id']} is running but has written no heartbeat yet", run
        )
    age = (now - beat.ts).total_seconds()
    if age > STALE_AFTER_S:
        text = f"heartbeat stale (last at {beat.ts:%H:%M:%S} UTC, {age:.0f} s ago)"
        return LiveStatus("stale", text, run, beat, age)
    return LiveStatus("ok", f"heartbeat at {beat.ts:%H:%M:%S} UTC ({age:.0f} s ago)", run, beat, age)


def countdown(seconds: float | None) -> str:
    """``1h 02m 03s`` / ``4m 05s`` / ``passed`` (None: ``n/a``)."""
    if seconds is None or pd.isna(seconds):
        return "n/a"
    if seconds <= 0:
        return "passed"
    s = int(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}h {m:02d}m {sec:02d}s" if h else f"{m}m {sec:02d}s"


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return _aware(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def open_scalps_frame(beat: Heartbeat | None, now: datetime) -> pd.DataFrame:
    """The heartbeat's open scalps, one row each, with seconds (and countdowns) to expiry and cutoff."""
    cols = [*SCALP_KEYS, "to_expiry_s", "to_expiry", "to_cutoff_s", "to_cutoff"]
    if beat is None or not beat.scalps:
        return pd.DataFrame(columns=cols)
    rows = []
    for s in beat.scalps:
        row = {k: s.get(k) for k in SCALP_KEYS}
        expiry = None
        with contextlib.suppress(ValueError):
            expiry = date.fromisoformat(str(s.get("expiry")))
        to_expiry = (expiry_time_utc(expiry, Settlement.PM) - now).total_seconds() if expiry else None
        cutoff = _when(s.get("cutoff"))
        to_cutoff = (cutoff - now).total_seconds() if cutoff else None
        row.update(
            to_expiry_s=to_expiry,
            to_expiry=countdown(to_expiry),
            to_cutoff_s=to_cutoff,
            to_cutoff=countdown(to_cutoff),
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


NA_COLUMNS = ("bid", "ask", *(k for k in SCALP_KEYS if k.endswith(("_entry", "_now"))))


def shown_scalps(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` for the page: a missing bid / ask or greek (the runtime writes ``delta_now`` /
    ``theta_now`` / ``iv_now`` as null until it re-prices greeks) reads ``n/a``, not a blank cell."""
    out = frame.copy()
    for col in NA_COLUMNS:
        if col in out.columns and out[col].isna().any():
            out[col] = out[col].astype(object).where(out[col].notna(), "n/a")
    return out


def recent_orders(journal: Journal, run_id: str, rows: int = ORDER_ROWS) -> pd.DataFrame:
    """The newest ``rows`` order events of ``run_id`` (newest first)."""
    cols = [
        "ts",
        "event",
        "role",
        "side",
        "option_symbol",
        "qty",
        "limit_price",
        "fill_qty",
        "fill_price",
        "message",
    ]
    if not journal.has_live_tables:
        return pd.DataFrame(columns=cols)
    o = LiveOrderRecord
    query = (
        select(*(getattr(o, c) for c in cols))
        .where(o.run_id == run_id)
        .order_by(o.ts.desc(), o.id.desc())
        .limit(rows)
    )
    with journal.engine.connect() as conn:
        found = conn.execute(query).all()
    return pd.DataFrame(found, columns=cols)
