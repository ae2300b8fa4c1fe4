"""Quote values every venue speaks: one contract's quote, what settles a contract, a tradable side.

Pure data (no backtrader, no I/O). Prices in dollars per share of premium, sizes in
contracts, ages in minutes since the quote last changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple


class Quote(NamedTuple):
    """One contract's quote at one minute; sizes in contracts, age in minutes."""

    bid: float
    ask: float
    bid_size: float
    ask_size: float
    age_min: float


@dataclass(frozen=True)
class ContractSpec:
    """What a contract feed streams and a broker settles: the contract, its payoff and expiry close."""

    option_symbol: str
    is_call: bool
    strike: float
    expiry: date
    expiry_close_utc: datetime  # naive UTC, the bar stamp at which it settles

    def intrinsic(self, underlying_price: float) -> float:
        """Intrinsic value, dollars per share, at ``underlying_price``."""
        if self.is_call:
            return max(0.0, underlying_price - self.strike)
        return max(0.0, self.strike - underlying_price)


def side_ok(price: float, age: float, max_age_min: float) -> bool:
    """True when a quote side can trade: a positive number not older than ``max_age_min``."""
    if price is None or math.isnan(price) or price <= 0:
        return False
    return not (age is not None and not math.isnan(age) and age > max_age_min)


__all__ = ["ContractSpec", "Quote", "side_ok"]
