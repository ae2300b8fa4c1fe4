"""Executions of orders this run did not send: a venue-side liquidation, an exercise or assignment.

The venue reports them as order events whose ``client_order_id`` is none of ours. When
the contract is bound to one of the broker's contract feeds, the execution is booked on
that feed's position (a simulated Backtrader order, notified like any other, so the
strategy's trade closes); otherwise it is only logged (the runtime's reconciliation sees
it in the account).
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

import backtrader as bt

from brokers.live.booking import book
from brokers.live.venue import EventKind, OrderEvent

log = logging.getLogger(__name__)


def book_foreign(broker: Any, event: OrderEvent) -> None:
    """Book ``event``'s execution on the contract feed bound to its contract, if any."""
    ex = event.execution
    if event.kind not in (EventKind.FILL, EventKind.PARTIAL_FILL) or ex is None:
        return
    if ex.execution_id in broker._executions:
        return
    feed = next(
        (f for f in getattr(broker, "feeds", ()) if getattr(f, "option_symbol", None) == ex.option_symbol),
        None,
    )
    if feed is None or not len(feed):
        log.warning("an execution of %s not sent by this run (%s %d @ %.2f): not booked", ex.option_symbol,
                    ex.side, ex.qty, ex.price)  # fmt: skip
        return
    make = bt.BuyOrder if ex.side == "buy" else bt.SellOrder
    # not simulated: Backtrader delivers only real orders to notify_order (the strategy books the fill)
    order: bt.Order = make(owner=feed.owner, data=feed, size=ex.qty, price=ex.price, exectype=bt.Order.Limit)
    order.addinfo(client_order_id=ex.client_order_id, venue_side=True, venue_message=event.message)
    order.submit(broker)
    order.accept(broker)
    size = float(ex.qty if ex.side == "buy" else -ex.qty)
    dt = bt.date2num(ex.ts.astimezone(UTC).replace(tzinfo=None))
    comminfo = broker.getcommissioninfo(feed)
    broker.cash, booked = book(order, broker.positions[feed], comminfo, size, float(ex.price), dt,
                               ex.commission, broker.cash)  # fmt: skip
    broker._executions[ex.execution_id] = booked
    order.completed()
    broker.notify(order)
    log.warning(
        "booked a venue-side execution of %s: %s %d @ %.2f", ex.option_symbol, ex.side, ex.qty, ex.price
    )


__all__ = ["book_foreign"]
