"""Strike Picker tab: one minute's chain, the delta heatmap, and what the strategy's selector keeps and picks.

The minute comes from the catalog, or, for a live / paper / dry run that recorded its
chain (``live_chains``), from the snapshots its strategy was served; both are shown by
the same code (``dashboard.strikes.snapshot_view``). The verdict is sized with what the run
had at a recorded minute and otherwise with the tab's equity and conviction controls; the page
says which.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import runs, strikes
from dashboard.live import LIVE_MODES
from dashboard.ui import cached
from dashboard.ui.fmt import num, pct
from dashboard.ui.sidebar import Context
from options_scalper.calendar import ET
from options_scalper.model import Direction

LIVE_SOURCE = "recorded live chain"
CATALOG_SOURCE = "catalog"


@st.cache_data(ttl=cached.TTL_S, show_spinner=False, max_entries=32)
def _live_view(
    url: str,
    run_id: str,
    symbol: str,
    ts: datetime,
    direction: str,
    strategy: str | None,
    params_json: str | None,
    equity: float,
    conviction: int,
) -> strikes.ChainView:
    """A recorded minute never changes once written: cached by its key (and the controls' values) alone."""
    config, notes = strikes.strategy_config(strategy, runs.run_params(params_json))
    return strikes.live_chain_view(
        cached.journal(url), run_id, symbol, ts, Direction(direction), config,
        equity=equity, conviction=conviction, notes=tuple(notes),
    )  # fmt: skip


@st.cache_data(ttl=cached.TTL_S, show_spinner=False, max_entries=32)
def _catalog_view(
    root: str,
    symbol: str,
    ts: datetime,
    direction: str,
    strategy: str | None,
    params_json: str | None,
    equity: float,
    conviction: int,
) -> strikes.ChainView:
    config, notes = strikes.strategy_config(strategy, runs.run_params(params_json))
    return strikes.chain_view(
        cached.catalog(root), symbol, ts, Direction(direction), config,
        equity=equity, conviction=conviction, notes=tuple(notes),
    )  # fmt: skip


def _sizing_controls(ctx: Context, recorded: bool) -> tuple[float, int]:
    """The equity and conviction the verdict uses where the journal does not say what the run had."""
    equity_help = (
        "used where this minute's recording lacks the run's account"
        if recorded
        else "the journal holds no run's equity at a catalog minute: the verdict is sized with this"
    )
    conviction_help = (
        "used where the run entered on no signal of this side at this minute"
        if recorded
        else "the journal does not tie an entry to a catalog minute: the verdict uses this"
    )
    a, b = st.columns(2)
    equity = a.number_input(
        "Equity for sizing ($)", min_value=1.0, value=float(ctx.initial_equity), step=1000.0,
        key="sp_equity", help=equity_help,
    )  # fmt: skip
    conviction = b.slider(
        "Signal conviction", min_value=0, max_value=100, value=strikes.DEFAULT_CONVICTION,
        key="sp_conviction", help=conviction_help,
    )  # fmt: skip
    return float(equity), int(conviction)


def _direction(column: DeltaGenerator) -> Direction:
    side = column.radio("Signal", ["bullish (calls)", "bearish (puts)"], horizontal=True, key="sp_side")
    return Direction.BULLISH if side.startswith("bullish") else Direction.BEARISH


def render(ctx: Context) -> None:
    run = ctx.picked.iloc[0] if len(ctx.picked) else None
    strategy = None if run is None else str(run["strategy"])
    params_json = None if run is None else run["params_json"]
    recorded = (
        strikes.live_minutes(ctx.journal, str(run["run_id"]))
        if run is not None and run["mode"] in LIVE_MODES
        else None
    )
    sources = ([LIVE_SOURCE] if recorded is not None and len(recorded) else []) + [CATALOG_SOURCE]
    source = st.radio("Source", sources, horizontal=True, key="sp_source") if len(sources) > 1 else sources[0]
    if source == LIVE_SOURCE and run is not None and recorded is not None:
        a, b, d = st.columns(3)
        symbol = a.selectbox("Underlying", sorted(set(recorded["underlying"])), key="sp_live_symbol")
        mine = recorded[recorded["underlying"] == symbol]
        labels = {t.tz_convert(ET).strftime("%Y-%m-%d %H:%M"): t.to_pydatetime() for t in mine["ts"]}
        minute = b.selectbox("Minute served (bar close, ET)", list(labels), key="sp_live_minute")
        direction = _direction(d)
        ts = labels[minute]
        equity, conviction = _sizing_controls(ctx, recorded=True)
        st.caption(
            f"the chain run {run['run_id']}'s strategy was served at {minute} ET, through the selector of "
            f"{strategy or strikes.DEFAULT_STRATEGY} with the run's params"
        )
        view = _live_view(
            ctx.url,
            str(run["run_id"]),
            symbol,
            ts,
            direction.value,
            strategy,
            params_json,
            equity,
            conviction,
        )
        _show(view, symbol, minute[-5:], direction)
        return
    root = ctx.catalog_root or (None if run is None else run["catalog_path"])
    if not root or not Path(root).is_dir():
        st.info("no catalog: pick a run whose catalog folder still exists, or start with --catalog DIR")
        return
    catalog = cached.catalog(str(root))
    symbols = catalog.symbols()
    if not symbols:
        st.info(f"the catalog {root} holds no underlying")
        return
    a, b, c, d = st.columns(4)
    symbol = a.selectbox("Underlying", symbols, key="sp_symbol")
    days = catalog.days(symbol)
    day: date = b.selectbox("Session", days, index=len(days) - 1 if days else 0, key="sp_day")
    bars = strikes.minutes(catalog, symbol, day)
    if bars.empty:
        st.info(f"{symbol} has no bars on {day}")
        return
    hhmm = [t.tz_convert(ET).strftime("%H:%M") for t in bars["ts"]]
    default = hhmm.index("10:30") if "10:30" in hhmm else 0
    minute = c.selectbox("Minute (bar close, ET)", hhmm, index=default, key="sp_minute")
    direction = _direction(d)
    ts = strikes.utc_minute(day, minute)
    equity, conviction = _sizing_controls(ctx, recorded=False)
    st.caption(f"selector of {strategy or strikes.DEFAULT_STRATEGY} with the picked run's params")
    view = _catalog_view(str(root), symbol, ts, direction.value, strategy, params_json, equity, conviction)
    _show(view, symbol, minute, direction)


def _show(view: strikes.ChainView, symbol: str, minute: str, direction: Direction) -> None:
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
    st.caption(f"verdict {view.sizing.text()}")
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
