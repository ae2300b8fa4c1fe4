"""``LiveBroker``: Backtrader's broker interface over a ``LiveVenue`` (what ``QuoteBroker`` is to a backtest).

Orders on contract feeds become venue limit orders (``OrderRequest``), sent at once
from ``buy``/``sell`` (the venue matches them from the next minute on, as the
backtest's broker does):

* an entry is a limit at the strategy's price; a Market order is sent as a
  marketable limit: a sell at the feed's current bid less ``exit_slippage_pct``
  of it (at most ``exit_slippage_max`` dollars), a buy at the ask plus as much,
  never below one tick; with no quote on that side it waits, unsent, until one;
* ``valid`` (the strategy's fill timeout) is enforced on the CLOCK: on the bar at
  which the next minute would be past it the broker cancels, and reports the order
  Expired on the first bar past it (when the backtest's broker expires it); a
  strategy's cancel is reported Canceled, a venue's refusal Rejected with its
  message (``order.info['reject_reason']``);
* every ``Execution`` is booked once (by ``execution_id``) with ``order.execute``
  (``brokers.live.booking``): partials as ``Partial``, the last as ``Completed``,
  the venue's commission or the model's; ``notify_order``/``notify_trade`` reach
  the strategy from ``next()``, before the strategy's ``next()``, the Backtrader way;
* a lost submit reply is looked up with ``find_order(client_order_id)``, never resent.

Venue events arrive on the adapter's threads and wait in a queue that ``next()``
drains. Hooks for the runtime: ``gate(request) -> None | reason`` checked before
every submission (a reason rejects the order), ``listener(event)`` called with
every order event, ``adopt(feed, position, order)`` for reconciliation.
"""

from __future__ import annotations

import collections
import logging
import math
import queue
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import backtrader as bt

from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT, OptionCommInfo
from brokers.live.booking import book
from brokers.live.foreign import book_foreign
from brokers.live.venue import (
    EventKind,
    LiveVenue,
    OrderEvent,
    OrderReport,
    OrderRequest,
    OrderStatus,
    PositionReport,
    VenueError,
    VenueErrorKind,
)

log = logging.getLogger(__name__)

OrderGate = Callable[[OrderRequest], str | None]
EventListener = Callable[[OrderEvent], None]
TICK = 0.01
_MINUTE = timedelta(minutes=1)
_EPS = 1e-9


def client_order_id(run_id: str, ref: int) -> str:
    """``<run_id>-<order ref>``, at most 48 characters (the run id is cut, never the ref)."""
    tail = f"-{ref}"
    return f"{run_id[: 48 - len(tail)]}{tail}"


def marketable_limit(buy: bool, side_price: float, pct: float, cap: float) -> float:
    """A limit that takes ``side_price`` with a bounded slippage, on the tick grid, never below a tick."""
    slip = min(side_price * pct, cap)
    raw = side_price + slip if buy else side_price - slip
    ticks = math.ceil(raw / TICK - _EPS) if buy else math.floor(raw / TICK + _EPS)
    return round(max(TICK, ticks * TICK), 2)


