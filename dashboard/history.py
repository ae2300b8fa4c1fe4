"""Scalp History: the trade log (sorted and paged in SQL), its summary, exit reasons and rejected signals.

Counts, win rate, P&L and the average hold are aggregated by the database (one
query, whatever the journal's size); the log shows one page of rows sorted by the
database; the CSV holds every filtered row in trades.csv's columns. The
conventions are the report's (``analyzers.stats``): a win is a net P&L > 0.

Rejected signals are not journaled per signal: they are the counts in the
``report.json`` a backtest writes next to its journal (``rejections``), found by
run id; a run without such a report says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.engine import make_url

from analyzers.stats import exit_breakdown as report_exit_breakdown
from dashboard.db import Journal
from dashboard.runs import Filters, where
from dashboard.scalps import REQUIRED
from journal.models import OptionsScalpRecord
from options_scalper.records import TRADE_COLUMNS

S = OptionsScalpRecord
LOG_COLUMNS = (
    "id",
    "run_id",
    "ticker",
    "option_symbol",
    "direction",
    "dte",
    "contracts",
    "entry_time",
    "exit_time",
    "entry_premium",
    "exit_premium",
    "entry_delta",
    "entry_iv",
    "exit_reason",
    "pnl",
    "pnl_pct",
)
SORTABLE = (*LOG_COLUMNS, "hold_minutes")
PAGE_ROWS = 500


def hold_minutes_sql(dialect: str) -> Any:
    """SQL expression of a scalp's hold in minutes (exit - entry) for ``dialect``."""
    if dialect == "sqlite":
        return (func.julianday(S.exit_time) - func.julianday(S.entry_time)) * 1440.0
    return func.extract("epoch", S.exit_time - S.entry_time) / 60.0


def _closed(filters: Filters) -> Any:
    return [where(filters), *(getattr(S, c).is_not(None) for c in REQUIRED)]


@dataclass(frozen=True)
class Summary:
    """The filtered trades' figures (None: no trades)."""

    trades: int
    wins: int
    win_rate: float | None
    total_pnl: float
    avg_pnl: float | None
    avg_pnl_pct: float | None
    avg_hold_minutes: float | None


def summary(journal: Journal, filters: Filters) -> Summary:
    """Trades, wins, win rate, total and average P&L, average hold: one aggregate query."""
    hold = hold_minutes_sql(journal.engine.dialect.name)
    query = select(
        func.count(),
        func.coalesce(func.sum(case((S.pnl > 0, 1), else_=0)), 0),
        func.coalesce(func.sum(S.pnl), 0.0),
        func.avg(S.pnl),
        func.avg(S.pnl_pct),
        func.avg(cast(hold, Float)),
    ).where(*_closed(filters))
    with journal.engine.connect() as conn:
        n, wins, total, avg_pnl, avg_pct, avg_hold = conn.execute(query).one()
    n, wins = int(n), int(wins)
    return Summary(
        trades=n,
        wins=wins,
        win_rate=wins / n if n else None,
        total_pnl=float(total),
        avg_pnl=None if avg_pnl is None else float(avg_pnl),
        avg_pnl_pct=None if avg_pct is None else float(avg_pct),
        avg_hold_minutes=None if avg_hold is None else float(avg_hold),
    )


def exit_breakdown(journal: Journal, filters: Filters) -> pd.DataFrame:
    """Exit reason, trades, share, wins and P&L per reason, in the report's order (every ``ExitReason``)."""
    query = (
        select(
            S.exit_reason,
            func.count(),
            func.sum(case((S.pnl > 0, 1), else_=0)),
            func.sum(S.pnl),
        )
        .where(*_closed(filters))
        .group_by(S.exit_reason)
    )
    with journal.engine.connect() as conn:
        rows = {str(r): (int(n), int(w), float(p)) for r, n, w, p in conn.execute(query).all()}
    order = report_exit_breakdown(())  # every ExitReason, in the report's order
    reasons = [*order, *sorted(set(rows) - set(order))]
    total = sum(n for n, _, _ in rows.values())
    data = [
        {
            "exit_reason": r,
            "trades": rows.get(r, (0, 0, 0.0))[0],
            "share": (rows[r][0] / total) if r in rows and total else 0.0,
            "wins": rows.get(r, (0, 0, 0.0))[1],
            "pnl": rows.get(r, (0, 0, 0.0))[2],
        }
        for r in reasons
    ]
    return pd.DataFrame(data, columns=["exit_reason", "trades", "share", "wins", "pnl"])


