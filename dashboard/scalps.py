"""Read the filtered closed scalps once, as a frame of typed columns.

``load_scalps`` is the one query that reads whole scalp rows (the page caches its
result per journal fingerprint and filters); the tabs aggregate the frame or hand
its columns to ``analyzers`` (``analyzers.columns.ScalpColumns.from_frame``: criteria,
execution cost), so every figure is computed by the same code as the backtest report.
A row without an exit (a scalp still open) is not a closed scalp and is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import JSON, String, cast, select, type_coerce

from analyzers.columns import (
    DECISION_ASK_KEY,
    DEPTH_LIMITED_KEY,
    NS_PER_DAY,
    NS_PER_HOUR,
    as_date,
    eastern_wall_ns,
)
from dashboard.db import Journal
from dashboard.runs import Filters, where
from journal.models import OptionsScalpRecord

S = OptionsScalpRecord
# what the tabs and trades.csv read (not status, broker, order_id: no figure uses them)
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
    "exit_reason",
    "pnl",
    "pnl_pct",
    "entry_time",
    "exit_time",
)
# the columns a closed scalp cannot do without (NULL: still open, or not a scalp the analyzers can read)
REQUIRED = ("exit_premium", "pnl", "pnl_pct", "exit_time", "exit_reason")


# the metadata keys the tabs read, extracted by the database
META_FLOAT = ("commission", DECISION_ASK_KEY)
META_INT = ("conviction",)
META_BOOL = (DEPTH_LIMITED_KEY,)
ALL_COLUMNS = (*COLUMNS, *META_FLOAT, *META_INT, *META_BOOL)
# always read: the order, the run and what the derived columns come from
BASE_COLUMNS = ("id", "run_id", "entry_time", "exit_time", "pnl")
DERIVED = ("hold_minutes", "win", "entry_day", "entry_hour", "exit_day")
_TEXT_COLUMNS = ("entry_time", "exit_time", "expiry")
_OBJECTS = ("run_id", "signal_id", "ticker", "option_symbol", "option_type", "direction", "exit_reason")
_FLOATS = (
    "strike",
    "entry_premium",
    "exit_premium",
    "entry_delta",
    "entry_theta",
    "entry_iv",
    "pnl",
    "pnl_pct",
    DECISION_ASK_KEY,
)
_INTS = ("id", "dte", "contracts")


def _meta(dialect: str) -> Any:
    # SQLite's JSON functions read the TEXT column as it is; PostgreSQL needs it cast to json
    return type_coerce(S.metadata_json, JSON) if dialect == "sqlite" else cast(S.metadata_json, JSON)


def _selected(columns: Sequence[str]) -> tuple[str, ...]:
    unknown = [c for c in columns if c not in ALL_COLUMNS]
    if unknown:
        raise ValueError(f"load_scalps: no column {', '.join(unknown)}; one of {', '.join(ALL_COLUMNS)}")
    return tuple(c for c in ALL_COLUMNS if c in {*BASE_COLUMNS, *columns})


def closed_query(filters: Filters, dialect: str = "sqlite", columns: Sequence[str] = ALL_COLUMNS) -> Any:
    """SELECT of ``columns`` (and ``BASE_COLUMNS``) of the closed scalps matching ``filters``, columns in
    ``ALL_COLUMNS`` order, rows unordered (``load_scalps`` sorts the parsed times: cheaper than the database's
    sort of the whole rows).

    Times and the expiry come as text (parsed by pandas in one pass); the metadata
    keys come out of ``metadata_json`` through the database's JSON functions.
    """
    doc = _meta(dialect)

    def column(name: str) -> Any:
        if name in META_FLOAT:
            return doc[name].as_float().label(name)
        if name in META_INT:
            return doc[name].as_integer().label(name)
        if name in META_BOOL:
            return doc[name].as_boolean().label(name)
        attr = getattr(S, name)
        return cast(attr, String).label(name) if name in _TEXT_COLUMNS else attr

    return select(*(column(c) for c in _selected(columns))).where(
        where(filters), *(getattr(S, c).is_not(None) for c in REQUIRED)
    )


def _fetch(journal: Journal, filters: Filters, names: tuple[str, ...]) -> np.ndarray:
    """The query's rows as one object array (row x column) from one ``fetchall``."""
    # no garbage-collector pause here: measured on 100,000 rows it cost more CPU than it saved
    with journal.engine.connect() as conn:
        result = conn.execute(closed_query(filters, journal.engine.dialect.name, names))
        # the driver's tuples as they are (no Row object per scalp); numpy splits them into columns in C
        rows = result.cursor.fetchall() if result.cursor is not None else []
        result.close()
        return np.array(rows, dtype=object).reshape(len(rows), len(names))


