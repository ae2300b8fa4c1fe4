"""What Backtrader keeps of finished orders and closed trades, let go once a session: one module.

Depends on Backtrader 1.9.78.123 (``setup.cfg`` pins it), which keeps, for the whole run:

* ``Strategy._orders``: every order ever notified (``Strategy.clear`` extends it each bar;
  nothing in Backtrader reads it again);
* ``Strategy._trades[data][tradeid]``: every trade, closed ones included (only the last one
  of each list is read again, by ``Strategy._addnotification``);
* ``BackBroker.orders``: every order submitted (read only by ``orderstatus``, which falls
  back to the order itself when it is not there), ``BackBroker._pchildren``: an empty
  deque per executed order, and ``BackBroker._ocos``: a ref per order (read only for an
  order that is still alive).

Each finished order is a few KB of Python objects (``OrderData`` twice, execution bits,
``AutoOrderedDict`` info): tens of KB a session, tens of MB over 1,000 sessions.
``forget_finished`` drops them between sessions, keeping everything an alive order or the
next trade update reads. ``tests/integration/test_memory_bound.py`` proves the counts stay
flat over a long run and the trades are the same as without it.
"""

from __future__ import annotations

from typing import Any

import backtrader as bt

__all__ = ["forget_finished"]


def forget_finished(strategy: Any) -> None:
    """Drop the finished orders and closed trades ``strategy`` and its broker still hold."""
    strategy._orders.clear()
    for by_id in strategy._trades.values():
        for tradeid, trades in by_id.items():
            if len(trades) > 1:
                by_id[tradeid] = trades[-1:]
    broker = strategy.broker
    if isinstance(broker, bt.brokers.BackBroker):
        _forget_finished_orders(broker)


def _forget_finished_orders(broker: bt.brokers.BackBroker) -> None:
    done = [o for o in broker.orders if not o.alive()]
    if not done:
        return
    broker.orders = [o for o in broker.orders if o.alive()]
    for ref in [r for r, children in broker._pchildren.items() if not children]:
        del broker._pchildren[ref]
    leaders = {broker._ocos.get(o.ref) for o in broker.orders}  # OCO groups of alive orders
    for o in done:
        if o.ref not in leaders:
            broker._ocos.pop(o.ref, None)
