"""Live Scalps tab: the live run's state and heartbeat, its open scalps counting down; refreshes itself."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard import live
from dashboard.ui.fmt import usd
from dashboard.ui.sidebar import Context

REFRESH_S = 5


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
        cols = st.columns(5)
        cols[0].metric("Run", str(run.get("run_id", "")))
        cols[1].metric("Mode", f"{run.get('mode')} · {run.get('broker') or 'n/a'}")
        if beat is not None:
            cols[2].metric("State", beat.state)
            cols[3].metric("Day P&L", usd(beat.day_pnl))
            price = "n/a" if beat.underlying_price is None else f"{beat.underlying_price:,.2f}"
            cols[4].metric(f"{beat.underlying or 'underlying'}", price)
            st.caption(f"data {beat.data_state or 'n/a'}; {beat.message or ''}")
        scalps = live.open_scalps_frame(beat, now)
        st.subheader(f"Open scalps ({len(scalps)})")
        if scalps.empty:
            st.caption("no open scalp in the last heartbeat")
        else:
            st.dataframe(
                scalps.drop(columns=["to_expiry_s", "to_cutoff_s"]),
                hide_index=True,
                column_config={
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
