"""Deterministic stand-ins for engine tests: a pipeline that always picks the nearest strike.

``FixedScalper.process_signal`` returns an intent for the contract nearest to
the money of the signal's right and the earliest expiry in the snapshot,
``quantity`` contracts, priced ``mid + limit_offset`` (``order_type`` "limit")
or at the ask ("ask"). It records every snapshot it saw (for alignment tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from options_scalper.model import AccountState, ChainSnapshot, Direction, OptionRight, Rejection, Signal


@dataclass(frozen=True)
class StubSelection:
    delta: float
    theta: float
    iv: float
    bid: float
    ask: float


@dataclass(frozen=True)
class StubIntent:
    """The fields of ``options_scalper.scalper.OrderIntent`` the engine reads."""

    signal_id: str
    ticker: str
    option_symbol: str
    right: OptionRight
    strike: float
    expiry: date
    dte: int
    direction: Direction
    quantity: int
    total_quantity: int
    add_quantity: int
    limit_price: float
    order_type: str
    selection: StubSelection
    conviction: int


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
    ) -> StubIntent | Rejection:
        if account.open_scalps >= self.max_open:
            return Rejection("max_concurrent", "too many open scalps")
        want_call = signal.direction is Direction.BULLISH
        ok = (snapshot.is_call == want_call) & (snapshot.bid > 0) & (snapshot.ask > 0)
        if not ok.any():
            return Rejection("no_candidate", "no quoted contract")
        idx = np.flatnonzero(ok)
        first = snapshot.expiry[idx].min()
        idx = idx[snapshot.expiry[idx] == first]
        j = idx[np.argmin(np.abs(snapshot.strike[idx] - snapshot.underlying_price))]
        bid, ask = float(snapshot.bid[j]), float(snapshot.ask[j])
        self.seen.append((snapshot.ts, bid, ask))
        expiry = first.astype("datetime64[D]").astype(date)
        limit = round((bid + ask) / 2 + self.limit_offset, 2) if self.order_type == "limit" else ask
        return StubIntent(
            signal_id=signal.signal_id,
            ticker=signal.ticker,
            option_symbol=str(snapshot.symbol[j]),
            right=OptionRight.CALL if want_call else OptionRight.PUT,
            strike=float(snapshot.strike[j]),
            expiry=expiry,
            dte=(expiry - snapshot.session_date).days,
            direction=signal.direction,
            quantity=self.quantity,
            total_quantity=self.quantity + self.add_quantity,
            add_quantity=self.add_quantity,
            limit_price=limit,
            order_type=self.order_type,
            selection=StubSelection(0.45, -0.1, 0.2, bid, ask),
            conviction=signal.conviction,
        )
