"""Per-contract commission and the x100 multiplier for long option premium.

Cash semantics: buying an option pays the full premium up front, like a stock
(no margin): ``price * 100 * qty + commission`` leaves cash at the fill, and the
sale brings ``price * 100 * qty - commission`` back. Backtrader's stock-like
``CommInfoBase`` ignores ``mult`` in cost and value, its futures-like mode
moves only margin; so this class is stock-like with the multiplier applied
everywhere. With it, ``BackBroker`` rejects an entry (``Order.Margin``) whose
premium plus commission exceeds the cash, both at submission (checked at the
order's limit / estimate price) and at the fill (checked at the fill price).
"""

from __future__ import annotations

import math
from typing import Any

import backtrader as bt

from options_scalper.constants import CONTRACT_MULTIPLIER, DEFAULT_COMMISSION_PER_CONTRACT

__all__ = ["CONTRACT_MULTIPLIER", "DEFAULT_COMMISSION_PER_CONTRACT", "OptionCommInfo"]


class OptionCommInfo(bt.CommInfoBase):
    """Long options: ``commission`` dollars per contract, ``mult`` 100, premium paid in cash."""

    params = (
        ("commission", DEFAULT_COMMISSION_PER_CONTRACT),
        ("mult", CONTRACT_MULTIPLIER),
        ("commtype", bt.CommInfoBase.COMM_FIXED),
        ("stocklike", True),
        ("percabs", True),
    )

    def getoperationcost(self, size: float, price: float) -> float:
        return abs(size) * price * self.p.mult

    def getvaluesize(self, size: float, price: float) -> float:
        if not size:
            return 0.0  # unbound feeds carry NaN prices; an empty position is worth 0
        return size * price * self.p.mult

    def getvalue(self, position: Any, price: float) -> float:
        size = position.size
        if not size:
            return 0.0  # unbound feeds carry NaN prices; an empty position is worth 0
        if price is None or math.isnan(price):
            price = position.price  # no mark this minute: carry at cost
        if size > 0:
            return size * price * self.p.mult
        return (position.price * size + (position.price - price) * size) * self.p.mult

    def getsize(self, price: float, cash: float) -> int:
        return int(self.p.leverage * (cash // (price * self.p.mult)))

    def profitandloss(self, size: float, price: float, newprice: float) -> float:
        if not size or newprice is None or math.isnan(newprice):
            return 0.0
        return size * (newprice - price) * self.p.mult

    def cashadjust(self, size: float, price: float, newprice: float) -> float:
        return 0.0