def trade_log(
    journal: Journal,
    filters: Filters,
    sort_by: str = "exit_time",
    descending: bool = True,
    page: int = 0,
    rows: int = PAGE_ROWS,
) -> pd.DataFrame:
    """One page of the filtered trades, sorted by ``sort_by`` in the database (ties: id)."""
    if sort_by not in SORTABLE:
        raise ValueError(f"sort_by {sort_by!r} is not one of {', '.join(SORTABLE)}")
    hold = hold_minutes_sql(journal.engine.dialect.name).label("hold_minutes")
    key = hold if sort_by == "hold_minutes" else getattr(S, sort_by)
    order = [key.desc() if descending else key.asc(), S.id.desc() if descending else S.id.asc()]
    query = (
        select(*(getattr(S, c) for c in LOG_COLUMNS), hold)
        .where(*_closed(filters))
        .order_by(*order)
        .limit(rows)
        .offset(max(page, 0) * rows)
    )
    with journal.engine.connect() as conn:
        found = conn.execute(query).all()
    frame = pd.DataFrame(found, columns=[*LOG_COLUMNS, "hold_minutes"])
    frame["hold_minutes"] = frame["hold_minutes"].astype(float).round(2)
    return frame


def trades_csv(frame: pd.DataFrame) -> bytes:
    """The scalps of a ``load_scalps`` frame as trades.csv text (its columns, ISO-8601 UTC times)."""
    out = frame.loc[:, list(TRADE_COLUMNS)].copy()
    for col in ("entry_time", "exit_time"):  # datetime.isoformat() of aware UTC, in one vectorised pass
        text = frame[col].dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        out[col] = text.str.replace(".000000+", "+", regex=False)
    out["expiry"] = frame["expiry"].astype(str)
    return out.to_csv(index=False, lineterminator="\n").encode()


# ------------------------------------------------------------------ rejected signals


def report_files(journal_url: str) -> list[Path]:
    """The ``report.json`` files that may belong to the journal's runs: in its folder and one level down."""
    try:
        parsed = make_url(journal_url)
    except Exception:  # an unparsable URL has no folder; the caller already refused it
        return []
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return []
    folder = Path(parsed.database).expanduser().resolve().parent
    return sorted([*folder.glob("report.json"), *folder.glob("*/report.json")])


def reports_by_run(journal_url: str) -> dict[str, dict[str, Any]]:
    """run id -> the report.json (as written by the backtest) found beside the journal."""
    out: dict[str, dict[str, Any]] = {}
    for path in report_files(journal_url):
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        run_id = (report.get("run") or {}).get("run_id") if isinstance(report, dict) else None
        if run_id:
            out[str(run_id)] = {**report, "_path": str(path)}
    return out


def rejections(reports: dict[str, dict[str, Any]], run_ids: Iterable[str]) -> tuple[pd.DataFrame, list[str]]:
    """Reason -> rejected signals summed over the runs that have a report, and the runs without one."""
    counts: dict[str, int] = {}
    missing: list[str] = []
    for run_id in run_ids:
        report = reports.get(run_id)
        if report is None:
            missing.append(run_id)
            continue
        for reason, n in (report.get("rejections") or {}).items():
            counts[reason] = counts.get(reason, 0) + int(n)
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return pd.DataFrame(rows, columns=["reason", "signals"]), missing
