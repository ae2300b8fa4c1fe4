"""Performance tab: equity and drawdown curves, figures by group, best and worst scalps, criteria, execution cost."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dashboard import performance
from dashboard.ui import cached
from dashboard.ui.fmt import pct, usd
from dashboard.ui.sidebar import Context

PCT = st.column_config.NumberColumn(format="percent")
USD = st.column_config.NumberColumn(format="dollar")


def _curves(ctx: Context, frame: pd.DataFrame) -> None:
    curves = performance.equity_curves(frame, ctx.initial_equity)
    dd = performance.max_drawdown(curves)
    a, b, c = st.columns(3)
    a.metric("Net P&L", usd(float(frame["pnl"].sum())))
    b.metric("Max drawdown", usd(dd["max_drawdown"]))
    c.metric("Max drawdown (%)", pct(dd["max_drawdown_pct"]))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.04)
    drawn = performance.plot_points(curves)
    for run_id, part in drawn.groupby("run_id", sort=False):
        fig.add_trace(go.Scatter(x=part["exit_time"], y=part["equity"], name=str(run_id), mode="lines"), 1, 1)
        fig.add_trace(
            go.Scatter(x=part["exit_time"], y=-part["drawdown"], name=f"{run_id} drawdown", mode="lines"),
            2,
            1,
        )
    fig.update_yaxes(title_text="equity ($)", row=1, col=1)
    fig.update_yaxes(title_text="drawdown ($)", row=2, col=1)
    fig.update_layout(height=420, margin={"t": 20, "b": 20}, showlegend=len(curves["run_id"].unique()) > 1)
    st.plotly_chart(fig, key="equity_chart")
    note = (
        ""
        if len(drawn) == len(curves)
        else f"; drawn: each day's close and deepest point ({len(drawn):,} of {len(curves):,})"
    )
    st.caption(f"realised equity: starting equity + cumulative net P&L at each scalp's exit, per run{note}")


def _groups(frame: pd.DataFrame) -> None:
    cols = st.columns(2)
    for i, (by, title) in enumerate(performance.GROUPS.items()):
        table = performance.group_figures(frame, by)
        with cols[i % 2]:
            st.markdown(f"**Win rate and P&L by {title[0].lower()}{title[1:]}**")
            if not table.empty:
                fig = px.bar(
                    table,
                    x="group",
                    y="total_pnl",
                    color="win_rate",
                    height=220,
                    color_continuous_scale="RdYlGn",
                    range_color=(0, 1),
                )
                fig.update_layout(margin={"t": 10, "b": 10}, xaxis_title=title, yaxis_title="P&L ($)")
                st.plotly_chart(fig, key=f"group_chart_{by}")
            st.dataframe(
                table,
                hide_index=True,
                column_config={"win_rate": PCT, "avg_pnl_pct": PCT, "total_pnl": USD},
                key=f"group_{by}",
            )


def render(ctx: Context) -> None:
    frame = cached.performance_frame(ctx.url, ctx.key, ctx.filters)
    if frame.empty:
        st.info("no closed scalps match the run and filters")
        return
    _curves(ctx, frame)
    _groups(frame)

    best, worst = performance.best_worst(frame)
    left, right = st.columns(2)
    left.markdown("**Best scalps**")
    left.dataframe(best, hide_index=True, column_config={"pnl": USD, "pnl_pct": PCT}, key="best")
    right.markdown("**Worst scalps**")
    right.dataframe(worst, hide_index=True, column_config={"pnl": USD, "pnl_pct": PCT}, key="worst")

    st.subheader("Success criteria (seed 003)")
    table = cached.criteria(ctx.url, ctx.key, ctx.filters, ctx.initial_equity)
    st.dataframe(table[["name", "target", "value", "result", "detail"]], hide_index=True, key="criteria")
    st.caption("year returns: realised equity over the starting equity in the sidebar")

    st.subheader("Execution cost")
    strategies = sorted(set(ctx.picked["strategy"]))
    if len(ctx.picked) != 1:
        st.caption("pick exactly one run to see its execution cost (the thresholds are the run's params)")
        return
    run = ctx.picked.iloc[0]
    section = cached.execution(ctx.url, ctx.key, ctx.filters, strategies[0], run["params_json"])
    thresholds = section["thresholds"]
    st.caption(
        f"thresholds: take profit {pct(thresholds['take_profit_pct'])}, stop loss "
        f"{pct(thresholds['stop_loss_pct'])} ({thresholds['source']})"
    )
    st.dataframe(
        performance.execution_table(section),
        hide_index=True,
        column_config={
            k: PCT
            for k in (
                "threshold_pct",
                "pnl_mean",
                "pnl_median",
                "pnl_worst",
                "move_mean",
                "move_past_threshold",
            )
        },
        key="execution",
    )
    slip = section["entry_slippage"]
    if slip["known"]:
        st.caption(
            f"entry vs decision ask ({slip['known']} of {slip['trades']} scalps): mean {pct(slip['mean'])}, "
            f"p90 {pct(slip['p90'])}, max {pct(slip['max'])}; {slip['above_alert']} above {pct(slip['alert_pct'])}"
        )
    for note in section["notes"]:
        st.caption(note)
