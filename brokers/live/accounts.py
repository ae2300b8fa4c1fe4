"""The account side of ``LiveBroker``: periodic refreshes from the venue and adopting what it holds.

``Reconciles`` is mixed into ``brokers.live.broker.LiveBroker``: every ``refresh_minutes``
clock minutes, when nothing is in flight, the cash is re-read from the venue's account and
the contract feeds' positions are compared with the venue's (a difference is logged and
kept in ``mismatches`` for the runtime, which decides); ``adopt`` attaches a position and
a working order found at start (reconciliation) to a contract feed so its exit is managed.
"""

from __future__ import annotations

import collections
import logging
import queue
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import backtrader as bt

from brokers.live.venue import OrderEvent, OrderReport, PositionReport, VenueError

log = logging.getLogger(__name__)
_MINUTE = timedelta(minutes=1)


class Reconciles:
    """Account refresh, position checks and adoption of ``LiveBroker`` (its state lives on the broker)."""

    venue: Any
    p: Any
    cash: float
    feeds: list[Any]
    positions: collections.defaultdict[Any, bt.Position]
    mismatches: list[tuple[datetime, str, int, int]]
    _orders: dict[str, bt.Order]
    _venue_ids: dict[int, str]
    _waiting: list[bt.Order]
    _events: queue.Queue[OrderEvent]
    _last_refresh: datetime | None
    getcommissioninfo: Callable[[Any], Any]  # the broker's

    def _refresh(self, now: datetime) -> None:
        minutes = int(self.p.refresh_minutes or 0)
        if not minutes or (self._last_refresh is not None and now - self._last_refresh < minutes * _MINUTE):
            return
        if any(o.alive() for o in self._orders.values()) or self._waiting or not self._events.empty():
            return  # executions in flight: the account and the bookkeeping may disagree for a moment
        self._last_refresh = now
        try:
            account = self.venue.account()
        except VenueError as err:
            log.warning("account refresh failed: %s", err)
            return
        if abs(account.cash - self.cash) > 0.005:
            log.info("cash %.2f -> %.2f from the venue's account", self.cash, account.cash)
            self.cash = float(account.cash)
        self._check_positions(now)

    def _check_positions(self, now: datetime) -> None:
        """Compare the contract feeds' positions with the venue's; a difference is logged and kept in
        ``mismatches`` for the runtime (which decides: it never trades on a guess)."""
        try:
            held = {p.symbol: p.qty for p in self.venue.positions()}
        except VenueError as err:
            log.warning("positions refresh failed: %s", err)
            return
        for feed in self.feeds:
            symbol = getattr(feed, "option_symbol", None)
            local = int(self.positions[feed].size) if feed in self.positions else 0
            if symbol is not None and held.get(symbol, 0) != local:
                log.warning("%s: the venue holds %d, this run booked %d", symbol, held.get(symbol, 0), local)
                self.mismatches.append((now, symbol, local, held.get(symbol, 0)))

    def adopt(self, feed: Any, position: PositionReport | None = None, order: OrderReport | None = None,
              owner: Any = None) -> bt.Order | None:  # fmt: skip
        """Attach a venue position and/or working order (found at start) to ``feed`` so it is managed."""
        if position is not None and position.qty:
            self.positions[feed] = bt.Position(size=position.qty, price=position.avg_price)
        if order is None or order.status.done:
            return None
        make = bt.BuyOrder if order.side == "buy" else bt.SellOrder
        adopted: bt.Order = make(owner=owner, data=feed, size=order.qty - order.filled_qty,
                                 price=order.limit_price, exectype=bt.Order.Limit, simulated=not len(feed))  # fmt: skip
        adopted.addinfo(client_order_id=order.client_order_id, adopted=True)
        adopted.addcomminfo(self.getcommissioninfo(feed))
        self._orders[order.client_order_id] = adopted
        self._venue_ids[adopted.ref] = order.venue_order_id
        adopted.submit(self)
        adopted.accept(self)
        return adopted


__all__ = ["Reconciles"]
