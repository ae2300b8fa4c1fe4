"""The run picker and the filters every tab applies: pure SQL over ``runs`` and ``options_scalps``.

``Filters`` is what the sidebar chose: runs, tickers, an entry-date range (US/Eastern
sessions), strategies and exit reasons; an empty tuple means "all". ``conditions``
turns it into the WHERE clause every scalp query of the dashboard shares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, and_, func, select

from dashboard.db import Journal
from journal.models import OptionsScalpRecord, RunRecord
from options_scalper.calendar import ET
from options_scalper.model import ExitReason

S = OptionsScalpRecord
R = RunRecord
RUN_COLUMNS = (
    "run_id",
    "strategy",
    "mode",
    "status",
    "symbols",
    "start_date",
    "end_date",
    "scalps",
    "split",
    "broker",
    "catalog_path",
    "started_at",
    "finished_at",
    "params_json",
)


@dataclass(frozen=True)
class Filters:
    """What the sidebar selected (empty tuple / None: no restriction)."""

    run_ids: tuple[str, ...] = ()
    tickers: tuple[str, ...] = ()
    start: date | None = None  # first entry session (US/Eastern), inclusive
    end: date | None = None  # last entry session, inclusive
    strategies: tuple[str, ...] = ()
    exit_reasons: tuple[str, ...] = ()


def _utc_naive(day: date) -> datetime:
    """Naive UTC of midnight US/Eastern at the start of ``day`` (the journal stores naive UTC)."""
    return datetime.combine(day, time(0), tzinfo=ET).astimezone(UTC).replace(tzinfo=None)


def conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The WHERE terms on ``options_scalps`` (joined with ``runs`` for the strategy) for ``filters``."""
    out: list[ColumnElement[bool]] = []
    if filters.run_ids:
        out.append(S.run_id.in_(filters.run_ids))
    if filters.tickers:
        out.append(S.ticker.in_(filters.tickers))
    if filters.exit_reasons:
        out.append(S.exit_reason.in_(filters.exit_reasons))
    if filters.start is not None:
        out.append(S.entry_time >= _utc_naive(filters.start))
    if filters.end is not None:
        out.append(S.entry_time < _utc_naive(filters.end + timedelta(days=1)))
    if filters.strategies:
        out.append(S.run_id.in_(select(R.run_id).where(R.strategy.in_(filters.strategies))))
    return out


def where(filters: Filters) -> ColumnElement[bool]:
    terms = conditions(filters)
    return and_(*terms) if terms else and_(True)


def list_runs(journal: Journal) -> pd.DataFrame:
    """Every run, newest first, with its scalps counted in the journal (``journaled``) and its params."""
    counted = select(S.run_id, func.count().label("journaled")).group_by(S.run_id).subquery("counted")
    query = (
        select(
            *(getattr(R, c) for c in RUN_COLUMNS), func.coalesce(counted.c.journaled, 0).label("journaled")
        )
        .outerjoin(counted, counted.c.run_id == R.run_id)
        .order_by(R.started_at.desc(), R.run_id.desc())
    )
    with journal.engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=[*RUN_COLUMNS, "journaled"])
    frame["mode"] = frame["mode"].fillna("backtest")
    frame["params"] = [params_text(p) for p in frame["params_json"]]
    return frame


def params_text(params_json: str | None) -> str:
    """``k=v, ...`` of a run's params JSON (empty when none)."""
    params = run_params(params_json)
    return ", ".join(f"{k}={v}" for k, v in params.items())


def run_params(params_json: str | None) -> dict[str, Any]:
    """The run's params as a dict ({} when missing or not JSON)."""
    if not params_json:
        return {}
    try:
        value = json.loads(params_json)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class FilterChoices:
    """What the filters can choose from within the picked runs."""

    tickers: tuple[str, ...]
    strategies: tuple[str, ...]
    exit_reasons: tuple[str, ...]
    first_day: date | None
    last_day: date | None


def filter_choices(journal: Journal, run_ids: tuple[str, ...] = ()) -> FilterChoices:
    """Tickers, strategies, exit reasons (``ExitReason`` order first) and the entry-date span of ``run_ids``."""
    scope = Filters(run_ids=run_ids)
    rank = {r.value: i for i, r in enumerate(ExitReason)}
    with journal.engine.connect() as conn:
        tickers = conn.execute(select(S.ticker).distinct().where(where(scope)).order_by(S.ticker)).scalars()
        tickers_t = tuple(str(t) for t in tickers)
        reasons = conn.execute(select(S.exit_reason).distinct().where(where(scope))).scalars()
        reasons_t = tuple(sorted((str(r) for r in reasons if r), key=lambda r: (rank.get(r, len(rank)), r)))
        strat_q = select(R.strategy).distinct().order_by(R.strategy)
        if run_ids:
            strat_q = strat_q.where(R.run_id.in_(run_ids))
        strategies = tuple(str(s) for s in conn.execute(strat_q).scalars())
        lo, hi = conn.execute(
            select(func.min(S.entry_time), func.max(S.entry_time)).where(where(scope))
        ).one()
    return FilterChoices(
        tickers=tickers_t,
        strategies=strategies,
        exit_reasons=reasons_t,
        first_day=_et_date(lo),
        last_day=_et_date(hi),
    )


def _et_date(value: Any) -> date | None:
    if value is None:
        return None
    ts = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return ts.replace(tzinfo=UTC).astimezone(ET).date()
