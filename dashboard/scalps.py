"""Read the filtered closed scalps once, as a frame and as the ``ClosedScalp`` records the analyzers take.

``load_scalps`` is the one query that reads whole scalp rows (the page caches its
result per journal fingerprint and filters); the tabs aggregate the frame or hand
``closed_scalps(frame)`` to ``analyzers`` (criteria, execution cost), so every
figure is computed by the same code as the backtest report. A row without an
exit (a scalp still open) is not a closed scalp and is left out.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import JSON, String, cast, select, type_coerce

from analyzers.execution import DECISION_ASK_KEY, DEPTH_LIMITED_KEY
from dashboard.db import Journal
from dashboard.gcpause import paused_gc
from dashboard.runs import Filters, where
from journal.models import OptionsScalpRecord
from options_scalper.calendar import ET
from options_scalper.records import ClosedScalp

S = OptionsScalpRecord
COLUMNS = (
    "id",
    "run_id",
    "signal_id",
    "ticker",
    "option_symbol",
    "option_type",
    "strike",
    "expiry",
    "dte",
    "direction",
    "contracts",
    "entry_premium",
    "exit_premium",
    "entry_delta",
    "entry_theta",
    "entry_iv",
    "status",
    "exit_reason",
    "pnl",
    "pnl_pct",
    "broker",
    "order_id",
    "entry_time",
    "exit_time",
    "metadata_json",
)
# the columns a closed scalp cannot do without (NULL: still open, or not a scalp the analyzers can read)
REQUIRED = ("exit_premium", "pnl", "pnl_pct", "exit_time", "exit_reason")


# the metadata keys the analyzers read (analyzers.execution), extracted by the database
META_FLOAT = ("commission", "decision_ask")
META_INT = ("conviction",)
META_BOOL = ("depth_limited",)
_TEXT_COLUMNS = ("entry_time", "exit_time", "expiry")


def _meta(dialect: str) -> Any:
    # SQLite's JSON functions read the TEXT column as it is; PostgreSQL needs it cast to json
    return type_coerce(S.metadata_json, JSON) if dialect == "sqlite" else cast(S.metadata_json, JSON)


def closed_query(filters: Filters, dialect: str = "sqlite") -> Any:
    """SELECT of the closed scalps matching ``filters`` in exit order (then entry, then id).

    Times and the expiry come as text (parsed by pandas in one pass); the metadata
    keys the analyzers use come out of ``metadata_json`` through the database's JSON functions.
    """
    cols: list[Any] = [
        cast(getattr(S, c), String).label(c) if c in _TEXT_COLUMNS else getattr(S, c)
        for c in COLUMNS
        if c != "metadata_json"
    ]
    doc = _meta(dialect)
    cols += [doc[k].as_float().label(k) for k in META_FLOAT]
    cols += [doc[k].as_integer().label(k) for k in META_INT]
    cols += [doc[k].as_boolean().label(k) for k in META_BOOL]
    return (
        select(*cols)
        .where(where(filters), *(getattr(S, c).is_not(None) for c in REQUIRED))
        .order_by(S.exit_time, S.entry_time, S.id)
    )


_NAMES = (*(c for c in COLUMNS if c != "metadata_json"), *META_FLOAT, *META_INT, *META_BOOL)


def load_scalps(journal: Journal, filters: Filters) -> pd.DataFrame:
    """The closed scalps of ``filters`` as a frame: the table's columns (times tz-aware UTC) plus

    ``commission``, ``conviction``, ``decision_ask``, ``depth_limited`` (from ``metadata_json``), ``hold_minutes``,
    ``win`` (pnl > 0), ``entry_day`` / ``entry_hour`` (US/Eastern) and ``exit_day`` (US/Eastern).
    """
    with paused_gc(), journal.engine.connect() as conn:  # 100,000 row tuples: nothing for the collector
        result = conn.execute(closed_query(filters, journal.engine.dialect.name))
        # the driver's tuples as they are (no Row object per scalp): every column is converted below
        rows = result.cursor.fetchall() if result.cursor is not None else []
        result.close()
    columns = list(zip(*rows, strict=True)) or [() for _ in _NAMES]
    # object columns: no per-value conversion into Arrow strings (pandas 3's default) for 100,000 rows
    frame = pd.DataFrame({n: pd.Series(c, dtype=object) for n, c in zip(_NAMES, columns, strict=True)})
    for col in ("entry_time", "exit_time"):
        frame[col] = pd.to_datetime(frame[col], format="ISO8601", utc=True)
    frame["expiry"] = pd.to_datetime(frame["expiry"], format="ISO8601").dt.date
    floats = (
        "strike",
        "entry_premium",
        "exit_premium",
        "pnl",
        "pnl_pct",
        "entry_delta",
        "entry_theta",
        "entry_iv",
    )
    for col in floats:
        frame[col] = frame[col].astype(np.float64)
    for col in ("id", "dte", "contracts"):
        frame[col] = frame[col].astype(np.int64)
    frame["commission"] = frame["commission"].astype(np.float64).fillna(0.0)
    flags = [None if v is None else bool(v) for v in frame["depth_limited"].tolist()]  # SQLite's JSON: 0 / 1
    frame["depth_limited"] = pd.Series(flags, index=frame.index, dtype=object)
    frame["conviction"] = frame["conviction"].fillna(0).astype(int)
    frame["hold_minutes"] = (frame["exit_time"] - frame["entry_time"]).dt.total_seconds() / 60.0
    frame["win"] = frame["pnl"] > 0
    entry_et = frame["entry_time"].dt.tz_convert(ET)
    frame["entry_day"] = entry_et.dt.date
    frame["entry_hour"] = entry_et.dt.hour.astype(int)
    frame["exit_day"] = frame["exit_time"].dt.tz_convert(ET).dt.date
    return frame


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def closed_scalps(frame: pd.DataFrame) -> list[ClosedScalp]:
    """The frame's rows as ``ClosedScalp`` records (metadata without the journal's added keys).

    Each column is converted once (not per value) and each record filled from its
    row in one step: a frozen dataclass's ``__init__`` sets its 25 fields one
    ``object.__setattr__`` at a time, which for 100,000 scalps is most of the cost.
    ``ClosedScalp`` has no ``__post_init__`` or slots, so the records are the ones
    ``__init__`` would build (every field set, from the same values).
    """
    n = len(frame)
    c: dict[str, list[Any]] = {name: frame[name].tolist() for name in _RECORD_COLUMNS if name not in _TIMES}
    for name in _TIMES:
        c[name] = list(frame[name].dt.to_pydatetime())
    c["expiry"] = [_day(v) for v in c["expiry"]]
    for name in ("dte", "contracts", "conviction"):
        c[name] = [int(v) for v in c[name]]
    for name, default in (("signal_id", ""), ("status", "closed"), ("broker", "backtest"), ("order_id", "")):
        c[name] = [v or default for v in c[name]]
    # the metadata keys analyzers.execution reads (None: the scalp did not record it)
    c["metadata"] = [
        {k: v for k, v in ((DECISION_ASK_KEY, a), (DEPTH_LIMITED_KEY, d)) if v is not None and v == v}
        for a, d in zip(frame["decision_ask"].tolist(), frame["depth_limited"].tolist(), strict=True)
    ]
    columns = [c[name] for name in _FIELDS]
    out: list[ClosedScalp] = []
    new = object.__new__
    with paused_gc():
        for values in zip(*columns, strict=True) if n else ():
            record = new(ClosedScalp)
            record.__dict__.update(zip(_FIELDS, values, strict=True))
            out.append(record)
    return out


_TIMES = ("entry_time", "exit_time")
_RECORD_COLUMNS = (
    *(name for name in COLUMNS if name not in ("id", "run_id", "metadata_json")),
    "commission",
    "conviction",
)
_FIELDS = tuple(f.name for f in fields(ClosedScalp))
if set(_FIELDS) != {*_RECORD_COLUMNS, "metadata"}:  # a new ClosedScalp field must be read here too
    missing = set(_FIELDS) ^ {*_RECORD_COLUMNS, "metadata"}
    raise ImportError(f"dashboard.scalps does not fill the ClosedScalp fields {sorted(missing)}")