def _as_day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _dates(values: np.ndarray, to_date: Any) -> np.ndarray:
    """``values`` as ``datetime.date`` objects, one conversion per distinct value."""
    codes, distinct = pd.factorize(values)
    return np.array([to_date(v) for v in distinct], dtype=object)[codes]


def _wall_days(wall_ns: np.ndarray) -> np.ndarray:
    return _dates((wall_ns // NS_PER_DAY).astype("datetime64[D]"), as_date)


def _ns(times: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(times.as_unit("ns").asi8, dtype=np.int64)


def _typed(name: str, values: np.ndarray) -> Any:
    if name in _OBJECTS:
        return pd.Series(np.ascontiguousarray(values), dtype=object)
    if name in _FLOATS:
        return values.astype(np.float64)  # None: NaN
    if name in _INTS:
        return values.astype(np.int64)
    if name in ("entry_time", "exit_time"):
        return pd.DatetimeIndex(pd.to_datetime(values, format="ISO8601", utc=True))
    if name == "expiry":
        return _dates(values, _as_day)
    if name == "commission":
        return np.nan_to_num(values.astype(np.float64), nan=0.0)
    if name == "conviction":
        return np.where(pd.isna(values), 0, values).astype(np.int64)
    # depth_limited: SQLite's JSON gives 0 / 1, PostgreSQL's a bool; <NA> when not recorded
    unknown = pd.isna(values)
    return pd.arrays.BooleanArray(np.where(unknown, False, values).astype(bool), unknown)


def load_scalps(journal: Journal, filters: Filters, columns: Sequence[str] = ALL_COLUMNS) -> pd.DataFrame:
    """The closed scalps of ``filters`` in exit order: ``columns`` of ``ALL_COLUMNS`` (and ``BASE_COLUMNS``) plus

    ``DERIVED``: ``hold_minutes``, ``win`` (pnl > 0), ``entry_day`` / ``entry_hour`` and ``exit_day``
    (US/Eastern). Times are tz-aware UTC, ``expiry`` a date, text objects; of ``metadata_json``,
    ``commission`` / ``conviction`` are 0.0 / 0, ``decision_ask`` NaN, ``depth_limited`` (pandas' ``boolean``)
    <NA> when not recorded.
    """
    names = _selected(columns)
    table = _fetch(journal, filters, names)
    at = {n: i for i, n in enumerate(names)}
    entry, exit_ = (_typed(n, table[:, at[n]]) for n in ("entry_time", "exit_time"))
    order = np.lexsort((table[:, at["id"]].astype(np.int64), _ns(entry), _ns(exit_)))  # exit, entry, id
    entry, exit_, table = entry[order], exit_[order], table[order]
    data = {n: _typed(n, table[:, at[n]]) for n in names if n not in ("entry_time", "exit_time")}
    data["entry_time"], data["exit_time"] = entry, exit_
    data["hold_minutes"] = (exit_ - entry).total_seconds().to_numpy() / 60.0
    data["win"] = data["pnl"] > 0
    entry_wall = eastern_wall_ns(_ns(entry))
    data["entry_day"] = _wall_days(entry_wall)
    data["entry_hour"] = (entry_wall // NS_PER_HOUR) % 24
    data["exit_day"] = _wall_days(eastern_wall_ns(_ns(exit_)))
    return pd.DataFrame({n: data[n] for n in (*names, *DERIVED)}, copy=False)
