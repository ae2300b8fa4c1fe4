"""The run picker and the filters (sidebar), shared by every tab through a ``Context``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.db import Journal, fingerprint
from dashboard.runs import Filters
from dashboard.ui import cached

DEFAULT_EQUITY = 100_000.0  # run_backtest.py's default --cash


@dataclass(frozen=True)
class Context:
    """What the tabs need: the journal, its cache key, the picked runs and the filters."""

    url: str
    key: tuple[Any, ...]
    journal: Journal
    catalog_root: str | None
    runs: pd.DataFrame  # every run
    picked: pd.DataFrame  # the runs picked
    filters: Filters
    initial_equity: float
    reports: dict[str, dict[str, Any]]


def _label(row: pd.Series) -> str:
    dates = f"{row['start_date']}..{row['end_date']}" if row["start_date"] is not None else "no dates"
    return f"{row['run_id']} · {row['strategy']} · {row['mode']} · {dates} · {row['journaled']} scalps"


def sidebar(url: str, catalog_root: str | None) -> Context:
    journal = cached.journal(url)
    key = fingerprint(journal)
    all_runs = cached.list_runs(url, key)
    reports = cached.reports(url, key)
    st.sidebar.header("Runs")
    st.sidebar.caption(f"journal {journal.label} (read-only)")
    labels = {r["run_id"]: _label(r) for _, r in all_runs.iterrows()}
    with_scalps = [r for r in all_runs["run_id"] if int(all_runs.set_index("run_id").loc[r, "journaled"]) > 0]
    default = with_scalps[:1] or list(all_runs["run_id"][:1])
    picked_ids = st.sidebar.multiselect(
        "Run", options=list(labels), default=default, format_func=lambda r: labels[r], key="runs"
    )
    picked = all_runs[all_runs["run_id"].isin(picked_ids)]
    choices = cached.filter_choices(url, key, tuple(picked_ids))
    st.sidebar.header("Filters")
    tickers = st.sidebar.multiselect("Ticker", choices.tickers, key="tickers")
    strategies = st.sidebar.multiselect("Strategy", choices.strategies, key="strategies")
    reasons = st.sidebar.multiselect("Exit reason", choices.exit_reasons, key="exit_reasons")
    start: date | None = None
    end: date | None = None
    if choices.first_day is not None and choices.last_day is not None:
        span = st.sidebar.date_input(
            "Entry dates (ET)",
            value=(choices.first_day, choices.last_day),
            min_value=choices.first_day,
            max_value=choices.last_day,
            key="dates",
        )
        if isinstance(span, tuple | list) and len(span) == 2:
            start, end = span[0], span[1]
            if (start, end) == (choices.first_day, choices.last_day):
                start = end = None
    initial = _initial_equity(picked, reports)
    equity = st.sidebar.number_input(
        "Starting equity ($)", min_value=1.0, value=float(initial), step=1000.0, key="equity"
    )
    filters = Filters(
        run_ids=tuple(picked_ids),
        tickers=tuple(tickers),
        start=start,
        end=end,
        strategies=tuple(strategies),
        exit_reasons=tuple(reasons),
    )
    return Context(url, key, journal, catalog_root, all_runs, picked, filters, float(equity), reports)


def _initial_equity(picked: pd.DataFrame, reports: dict[str, dict[str, Any]]) -> float:
    """The picked run's starting equity from its report.json, else run_backtest.py's default cash."""
    for run_id in picked["run_id"]:
        value = reports.get(run_id, {}).get("initial_value")
        if isinstance(value, int | float) and value > 0:
            return float(value)
    return DEFAULT_EQUITY
