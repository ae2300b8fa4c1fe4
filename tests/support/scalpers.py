"""Deterministic stand-ins for engine tests: a pipeline that always picks the nearest strike.

``FixedScalper.process_signal`` returns a real ``OrderIntent`` for the contract
nearest to the money of the signal's right and the earliest expiry in the
snapshot, ``quantity`` contracts, priced ``mid + limit_offset`` (``order_type``
"limit") or at the ask ("ask"). It records every snapshot it saw (for alignment
tests). Greeks are fixed placeholders (delta 0.45, theta -0.1, IV 0.2): the
engine tests are about orders and fills, not selection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from options_scalper.gates import GreeksDecision
from options_scalper.model import AccountState, ChainSnapshot, Direction, OptionRight, Rejection, Signal
from options_scalper.scalper import OrderIntent
from options_scalper.selection import StrikeSelection

NAN = float("nan")


@dataclass
class FixedScalper:
    quantity: int = 1
    add_quantity: int = 0
    order_type: str = "limit"
    limit_offset: float = 0.02
    max_open: int = 3
    seen: list[tuple[Any, float, float]] = field(default_factory=list)  # (ts, bid, ask) of the pick

    def process_signal(
        self, signal: Signal, snapshot: ChainSnapshot, account: AccountState, iv_history: Any = ()
    ) -> OrderIntent | Rejection:
        if account.open_scalps >= self.max_open:
            return Rejection("max_concurrent", "too many open scalps")
        want_call = signal.direction is Direction.BULLISH
        ok = (snapshot.is_call == want_call) & (snapshot.bid > 0) & (snapshot.ask > 0)
        if not ok.any():
            return Rejection("no_two_sided_quotes", "no quoted contract")
        idx = np.flatnonzero(ok)
        first = snapshot.expiry[idx].min()
        idx = idx[snapshot.expiry[idx] == first]
        j = idx[np.argmin(np.abs(snapshot.strike[idx] - snapshot.underlying_price))]
        bid, ask = float(snapshot.bid[j]), float(snapshot.ask[j])
        self.seen.append((snapshot.ts, bid, ask))
        expiry = first.astype("datetime64[D]").astype(date)
        limit = round((bid + ask) / 2 + self.limit_offset, 2) if self.order_type == "limit" else ask
        right = OptionRight.CALL if want_call else OptionRight.PUT
        dte = (expiry - snapshot.session_date).days
        selection = StrikeSelection(
            strike=float(snapshot.strike[j]),
            expiry=expiry,
            option_type=right.word,
            option_symbol=str(snapshot.symbol[j]),
            delta=0.45,
            gamma=NAN,
            theta=-0.1,
            iv=0.2,
            bid=bid,
            ask=ask,
            mid=(bid + ask) / 2,
            spread_pct=(ask - bid) / ((bid + ask) / 2),
            open_interest=None,
            volume=None,
            score=0.0,
            dte=dte,
            right=right,
            quote_age_min=float(snapshot.quote_age_min[j]),
            bid_size=float(snapshot.bid_size[j]),
            ask_size=float(snapshot.ask_size[j]),
            underlying_price=snapshot.underlying_price,
            time_to_expiry_years=NAN,
            vega=NAN,
            theta_per_day=-0.1,
        )
        return OrderIntent(
            signal_id=signal.signal_id,
            ticker=signal.ticker,
            option_symbol=selection.option_symbol,
            right=right,
            strike=selection.strike,
            expiry=expiry,
            dte=dte,
            direction=signal.direction,
            quantity=self.quantity,
            total_quantity=self.quantity + self.add_quantity,
            add_quantity=self.add_quantity,
            limit_price=limit,
            order_type=self.order_type,
            selection=selection,
            gate=GreeksDecision(approved=True, reason=None, adjustments=None),
            conviction=signal.conviction,
            created=snapshot.ts,
        )
