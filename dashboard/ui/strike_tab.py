"""Strike Picker tab: one minute's chain, the delta heatmap, and what the strategy's selector keeps and picks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from dashboard import strikes
from dashboard.ui import cached
from dashboard.ui.fmt import num, pct
from dashboard.ui.sidebar import Context
from options_scalper.calendar import ET
from options_scalper.model import Direction


def render(ctx: Context) -> None:
    run = ctx.picked.iloc[0] if len(ctx.picked) else None
    root = ctx.catalog_root or (None if run is None else run["catalog_path"])
    if not root or not Path(root).is_dir():
        st.info("no catalog: pick a run whose catalog folder still exists, or start with --catalog DIR")
        return
    catalog = cached.catalog(str(root))
    symbols = catalog.symbols()
    if not symbols:
        st.info(f"the catalog {root} holds no underlying")
        return
    strategy = None if run is None else str(run["strategy"])
    params_json = None if run is None else run["params_json"]
    a, b, c, d = st.columns(4)
    symbol = a.selectbox("Underlying", symbols, key="sp_symbol")
    days = catalog.days(symbol)
    day: date = b.selectbox("Session", days, index=len(days) - 1 if days else 0, key="sp_day")
    bars = strikes.minutes(catalog, symbol, day)
    if bars.empty:
        st.info(f"{symbol} has no bars on {day}")
        return
    labels = [t.tz_convert(ET).strftime("%H:%M") for t in bars["ts"]]
    default = labels.index("10:30") if "10:30" in labels else 0
    minute = c.selectbox("Minute (bar close, ET)", labels, index=default, key="sp_minute")
    side = d.radio("Signal", ["bullish (calls)", "bearish (puts)"], horizontal=True, key="sp_side")
    direction = Direction.BULLISH if side.startswith("bullish") else Direction.BEARISH
    ts = strikes.utc_minute(day, minute)
    st.caption(f"selector of {strategy or strikes.DEFAULT_STRATEGY} with the picked run's params")
    view = cached.chain_view(str(root), symbol, ts, direction.value, strategy, params_json)

    counts = view.counts()
    cols = st.columns(4)
    cols[0].metric(f"{symbol} at {minute} ET", num(view.underlying_price))
    cols[1].metric("Kept by the selector", counts.get("kept", 0) + counts.get("picked", 0))
    cols[2].metric("Refused", counts.get("refused", 0))
    cols[3].metric("Pick", view.pick.option_symbol if view.pick else "none")
    if view.pick is not None:
        p = view.pick
        st.success(
            f"pick {p.option_symbol}: delta {p.delta:+.2f}, IV {pct(p.iv)}, bid/ask {p.bid:.2f}/{p.ask:.2f} "
            f"(spread {pct(p.spread_pct)}), {p.dte}DTE, score {p.score:.2f}"
        )
    elif view.refusal is not None:
        st.warning(f"no pick: {view.refusal.reason_code} ({view.refusal.message})")
    st.caption(f"pipeline (OptionsScalper.process_signal): {view.verdict}")
    for note in view.notes:
        st.caption(note)

    mine = view.table[view.table["right"] == direction.right.word]
    reasons = mine[mine["status"] == "refused"]["reason"].value_counts()
    if len(reasons):
        st.markdown("**Refused, by reason:** " + ", ".join(f"{r} {n}" for r, n in reasons.items()))

    heat = view.heatmap
    if not heat.empty:
        fig = go.Figure(
            go.Heatmap(
                z=heat.to_numpy(),
                x=[str(x) for x in heat.columns],
                y=heat.index.to_numpy(),
                colorscale="RdBu",
                zmid=0,
                colorbar={"title": "delta"},
            )
        )
        if view.pick is not None:
            fig.add_trace(
                go.Scatter(
                    x=[str(view.pick.expiry)],
                    y=[view.pick.strike],
                    mode="markers",
                    marker={"symbol": "star", "size": 16, "color": "gold"},
                    name="pick",
                )
            )
        fig.update_layout(height=380, margin={"t": 20, "b": 20}, xaxis_title="expiry", yaxis_title="strike")
        fig.update_xaxes(type="category")
        st.plotly_chart(fig, key="delta_heatmap")
    st.dataframe(
        mine,
        hide_index=True,
        column_config={"spread_pct": st.column_config.NumberColumn(format="percent")},
        key="chain_table",
    )
