"""Scalp History tab: summary figures, exit reasons, rejected signals, the sortable trade log and its CSV."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import history
from dashboard.ui import cached
from dashboard.ui.fmt import num, pct, usd
from dashboard.ui.sidebar import Context


def render(ctx: Context) -> None:
    s = cached.summary(ctx.url, ctx.key, ctx.filters)
    cols = st.columns(5)
    cols[0].metric("Trades", f"{s.trades}")
    cols[1].metric("Win rate", pct(s.win_rate))
    cols[2].metric("Total P&L", usd(s.total_pnl))
    cols[3].metric("Avg P&L %", pct(s.avg_pnl_pct))
    cols[4].metric("Avg hold (min)", num(s.avg_hold_minutes, 1))
    if not s.trades:
        st.info("no closed scalps match the run and filters")

    left, right = st.columns(2)
    with left:
        st.subheader("Exit reasons")
        exits = cached.exit_breakdown(ctx.url, ctx.key, ctx.filters)
        used = exits[exits["trades"] > 0]
        if not used.empty:
            st.plotly_chart(
                px.bar(used, x="exit_reason", y="trades", hover_data=["share", "wins", "pnl"], height=260),
                key="exit_chart",
            )
        st.dataframe(
            exits,
            hide_index=True,
            column_config={
                "share": st.column_config.NumberColumn(format="percent"),
                "pnl": st.column_config.NumberColumn(format="dollar"),
            },
            key="exit_table",
        )
    with right:
        st.subheader("Rejected signals")
        run_ids = list(ctx.picked["run_id"]) or list(ctx.runs["run_id"])
        counts, missing = history.rejections(ctx.reports, run_ids)
        if not counts.empty:
            st.caption(f"{int(counts['signals'].sum())} signals turned down (from the runs' report.json)")
            st.dataframe(counts, hide_index=True, key="rejections")
        if missing:
            st.caption(
                f"{len(missing)} run(s) without a report.json beside the journal: their rejected-signal "
                "counts are not in the journal"
            )

    st.subheader("Trade log")
    a, b, c = st.columns([2, 1, 1])
    sort_by = a.selectbox(
        "Sort by", history.SORTABLE, index=history.SORTABLE.index("exit_time"), key="sort_by"
    )
    descending = b.toggle("Descending", value=True, key="descending")
    pages = max(1, -(-s.trades // history.PAGE_ROWS))
    page = int(c.number_input(f"Page (of {pages})", 1, pages, 1, key="page")) - 1
    log = cached.trade_log(ctx.url, ctx.key, ctx.filters, sort_by, descending, page)
    st.caption(
        f"rows {page * history.PAGE_ROWS + 1 if len(log) else 0}-{page * history.PAGE_ROWS + len(log)} "
        f"of {s.trades}, sorted by {sort_by} {'descending' if descending else 'ascending'}"
    )
    st.dataframe(
        log,
        hide_index=True,
        column_config={
            "pnl": st.column_config.NumberColumn(format="dollar"),
            "pnl_pct": st.column_config.NumberColumn(format="percent"),
        },
        key="trade_log",
    )
    if s.trades:
        st.download_button(
            "Download CSV (all filtered trades)",
            data=lambda: cached.trades_csv(ctx.url, ctx.key, ctx.filters),
            file_name="trades.csv",
            mime="text/csv",
            key="download",
        )
