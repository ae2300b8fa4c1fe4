"""Booking one execution into Backtrader's order, position and cash, the way ``BackBroker`` does.

``book(order, position, comminfo, size, price, dt, commission, cash)`` repeats
``bt.brokers.BackBroker._execute``'s arithmetic for a real execution (the position's
``update``, the commission info's ``profitandloss`` / ``getoperationcost``,
``order.execute(...)``), so a live round trip's ``Trade.pnlcomm`` and the cash it
leaves are what the backtest's broker books for the same fills. The venue's
commission for the execution is used when it reported one, else the commission
model's (``brokers.commission.OptionCommInfo``); it is split between the closed and
the opened part in proportion to their sizes.
"""

from __future__ import annotations

from typing import Any

import backtrader as bt


def book(
    order: bt.Order,
    position: bt.Position,
    comminfo: Any,
    size: float,
    price: float,
    dt: float,
    commission: float | None,
    cash: float,
) -> tuple[float, float]:
    """Execute ``size`` (signed: > 0 bought) at ``price`` on ``order``; return (new cash, commission)."""
    pprice_orig = position.price
    psize, pprice, opened, closed = position.update(size, price)
    pnl = comminfo.profitandloss(-closed, pprice_orig, price)
    total = comminfo.getcommission(size, price) if commission is None else float(commission)
    share_closed = abs(closed) / abs(size) if size else 0.0
    closedcomm = total * share_closed if closed else 0.0
    openedcomm = total - closedcomm if opened else 0.0
    if closed and not opened:
        closedcomm = total
    closedvalue = 0.0
    if closed:
        closedvalue = comminfo.getoperationcost(closed, pprice_orig)
        cash += closedvalue + pnl * comminfo.stocklike - closedcomm
    openedvalue = 0.0
    if opened:
        openedvalue = comminfo.getoperationcost(opened, price)
        cash -= openedvalue + openedcomm
        position.adjbase = price
    order.execute(
        dt,
        size,
        price,
        closed,
        closedvalue,
        closedcomm,
        opened,
        openedvalue,
        openedcomm,
        comminfo.margin,
        pnl,
        psize,
        pprice,
    )
    order.addcomminfo(comminfo)
    return cash, total


__all__ = ["book"]