class LiveBroker(bt.BrokerBase):
    """Backtrader broker over a live venue (see module doc)."""

    params: Any = (
        ("exit_slippage_pct", 0.10),
        ("exit_slippage_max", 0.25),
        ("refresh_minutes", 5),  # re-read the account's cash every this many clock minutes (0: never)
    )

    def __init__(
        self,
        venue: LiveVenue,
        *,
        run_id: str = "run",
        commission: float = DEFAULT_COMMISSION_PER_CONTRACT,
        gate: OrderGate | None = None,
        listener: EventListener | None = None,
        clocks: Iterable[Any] = (),
    ) -> None:
        super().__init__()
        self.venue = venue
        self.run_id = run_id
        self.gate = gate
        self.listener = listener
        self.clocks = list(clocks)
        self.feeds: list[Any] = []  # the contract feeds (venue-side executions are booked on them)
        self.addcommissioninfo(OptionCommInfo(commission=commission))

    def start(self) -> None:
        super().start()
        self.notifs: collections.deque[bt.Order] = collections.deque()
        self.positions: collections.defaultdict[Any, bt.Position] = collections.defaultdict(bt.Position)
        self._events: queue.Queue[OrderEvent] = queue.Queue()
        self._orders: dict[str, bt.Order] = {}  # by client_order_id
        self._venue_ids: dict[int, str] = {}  # order.ref -> venue_order_id
        self._executions: dict[str, float] = {}  # execution_id -> commission booked
        self._waiting: list[bt.Order] = []  # market orders without a quote to price them yet
        self._expiring: dict[int, bt.Order] = {}  # cancelled for their ``valid``: report Expired
        self._last_refresh: datetime | None = None
        account = self.venue.account()
        self.cash = self.startingcash = float(account.cash)
        self.venue.subscribe_orders(self._events.put)

    def get_notification(self) -> bt.Order | None:
        return self.notifs.popleft() if self.notifs else None

    def notify(self, order: bt.Order) -> None:
        self.notifs.append(order.clone())

    # ------------------------------------------------------------------ account
    def getcash(self) -> float:
        return float(self.cash)

    def getvalue(self, datas: Any = None, mkt: bool = False, lever: bool = False) -> float:
        value = 0.0 if datas else float(self.cash)
        for data in datas or list(self.positions):
            position = self.positions[data]
            if position.size:
                value += self.getcommissioninfo(data).getvalue(position, data.close[0])
        return value

    get_value = getvalue

    def getposition(self, data: Any) -> bt.Position:
        return self.positions[data]

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

    # ------------------------------------------------------------------ orders
    def buy(self, owner: Any, data: Any, size: float, price: float | None = None, plimit: Any = None,
            exectype: Any = None, valid: Any = None, tradeid: int = 0, oco: Any = None,
            trailamount: Any = None, trailpercent: Any = None, parent: Any = None, transmit: bool = True,
            histnotify: bool = False, _checksubmit: bool = True, **kwargs: Any) -> bt.Order:  # fmt: skip
        order = bt.BuyOrder(owner=owner, data=data, size=size, price=price, pricelimit=plimit,
                            exectype=exectype, valid=valid, tradeid=tradeid)  # fmt: skip
        return self._submit(order, kwargs)

    def sell(self, owner: Any, data: Any, size: float, price: float | None = None, plimit: Any = None,
             exectype: Any = None, valid: Any = None, tradeid: int = 0, oco: Any = None,
             trailamount: Any = None, trailpercent: Any = None, parent: Any = None, transmit: bool = True,
             histnotify: bool = False, _checksubmit: bool = True, **kwargs: Any) -> bt.Order:  # fmt: skip
        order = bt.SellOrder(owner=owner, data=data, size=size, price=price, pricelimit=plimit,
                             exectype=exectype, valid=valid, tradeid=tradeid)  # fmt: skip
        return self._submit(order, kwargs)

    def _submit(self, order: bt.Order, info: dict[str, Any]) -> bt.Order:
        order.addinfo(**info)
        order.addcomminfo(self.getcommissioninfo(order.data))
        coid = client_order_id(self.run_id, order.ref)
        order.addinfo(client_order_id=coid)
        self._orders[coid] = order
        order.submit(self)
        self.notify(order)
        not_live = [c for c in self.clocks if getattr(c, "_laststatus", c.LIVE) != c.LIVE]
        if not_live:
            return self._refuse(order, f"{not_live[0].symbol}: market data not live yet (backfilling)")
        if order.exectype not in (bt.Order.Limit, bt.Order.Market, None):
            return self._refuse(order, "only limit and market orders are supported live")
        self._send(order)
        return order

    def _request(self, order: bt.Order) -> OrderRequest | None:
        spec = getattr(order.data, "spec", None)
        if spec is None:
            return None
        buy = order.isbuy()
        if order.exectype == bt.Order.Limit:
            limit = round(float(order.created.price), 2)
        else:
            side = float(order.data.ask[0] if buy else order.data.bid[0])
            if not side > 0:
                return None  # no quote to price a marketable limit: wait for one
            limit = marketable_limit(
                buy, side, float(self.p.exit_slippage_pct), float(self.p.exit_slippage_max)
            )
        return OrderRequest(order.info["client_order_id"], spec.option_symbol, "buy" if buy else "sell",
                            int(abs(order.created.size)), limit)  # fmt: skip

    def _send(self, order: bt.Order) -> None:
        if getattr(order.data, "spec", None) is None:
            self._refuse(order, "the order's feed is bound to no contract")
            return
        request = self._request(order)
        if request is None:
            if order not in self._waiting:
                self._waiting.append(order)
            return
        if self.gate is not None:
            reason = self.gate(request)
            if reason:
                self._refuse(order, reason, request)
                return
        try:
            report = self.venue.submit(request)
        except VenueError as err:
            if err.kind is not VenueErrorKind.LOST_REPLY:
                self._refuse(order, str(err), request)
                return
            found = self._find(request.client_order_id)
            if found is None:
                self._refuse(order, f"the reply to {request.client_order_id} was lost and the venue has no such order; not resent", request)  # fmt: skip
                return
            log.warning("reply lost; %s found at the venue (%s)", request.client_order_id, found.status)
            report = found
        self._venue_ids[order.ref] = report.venue_order_id
        if report.status is OrderStatus.REJECTED and order.alive():
            self._refuse(order, report.message or "rejected by the venue")

    def _find(self, coid: str) -> OrderReport | None:
        try:
            return self.venue.find_order(coid)
        except VenueError as err:
            log.error("find_order(%s) failed: %s", coid, err)
            return None

    def _refuse(self, order: bt.Order, reason: str, request: OrderRequest | None = None) -> bt.Order:
        log.warning("order %s rejected: %s", order.info.get("client_order_id"), reason)
        order.addinfo(reject_reason=reason)
        order.reject(self)
        self.notify(order)
        if self.listener is not None and request is not None:
            report = OrderReport("", request.client_order_id, request.option_symbol, request.side, request.qty,
                                 0, request.limit_price, OrderStatus.REJECTED, reason)  # fmt: skip
            self.listener(OrderEvent(EventKind.REJECTED, report, datetime.now(UTC), message=reason))
        return order

    def cancel(self, order: bt.Order) -> None:
        if not order.alive():
            return
        if order in self._waiting:
            self._waiting.remove(order)
            order.cancel()
            self.notify(order)
            return
        venue_id = self._venue_ids.get(order.ref)
        if venue_id is None:
            return
        try:
            self.venue.cancel(venue_id)
        except VenueError as err:
            log.warning("cancel of %s failed: %s", order.info.get("client_order_id"), err)

    # ------------------------------------------------------------------ Backtrader's thread
    def next(self) -> None:
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            self._on_event(event)
        now = self._now()
        if now is None:
            return
        self._report_expired(now)
        for order in list(self._waiting):
            self._waiting.remove(order)
            self._send(order)
        self._cancel_timed_out(now)
        self._refresh(now)

    def _now(self) -> datetime | None:
        clock = self.clocks[0] if self.clocks else None
        if clock is None or not len(clock):
            return None
        return clock.datetime.datetime(0).replace(tzinfo=UTC)

    def _cancel_timed_out(self, now: datetime) -> None:
        upcoming = bt.date2num((now + _MINUTE).replace(tzinfo=None))
        for order in list(self._orders.values()):
            if (
                order.alive()
                and order.valid
                and order.ref not in self._expiring
                and upcoming > order.valid + _EPS
            ):
                self._expiring[order.ref] = order
                self.cancel(order)

    def _report_expired(self, now: datetime) -> None:
        num = bt.date2num(now.replace(tzinfo=None))
        for ref, order in list(self._expiring.items()):
            if order.status == bt.Order.Canceled and num > order.valid + _EPS:
                order.status = bt.Order.Expired
                order.executed.dt = num
                self.notify(order)
                del self._expiring[ref]
            elif not order.alive() and order.status != bt.Order.Canceled:
                del self._expiring[ref]  # filled (or rejected) before the cancel landed

    def _on_event(self, event: OrderEvent) -> None:
        if self.listener is not None:
            self.listener(event)
        order = self._orders.get(event.order.client_order_id)
        if order is None:
            book_foreign(self, event)
            return
        if event.order.venue_order_id:
            self._venue_ids.setdefault(order.ref, event.order.venue_order_id)
        kind = event.kind
        if kind is EventKind.ACCEPTED:
            if order.status in (bt.Order.Created, bt.Order.Submitted):
                order.accept(self)
                self.notify(order)
        elif kind in (EventKind.PARTIAL_FILL, EventKind.FILL) and event.execution is not None:
            self._execute(order, event)
        elif kind is EventKind.COMMISSION and event.execution is not None:
            self._late_commission(event)
        elif kind is EventKind.CANCELED and order.alive():
            order.cancel()
            if order.ref not in self._expiring:
                self.notify(order)
        elif kind is EventKind.EXPIRED and order.alive():
            order.status = bt.Order.Expired
            self.notify(order)
        elif kind is EventKind.REJECTED and order.alive():
            order.addinfo(reject_reason=event.message or event.order.message)
            order.reject(self)
            self.notify(order)

    def _execute(self, order: bt.Order, event: OrderEvent) -> None:
        ex = event.execution
        assert ex is not None
        if ex.execution_id in self._executions:
            log.info("execution %s seen twice; booked once", ex.execution_id)
            return
        size = float(ex.qty if ex.side == "buy" else -ex.qty)
        dt = bt.date2num(ex.ts.astimezone(UTC).replace(tzinfo=None))
        comminfo = self.getcommissioninfo(order.data)
        position = self.positions[order.data]
        self.cash, booked = book(
            order, position, comminfo, size, float(ex.price), dt, ex.commission, self.cash
        )
        self._executions[ex.execution_id] = booked
        if order.executed.remsize:
            order.partial()
        else:
            order.completed()
        self.notify(order)

    def _late_commission(self, event: OrderEvent) -> None:
        ex = event.execution
        assert ex is not None and ex.commission is not None
        booked = self._executions.get(ex.execution_id)
        if booked is not None:
            self.cash += booked - float(ex.commission)
            self._executions[ex.execution_id] = float(ex.commission)

    # ------------------------------------------------------------------ reconciliation
    def adopt(self, feed: Any, position: PositionReport | None = None, order: OrderReport | None = None,
              owner: Any = None) -> bt.Order | None:  # fmt: skip
        """Attach a venue position and/or working order (found at start) to ``feed`` so it is managed."""
        if position is not None and position.qty:
            self.positions[feed] = bt.Position(size=position.qty, price=position.avg_price)
        if order is None or order.status.done:
            return None
        make = bt.BuyOrder if order.side == "buy" else bt.SellOrder
        adopted: bt.Order = make(owner=owner, data=feed, size=order.qty - order.filled_qty,
                                 price=order.limit_price, exectype=bt.Order.Limit, simulated=True)  # fmt: skip
        adopted.addinfo(client_order_id=order.client_order_id, adopted=True)
        adopted.addcomminfo(self.getcommissioninfo(feed))
        self._orders[order.client_order_id] = adopted
        self._venue_ids[adopted.ref] = order.venue_order_id
        adopted.submit(self)
        adopted.accept(self)
        return adopted


__all__ = ["EventListener", "LiveBroker", "OrderGate", "client_order_id", "marketable_limit"]
