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
import queue
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import backtrader as bt

from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT, OptionCommInfo
from brokers.live.accounts import Reconciles
from brokers.live.booking import book
from brokers.live.foreign import book_foreign
from brokers.live.sending import SendsOrders, client_order_id, marketable_limit
from brokers.live.venue import (
    EventKind,
    LiveVenue,
    OrderEvent,
    OrderRequest,
    VenueError,
)

log = logging.getLogger(__name__)

OrderGate = Callable[[OrderRequest], str | None]
EventListener = Callable[[OrderEvent], None]
_MINUTE = timedelta(minutes=1)
_EPS = 1e-9


class LiveBroker(SendsOrders, Reconciles, bt.BrokerBase):
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
        self._replacing: dict[int, bt.Order] = {}  # marketable limits cancelled to be re-priced
        self._cancelled: set[int] = set()  # refs the strategy (or a timeout) cancelled
        self._last_refresh: datetime | None = None
        self.mismatches: list[tuple[datetime, str, int, int]] = []  # (when, contract, booked, venue's)
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
        self._reprice(now)
        self._refresh(now)

    def _clock_now(self) -> datetime | None:
        return self._now()

    def _reprice(self, now: datetime) -> None:
        """A marketable limit the quote ran away from for a minute is cancelled and sent again at the
        current quote (the backtest's Market order fills at the next quote, whatever it is)."""
        for order in {id(o): o for o in self._orders.values()}.values():
            if (
                not order.alive()
                or order.exectype != bt.Order.Market
                or order.ref in self._replacing
                or order.ref in self._cancelled
                or order.ref not in self._venue_ids
                or not len(order.data)
            ):
                continue
            sent_at, limit = order.info.get("sent_at"), order.info.get("sent_limit")
            if sent_at is None or limit is None or sent_at >= now:
                continue
            side = float(order.data.ask[0] if order.isbuy() else order.data.bid[0])
            away = side > limit + _EPS if order.isbuy() else side < limit - _EPS
            if side > 0 and away:
                self._replacing[order.ref] = order
                try:
                    self.venue.cancel(self._venue_ids[order.ref])
                except VenueError as err:
                    log.warning("re-pricing cancel of %s failed: %s", order.info.get("client_order_id"), err)
                    del self._replacing[order.ref]

    def _replace(self, order: bt.Order) -> None:
        """Send what is left of a re-priced order under a new client_order_id, at the current quote."""
        n = int(order.info.get("repriced", 0)) + 1
        coid = client_order_id(self.run_id, f"{order.ref}r{n}")
        order.addinfo(repriced=n, client_order_id=coid)
        self._orders[coid] = order
        self._venue_ids.pop(order.ref, None)
        log.info("re-pricing %s at the current quote (%s)", order.info.get("role") or "order", coid)
        self._send(order)

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
        elif kind is EventKind.CANCELED and order.alive() and order.ref in self._replacing:
            del self._replacing[order.ref]
            if order.ref in self._cancelled:
                order.cancel()
                self.notify(order)
            else:
                self._replace(order)
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


__all__ = ["EventListener", "LiveBroker", "OrderGate", "client_order_id", "marketable_limit"]
