"""``PaperBook``: a simulated venue's order book, account cash and positions.

One book behind every simulated venue: the dry run (``brokers.live.dryrun``) and the
replay market of the loopback fakes (``tests/support/replay_market.py``). It keeps the
orders, refuses what a venue refuses, matches the working orders once per minute by
THE BACKTEST'S fill rule (``options_scalper.fills``: a buy at the ask when ask <= limit,
a sell at the bid when bid >= limit, at most the displayed size when ``cap_to_size``,
never in the minute it was sent) and books each fill's cash (premium x 100 plus the
commission per contract) and position (average price of the buys), one ``Execution``
per fill. Every change returns the ``OrderEvent`` s a venue would send; the owner
emits them (after releasing its lock).

Not thread-safe: the owning venue serialises the calls (its own lock). Times are the
owner's minute-close stamps; a quote's age is whole minutes since its ``ts``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT
from brokers.live.venue import (
    EventKind,
    Execution,
    OptionQuote,
    OrderEvent,
    OrderReport,
    OrderRequest,
    OrderStatus,
    PositionReport,
)
from options_scalper.constants import CONTRACT_MULTIPLIER, DEFAULT_CAP_TO_SIZE, DEFAULT_MAX_QUOTE_AGE_MIN
from options_scalper.fills import fill_price, fill_quantity

MINUTE = timedelta(minutes=1)


@dataclass
class PaperOrder:
    request: OrderRequest
    venue_order_id: str
    submitted: datetime | None  # the minute it arrived in (never fills in it; None: never fills)
    status: OrderStatus = OrderStatus.ACCEPTED
    filled: int = 0
    message: str = ""

    def report(self) -> OrderReport:
        r = self.request
        return OrderReport(
            self.venue_order_id, r.client_order_id, r.option_symbol, r.side, r.qty, self.filled,
            r.limit_price, self.status, self.message, self.submitted,
        )  # fmt: skip


class PaperBook:
    """Orders, cash and positions of one simulated account (see module doc).

    ``id_prefix`` names the venue order ids (``<prefix>-1``, ...). Refusals: a bad quantity or
    limit and a sell of more than is held net of working sells, always; a client order id
    already used (``unique_client_ids``) and a buy whose premium with the working buys exceeds
    the cash (``check_buying_power``), as a venue does.
    """

    def __init__(
        self,
        cash: float,
        *,
        id_prefix: str,
        cap_to_size: bool = DEFAULT_CAP_TO_SIZE,
        max_quote_age_min: float = DEFAULT_MAX_QUOTE_AGE_MIN,
        commission: float = DEFAULT_COMMISSION_PER_CONTRACT,
        unique_client_ids: bool = True,
        check_buying_power: bool = True,
    ) -> None:
        self.cash = float(cash)
        self.id_prefix = id_prefix
        self.cap_to_size = bool(cap_to_size)
        self.max_quote_age_min = float(max_quote_age_min)
        self.commission = float(commission)
        self.unique_client_ids = bool(unique_client_ids)
        self.check_buying_power = bool(check_buying_power)
        self.orders: dict[str, PaperOrder] = {}
        self.holdings: dict[str, tuple[int, float]] = {}  # OCC -> (qty, average price)
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ reports
    def positions(self) -> list[PositionReport]:
        return [PositionReport(s, q, p) for s, (q, p) in self.holdings.items() if q]

    def open_orders(self) -> list[OrderReport]:
        return [o.report() for o in self.orders.values() if not o.status.done]

    def find_order(self, client_order_id: str) -> OrderReport | None:
        for o in self.orders.values():
            if o.request.client_order_id == client_order_id:
                return o.report()
        return None

    def order(self, venue_order_id: str) -> OrderReport | None:
        o = self.orders.get(venue_order_id)
        return None if o is None else o.report()

    # ------------------------------------------------------------------ orders
    def submit(self, request: OrderRequest, minute: datetime | None, at: datetime) -> OrderEvent:
        """Take ``request`` in ``minute`` (its ACCEPTED or REJECTED event, stamped ``at``)."""
        order = PaperOrder(request, f"{self.id_prefix}-{next(self._ids)}", minute)
        self.orders[order.venue_order_id] = order
        why = self._refusal(request)
        if why:
            order.status, order.message = OrderStatus.REJECTED, why
        return OrderEvent(EventKind.REJECTED if why else EventKind.ACCEPTED, order.report(), at, message=why)

    def _refusal(self, r: OrderRequest) -> str:
        if r.qty <= 0 or not r.limit_price > 0:
            return f"invalid order: qty {r.qty}, limit {r.limit_price}"
        others = [o for o in self.orders.values() if o.request is not r]
        if self.unique_client_ids and any(o.request.client_order_id == r.client_order_id for o in others):
            return f"client_order_id {r.client_order_id} must be unique"
        if r.side == "buy":
            if self.check_buying_power:
                working = sum(
                    (o.request.qty - o.filled) * o.request.limit_price * CONTRACT_MULTIPLIER
                    for o in others
                    if o.request.side == "buy" and not o.status.done
                )
                if r.qty * r.limit_price * CONTRACT_MULTIPLIER + working > self.cash:
                    return "insufficient buying power"
        else:
            held = self.holdings.get(r.option_symbol, (0, 0.0))[0]
            selling = sum(
                o.request.qty - o.filled
                for o in others
                if o.request.side == "sell"
                and o.request.option_symbol == r.option_symbol
                and not o.status.done
            )
            if r.qty > held - selling:
                return f"insufficient qty available for order (held {held}, selling {selling})"
        return ""

    def cancel(self, venue_order_id: str, at: datetime) -> OrderEvent | None:
        """Cancel a working order (its CANCELED event); None for an unknown or finished one."""
        order = self.orders.get(venue_order_id)
        if order is None or order.status.done:
            return None
        order.status = OrderStatus.CANCELED
        return OrderEvent(EventKind.CANCELED, order.report(), at)

    def expire(self, at: datetime) -> list[OrderEvent]:
        """Expire every working (day) order: the close."""
        events = []
        for order in self.orders.values():
            if not order.status.done:
                order.status = OrderStatus.EXPIRED
                events.append(OrderEvent(EventKind.EXPIRED, order.report(), at))
        return events

    # ------------------------------------------------------------------ matching
    def match(self, minute: datetime, quote_of: Callable[[str], OptionQuote | None]) -> list[OrderEvent]:
        """Fill the orders sent before ``minute`` that its quotes reach (``quote_of``: the contract's
        latest quote at ``minute``'s close, None: none); their fill events."""
        events = []
        for order in list(self.orders.values()):
            if order.status.done or order.submitted is None or order.submitted >= minute:
                continue
            r = order.request
            q = quote_of(r.option_symbol)
            if q is None or q.ts > minute:
                continue
            buy = r.side == "buy"
            age = max(0, (minute - q.ts) // MINUTE)
            price, _ = fill_price(buy, r.limit_price, q.bid, q.ask, float(age), self.max_quote_age_min)
            if price is None:
                continue
            qty = int(
                fill_quantity(r.qty - order.filled, q.ask_size if buy else q.bid_size, self.cap_to_size)
            )
            events.append(self._execute(order, qty, price, minute))
        return events

    def _execute(self, order: PaperOrder, qty: int, price: float, minute: datetime) -> OrderEvent:
        r = order.request
        order.filled += qty
        order.status = OrderStatus.FILLED if order.filled >= r.qty else OrderStatus.PARTIALLY_FILLED
        held, avg = self.holdings.get(r.option_symbol, (0, 0.0))
        fee = self.commission * qty
        if r.side == "buy":
            self.cash -= qty * price * CONTRACT_MULTIPLIER + fee
            avg = (held * avg + qty * price) / (held + qty)
            held += qty
        else:
            self.cash += qty * price * CONTRACT_MULTIPLIER - fee
            held -= qty
        self.holdings[r.option_symbol] = (held, avg if held else 0.0)
        execution = Execution(
            f"{order.venue_order_id}-x{order.filled}", order.venue_order_id, r.client_order_id,
            r.option_symbol, r.side, qty, price, minute, fee,
        )  # fmt: skip
        kind = EventKind.FILL if order.status is OrderStatus.FILLED else EventKind.PARTIAL_FILL
        return OrderEvent(kind, order.report(), minute, execution)


def emit(events: Iterable[OrderEvent], listeners: Sequence[Callable[[OrderEvent], None]]) -> None:
    """Hand each of ``events`` to each of ``listeners`` (as they are at that event), in order."""
    for event in events:
        for listener in list(listeners):
            listener(event)


__all__ = ["MINUTE", "PaperBook", "PaperOrder", "emit"]
