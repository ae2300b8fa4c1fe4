"""The data functions behind ``st.cache_data`` / ``st.cache_resource``, keyed by the journal's fingerprint.

A cached result is reused until the journal changes (a new scalp or run, a run that
finishes: ``dashboard.db.fingerprint``) or the filters do; the live tab reads
uncached, since it refreshes every few seconds on purpose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import history, performance, runs, scalps
from dashboard.db import Journal, open_journal
from feeds.catalog import Catalog

TTL_S = 600


@st.cache_resource(show_spinner=False)
def journal(url: str) -> Journal:
    return open_journal(url)


@st.cache_resource(show_spinner=False)
def catalog(root: str) -> Catalog:
    return Catalog(Path(root))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def list_runs(url: str, key: tuple[Any, ...]) -> pd.DataFrame:
    return runs.list_runs(journal(url))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def filter_choices(url: str, key: tuple[Any, ...], run_ids: tuple[str, ...]) -> runs.FilterChoices:
    return runs.filter_choices(journal(url), run_ids)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def summary(url: str, key: tuple[Any, ...], filters: runs.Filters) -> history.Summary:
    return history.summary(journal(url), filters)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def exit_breakdown(url: str, key: tuple[Any, ...], filters: runs.Filters) -> pd.DataFrame:
    return history.exit_breakdown(journal(url), filters)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def trade_log(
    url: str, key: tuple[Any, ...], filters: runs.Filters, sort_by: str, descending: bool, page: int
) -> pd.DataFrame:
    return history.trade_log(journal(url), filters, sort_by, descending, page)


# frames are shared, not copied (cache_resource: no pickling of 100,000 rows); never mutated
@st.cache_resource(ttl=TTL_S, show_spinner=False, max_entries=8)
def scalp_frame(
    url: str, key: tuple[Any, ...], filters: runs.Filters, columns: tuple[str, ...] = scalps.ALL_COLUMNS
) -> pd.DataFrame:
    return scalps.load_scalps(journal(url), filters, columns)


def performance_frame(url: str, key: tuple[Any, ...], filters: runs.Filters) -> pd.DataFrame:
    """The frame of the Performance tab: only the columns ``dashboard.performance`` reads."""
    return scalp_frame(url, key, filters, performance.FRAME_COLUMNS)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=8)
def trades_csv(url: str, key: tuple[Any, ...], filters: runs.Filters) -> bytes:
    return history.trades_csv(scalp_frame(url, key, filters))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def reports(url: str, key: tuple[Any, ...]) -> dict[str, dict[str, Any]]:
    return history.reports_by_run(url)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=8)
def criteria(url: str, key: tuple[Any, ...], filters: runs.Filters, initial: float) -> pd.DataFrame:
    return performance.criteria_table(performance_frame(url, key, filters), initial)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=8)
def execution(
    url: str, key: tuple[Any, ...], filters: runs.Filters, strategy: str, params_json: str | None
) -> dict[str, Any]:
    from strategies import registry

    try:
        config_cls: type | None = registry.load_config_class(strategy)
    except Exception:  # a user strategy not importable here: thresholds unknown, as the report says
        config_cls = None
    return performance.execution_section(
        performance_frame(url, key, filters), config_cls, runs.run_params(params_json)
    )
