"""The Streamlit script of the dashboard (``python -m dashboard`` runs it): sidebar, then the four tabs.

Arguments after ``--``: ``--journal URL`` and ``--catalog DIR`` (see ``dashboard.cli``).
"""

from __future__ import annotations

import sys

import streamlit as st

from dashboard.cli import page_args
from dashboard.db import DashboardError
from dashboard.ui import history_tab, live_tab, performance_tab, strike_tab
from dashboard.ui.sidebar import sidebar
from options_scalper.model import ScalperError

TABS = ("Live Scalps", "Strike Picker", "Scalp History", "Performance")


def main() -> None:
    st.set_page_config(page_title="Options scalper dashboard", layout="wide")
    args = page_args(sys.argv[1:])
    try:
        ctx = sidebar(args.journal, args.catalog)
    except DashboardError as exc:
        st.error(str(exc))
        st.stop()
    st.title("Options scalper")
    with st.expander(f"Runs in the journal ({len(ctx.runs)})", expanded=False):
        st.dataframe(ctx.runs.drop(columns=["params_json"]), hide_index=True, key="runs_table")
    renderers = (live_tab.render, strike_tab.render, history_tab.render, performance_tab.render)
    # only the open tab's code runs (a tab switch reruns the script): each tab costs only itself
    tabs = st.tabs(list(TABS), key="tab", on_change="rerun")
    for name, tab, render in zip(TABS, tabs, renderers, strict=True):
        if not tab.open:
            continue
        with tab:
            try:
                render(ctx)
            except (
                DashboardError,
                ScalperError,
                ValueError,
                OSError,
            ) as exc:  # bad data: one line, no traceback
                st.error(f"{name}: {' '.join(str(exc).split()) or type(exc).__name__}")


main()
