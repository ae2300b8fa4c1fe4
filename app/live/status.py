"""The status line printed once a minute (venue time in ET, prices, open scalps, P&L, state)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from options_scalper.calendar import to_eastern


@dataclass(frozen=True)
class ScalpView:
    """An open scalp as the status line and the heartbeat show it."""

    option_symbol: str
    contracts: int
    entry_premium: float
    bid: float
    pnl: float  # dollars at the bid, before exit commission

    @property
    def pnl_pct(self) -> float:
        cost = self.entry_premium * self.contracts * 100.0
        return self.pnl / cost if cost and not math.isnan(self.pnl) else math.nan


def money(x: float) -> str:
    if math.isnan(x):
        return "n/a"
    return f"{'-' if x < 0 else '+'}${abs(x):,.2f}"


def _price(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.2f}"


def status_line(
    now: datetime,
    prices: Mapping[str, float],
    scalps: Sequence[ScalpView],
    day_pnl: float,
    state: str,
    data_state: str = "",
) -> str:
    """``10:31 ET  SPY 575.12  open 1: SPY..C00575000 x2 @1.20 bid 1.35 +$30.00  day +$45.00  ACTIVE``."""
    parts = [f"{to_eastern(now):%H:%M} ET"]
    parts.append("  ".join(f"{sym} {_price(px)}" for sym, px in prices.items()))
    if scalps:
        opened = ", ".join(
            f"{s.option_symbol} x{s.contracts} @{_price(s.entry_premium)} bid {_price(s.bid)} {money(s.pnl)}"
            for s in scalps
        )
        parts.append(f"open {len(scalps)}: {opened}")
    else:
        parts.append("open 0")
    parts.append(f"day {money(day_pnl)}")
    parts.append(state + (f" (data {data_state})" if data_state and data_state != "LIVE" else ""))
    return "  ".join(p for p in parts if p)


__all__ = ["ScalpView", "money", "status_line"]
