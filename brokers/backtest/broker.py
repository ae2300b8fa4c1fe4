"""Honest fills on option quotes: buy at the ask, sell at the bid, never at mid.

``QuoteBroker`` is Backtrader's ``BackBroker`` with a different ``_try_exec``
for orders on a :class:`feeds.backtest.contracts.ContractFeed` (orders on other
feeds keep Backtrader's OHLC rules). On a contract feed:

* an order never fills on the bar it was submitted on: the bar stamped t
  carries the quotes of minute t, which the strategy already saw; the first
  chance is the bar stamped t + 1 minute.
* the rule itself is ``options_scalper.fills`` (shared with the dry run and the fakes):
  Market BUY fills at that bar's ASK, Market SELL at its BID.
* Limit BUY fills only when ask <= limit, at the ASK (the price on the screen,
  which is at or below the limit: a marketable limit takes the offer, it does
  not pay its own limit); Limit SELL only when bid >= limit, at the BID.
* No fill while the needed side is NaN, <= 0, or older than
  ``max_quote_age_min`` minutes (the order's own ``max_quote_age_min`` info
  when the strategy gave one, else the broker's; the order waits and
  ``no_fill`` counts why).
* ``valid`` (a bar count turned into a datetime by the strategy) expires
  Limit orders the Backtrader way and, here, Market orders too.
* ``cap_to_size`` (on by default): fill at most the displayed size each bar; the rest stays
  working and fills on later bars (``Order.Partial`` notifications). A size of
  0 means "unknown" in the catalog and is not capped.

Expiry: after the orders of a bar are processed, any long position whose
contract reached its expiry close (``ContractSpec.expiry_close_utc`` <= bar)
is settled at intrinsic value from the clock feed's close of that bar: working
orders on it are cancelled and a sell is executed at the intrinsic price,
tagged ``exit_reason='expiry'`` and ``settle_price`` in ``order.info``. The
regular per-contract commission applies (conservative). Notifications reach
``notify_order`` / ``notify_trade`` before the strategy's ``next()`` for
that bar. This is the one fill not at a quoted price.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import backtrader as bt

from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT, OptionCommInfo
from feeds.backtest.contracts import ContractFeed
from options_scalper.constants import DEFAULT_CAP_TO_SIZE, DEFAULT_CASH, DEFAULT_MAX_QUOTE_AGE_MIN
from options_scalper.fills import fill_price, fill_quantity

EXPIRY_REASON = "expiry"


class QuoteBroker(bt.brokers.BackBroker):
    """``BackBroker`` that fills option orders at the quoted bid/ask and settles expiries."""

    params = (
        ("max_quote_age_min", DEFAULT_MAX_QUOTE_AGE_MIN),
        ("cap_to_size", DEFAULT_CAP_TO_SIZE),
    )

    def __init__(self) -> None:
        super().__init__()
        self.p.filler = self._fill_size
        self.no_fill: Counter[str] = Counter()
        self.settlements = 0

    def set_cap_to_size(self, cap: bool) -> None:
        self.p.cap_to_size = bool(cap)

    def set_max_quote_age(self, minutes: float) -> None:
        self.p.max_quote_age_min = float(minutes)

    # ------------------------------------------------------------------ sizes
    def _fill_size(self, order: bt.Order, price: float, ago: int) -> float:
        remaining = abs(order.executed.remsize)
        if order.info.get("settle_price") is not None or not isinstance(order.data, ContractFeed):
            return remaining
        shown = order.data.asksize[ago] if order.isbuy() else order.data.bidsize[ago]
        return fill_quantity(remaining, shown, self.p.cap_to_size)

    # ------------------------------------------------------------------ cash check
    def check_submitted(self) -> None:
        # Orders created on a bar without a mark (a freshly bound feed) carry a NaN
        # created price; check cash at the executable side instead.
        for order in self.submitted:
            if isinstance(order.data, ContractFeed) and _nan(order.created.price):
                side = order.data.ask[0] if order.isbuy() else order.data.bid[0]
                if _nan(side):
                    side = self.positions[order.data].price if not order.isbuy() else float("inf")
                order.created.price = side
        super().check_submitted()

    # ------------------------------------------------------------------ execution
    def _try_exec(self, order: bt.Order) -> None:
        data = order.data
        if not isinstance(data, ContractFeed):
            super()._try_exec(order)
            return
        if order.info.get("settle_price") is not None:
            return
        dt = data.datetime[0]
        if dt <= order.created.dt:
            return  # never on the submission bar
        if order.exectype == bt.Order.Market and order.valid and dt > order.valid:
            self._expire(order, dt)
            return
        if order.exectype not in (bt.Order.Market, bt.Order.Limit):
            order.reject(self)
            self.notify(order)
            self._ococheck(order)
            return
        max_age = order.info.get("max_quote_age_min", self.p.max_quote_age_min)
        limit = order.created.price if order.exectype == bt.Order.Limit else None
        price, why = fill_price(order.isbuy(), limit, data.bid[0], data.ask[0], data.quoteage[0], max_age)
        if price is None:
            self.no_fill[str(why)] += 1
            return
        self._execute(order, ago=0, price=price)

    def _expire(self, order: bt.Order, dt: float) -> None:
        order.status = bt.Order.Expired
        order.executed.dt = dt
        self.notify(order)
        self._ococheck(order)
        self._bracketize(order, cancel=True)

    def next(self) -> None:
        super().next()
        if self._settle_expired():
            self._get_value()

    def _settle_expired(self) -> bool:
        settled = False
        for data, pos in list(self.positions.items()):
            if not pos.size or not isinstance(data, ContractFeed) or data.spec is None:
                continue
            if not len(data) or data.datetime.datetime(0) < data.spec.expiry_close_utc:
                continue
            clock = data.underlying
            last = clock.close[0] if clock is not None and len(clock) else float("nan")
            if _nan(last):
                self.no_fill["expiry_without_underlying_price"] += 1
                continue
            for other in list(self.pending):
                if other is not None and other.data is data:
                    self.cancel(other)
            price = data.spec.intrinsic(float(last))
            order = self.sell(
                owner=data.owner,
                data=data,
                size=abs(pos.size),
                exectype=bt.Order.Market,
                _checksubmit=False,
                exit_reason=EXPIRY_REASON,
                settle_price=price,
            )
            self.pending.remove(order)
            self._execute(order, ago=0, price=price)
            self.settlements += 1
            settled = True
        return settled


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def make_broker(
    cash: float = DEFAULT_CASH,
    commission: float = DEFAULT_COMMISSION_PER_CONTRACT,
    cap_to_size: bool = DEFAULT_CAP_TO_SIZE,
    max_quote_age_min: float = DEFAULT_MAX_QUOTE_AGE_MIN,
) -> QuoteBroker:
    """A ``QuoteBroker`` with ``cash`` and the option commission."""
    broker = QuoteBroker()
    broker.setcash(cash)
    broker.set_cap_to_size(cap_to_size)
    broker.set_max_quote_age(max_quote_age_min)
    broker.addcommissioninfo(OptionCommInfo(commission=commission))
    return broker


def install(
    cerebro: bt.Cerebro,
    cash: float = DEFAULT_CASH,
    commission: float = DEFAULT_COMMISSION_PER_CONTRACT,
    cap_to_size: bool = DEFAULT_CAP_TO_SIZE,
    max_quote_age_min: float = DEFAULT_MAX_QUOTE_AGE_MIN,
) -> QuoteBroker:
    """Give ``cerebro`` a ``QuoteBroker`` (``make_broker``) and return it."""
    broker = make_broker(cash, commission, cap_to_size, max_quote_age_min)
    cerebro.broker = broker
    return broker
