"""Read the filtered closed scalps once, as a frame and as the ``ClosedScalp`` records the analyzers take.

``load_scalps`` is the one query that reads whole scalp rows (the page caches its
result per journal fingerprint and filters); the tabs aggregate the frame or hand
``closed_scalps(frame)`` to ``analyzers`` (criteria, execution cost), so every
figure is computed by the same code as the backtest report. A row without an
exit (a scalp still open) is not a closed scalp and is left out.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from dashboard.db import Journal
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


def closed_query(filters: Filters) -> Any:
    """SELECT of the closed scalps matching ``filters`` in exit order (then entry, then id)."""
    cols = [getattr(S, c) for c in COLUMNS]
    return (
        select(*cols)
        .where(where(filters), *(getattr(S, c).is_not(None) for c in REQUIRED))
        .order_by(S.exit_time, S.entry_time, S.id)
    )


def _metadata(text: Any) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def load_scalps(journal: Journal, filters: Filters) -> pd.DataFrame:
    """The closed scalps of ``filters`` as a frame: the table's columns (times tz-aware UTC) plus

    ``metadata`` (dict), ``conviction``, ``commission``, ``hold_minutes``, ``win`` (pnl > 0),
    ``entry_day`` / ``entry_hour`` (US/Eastern) and ``exit_day`` (US/Eastern).
    """
    with journal.engine.connect() as conn:
        rows = conn.execute(closed_query(filters)).all()
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    meta = [_metadata(t) for t in frame["metadata_json"]]
    frame["metadata"] = pd.Series(meta, index=frame.index, dtype=object)
    frame["conviction"] = [int(m.get("conviction") or 0) for m in meta]
    frame["commission"] = [float(m.get("commission") or 0.0) for m in meta]
    frame = frame.drop(columns=["metadata_json"])
    for col in ("entry_time", "exit_time"):
        frame[col] = pd.to_datetime(frame[col]).dt.tz_localize(UTC)
    for col in ("strike", "entry_premium", "exit_premium", "pnl", "pnl_pct", "entry_delta", "entry_theta"):
        frame[col] = frame[col].astype(np.float64)
    frame["entry_iv"] = frame["entry_iv"].astype(np.float64)
    frame["hold_minutes"] = (frame["exit_time"] - frame["entry_time"]).dt.total_seconds() / 60.0
    frame["win"] = frame["pnl"] > 0
    entry_et = frame["entry_time"].dt.tz_convert(ET)
    frame["entry_day"] = entry_et.dt.date
    frame["entry_hour"] = entry_et.dt.hour.astype(int)
    frame["exit_day"] = frame["exit_time"].dt.tz_convert(ET).dt.date
    return frame


def _py(ts: pd.Timestamp) -> datetime:
    return ts.to_pydatetime()


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def closed_scalps(frame: pd.DataFrame) -> list[ClosedScalp]:
    """The frame's rows as ``ClosedScalp`` records (metadata without the journal's added keys)."""
    c: dict[str, list[Any]] = {name: frame[name].tolist() for name in _RECORD_COLUMNS}
    out: list[ClosedScalp] = []
    for i in range(len(frame)):
        meta = {k: v for k, v in c["metadata"][i].items() if k not in ("conviction", "commission")}
        out.append(
            ClosedScalp(
                signal_id=c["signal_id"][i] or "",
                ticker=c["ticker"][i],
                option_symbol=c["option_symbol"][i],
                option_type=c["option_type"][i],
                strike=c["strike"][i],
                expiry=_day(c["expiry"][i]),
                dte=int(c["dte"][i]),
                direction=c["direction"][i],
                contracts=int(c["contracts"][i]),
                entry_premium=c["entry_premium"][i],
                exit_premium=c["exit_premium"][i],
                entry_delta=c["entry_delta"][i],
                entry_theta=c["entry_theta"][i],
                entry_iv=c["entry_iv"][i],
                exit_reason=c["exit_reason"][i],
                pnl=c["pnl"][i],
                pnl_pct=c["pnl_pct"][i],
                entry_time=_py(c["entry_time"][i]),
                exit_time=_py(c["exit_time"][i]),
                commission=c["commission"][i],
                conviction=int(c["conviction"][i]),
                status=c["status"][i] or "closed",
                broker=c["broker"][i] or "backtest",
                order_id=c["order_id"][i] or "",
                metadata=meta,
            )
        )
    return out


_RECORD_COLUMNS = (
    *(name for name in COLUMNS if name not in ("id", "run_id", "metadata_json")),
    "metadata",
    "commission",
    "conviction",
)
