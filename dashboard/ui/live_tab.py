"""Live Scalps tab: the live run's state and heartbeat, its open scalps counting down; refreshes itself."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard import live
from dashboard.ui.fmt import usd
from dashboard.ui.sidebar import Context

REFRESH_S = 5
COLUMNS = (
    "option_symbol",
    "contracts",
    "entry_premium",
    "bid",
    "ask",
    "pnl",
    "pnl_pct",
    "delta_entry",
    "delta_now",
    "theta_entry",
    "theta_now",
    "iv_entry",
    "iv_now",
    "to_expiry",
    "to_cutoff",
    "expiry",
    "entry_time",
    "cutoff",
)


def render(ctx: Context) -> None:
    @st.fragment(run_every=REFRESH_S)
    def _panel() -> None:
        now = datetime.now(UTC)
        status = live.live_status(ctx.journal, now)
        st.caption(f"refreshed {now:%H:%M:%S} UTC (every {REFRESH_S} s)")
        if status.kind == "none" or status.kind == "waiting":
            st.info(status.text)
            if status.kind == "none":
                return
        elif status.kind == "stale":
            st.warning(status.text)
        else:
            st.success(status.text)
        run = status.run or {}
        beat = status.heartbeat
        st.caption(
            f"run {run.get('run_id')} · {run.get('strategy')} · {run.get('mode')} on "
            f"{run.get('broker') or 'n/a'} · started {run.get('started_at')}"
        )
        if beat is not None:
            cols = st.columns(4)
            cols[0].metric("State", beat.state)
            cols[1].metric("Day P&L", usd(beat.day_pnl))
            price = "n/a" if beat.underlying_price is None else f"{beat.underlying_price:,.2f}"
            cols[2].metric(f"{beat.underlying or 'underlying'}", price)
            cols[3].metric("Data", beat.data_state or "n/a")
            bar = "n/a" if beat.bar_time is None else f"{beat.bar_time:%H:%M} UTC"
            st.caption(f"last bar {bar}; {beat.message or ''}")
        scalps = live.open_scalps_frame(beat, now)
        st.subheader(f"Open scalps ({len(scalps)})")
        if scalps.empty:
            st.caption("no open scalp in the last heartbeat")
        else:
            st.dataframe(
                live.shown_scalps(scalps.loc[:, list(COLUMNS)]),
                hide_index=True,
                column_config={
                    "entry_premium": st.column_config.NumberColumn(format="dollar"),
                    "pnl": st.column_config.NumberColumn(format="dollar"),
                    "pnl_pct": st.column_config.NumberColumn(format="percent"),
                },
                key="live_scalps",
            )
        orders = live.recent_orders(ctx.journal, str(run.get("run_id", "")))
        if not orders.empty:
            st.subheader("Latest order events")
            st.dataframe(orders, hide_index=True, key="live_orders")

    _panel()
