"""The fill rule at the quotes: one implementation for the backtest broker, the dry run and the fakes.

Pure (no backtrader, no I/O). An order on a contract can trade against a minute's
quote when:

* the side it takes is tradable (``side_ok``: a positive price not older than
  ``max_age_min``): a buy takes the ASK, a sell the BID, never the mid;
* a limit is reached: a buy only when ask <= limit, a sell only when bid >= limit; it
  then trades at the quote (a marketable limit takes the offer, it does not pay its own
  limit);
* at most the displayed size when ``cap_to_size`` (a size that is NaN or <= 0 means
  "unknown" and is not capped); at least one contract.

The caller decides WHEN (never on the submission minute) and books what it gets.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from options_scalper.quotes import side_ok

LIMIT_EPSILON = 1e-9

NO_ASK = "no_ask"
NO_BID = "no_bid"
LIMIT_NOT_REACHED = "limit_not_reached"


class FillPrice(NamedTuple):
    """The price an order trades at, or None and why not (``NO_ASK``, ``NO_BID``, ``LIMIT_NOT_REACHED``)."""

    price: float | None
    reason: str | None


def fill_price(
    buy: bool, limit: float | None, bid: float, ask: float, quote_age_min: float, max_age_min: float
) -> FillPrice:
    """Where an order (``limit`` None: a market order) trades against this quote, if it does."""
    price = ask if buy else bid
    if not side_ok(price, quote_age_min, max_age_min):
        return FillPrice(None, NO_ASK if buy else NO_BID)
    if limit is not None and (
        (buy and price > limit + LIMIT_EPSILON) or (not buy and price < limit - LIMIT_EPSILON)
    ):
        return FillPrice(None, LIMIT_NOT_REACHED)
    return FillPrice(float(price), None)


def fill_quantity(remaining: float, shown_size: float | None, cap_to_size: bool) -> float:
    """How much of ``remaining`` fills: all of it, or at most the displayed size (>= 1) when capped."""
    if not cap_to_size or shown_size is None or math.isnan(shown_size) or shown_size <= 0:
        return remaining
    return min(remaining, max(1, int(shown_size)))


__all__ = ["LIMIT_NOT_REACHED", "NO_ASK", "NO_BID", "FillPrice", "fill_price", "fill_quantity"]
