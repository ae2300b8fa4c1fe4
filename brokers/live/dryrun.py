"""``--dry-run``: everything live but the order submission, which is simulated at the live quotes.

``DryRunVenue(venue)`` is a ``LiveVenue`` that hands market data, the clock and the
streams' states straight through to the real venue and keeps orders, executions,
cash and positions to itself. Orders are matched by THE BACKTEST'S fill rule
(``options_scalper.fills``: a buy at the ask when ask <= limit, a sell at the bid when
bid >= limit, at most the displayed size, never in the minute it was sent), once per
minute, against the latest quote of the contract at that minute's close, and the
same ``OrderEvent`` s a venue sends come out (accepted, partial fill / fill with one
``Execution`` each, canceled, rejected).

A minute is matched when its bar arrives (before the bar is handed on, so the
broker books the fills of minute m before the strategy sees bar m, as in the
backtest) or when the venue's clock shows it closed (a minute without a bar).
Quotes come from the contract subscriptions the contract feeds open; the dry venue
listens to them too.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT
from brokers.live.venue import (
    AccountReport,
    EventKind,
    Execution,
    LiveBar,
    LiveVenue,
    OptionQuote,
    OrderEvent,
    OrderReport,
    OrderRequest,
    OrderStatus,
    PositionReport,
    VenueClock,
)
from options_scalper.constants import CONTRACT_MULTIPLIER, DEFAULT_CAP_TO_SIZE, DEFAULT_MAX_QUOTE_AGE_MIN
from options_scalper.fills import fill_price, fill_quantity

log = logging.getLogger(__name__)
_MINUTE = timedelta(minutes=1)


class _Order:
    def __init__(self, request: OrderRequest, venue_order_id: str, submitted: datetime | None) -> None:
        self.request = request
        self.venue_order_id = venue_order_id
        self.submitted = submitted
        self.filled = 0
        self.status = OrderStatus.ACCEPTED
        self.message = ""

    def report(self) -> OrderReport:
        r = self.request
        return OrderReport(self.venue_order_id, r.client_order_id, r.option_symbol, r.side, r.qty, self.filled,
                           r.limit_price, self.status, self.message, self.submitted)  # fmt: skip


class DryRunVenue:
    """A venue wrapper that simulates the orders (see module doc); the real venue never sees one."""

    def __init__(
        self,
        venue: LiveVenue,
        *,
        cash: float | None = None,
        cap_to_size: bool = DEFAULT_CAP_TO_SIZE,
        max_quote_age_min: float = DEFAULT_MAX_QUOTE_AGE_MIN,
        commission: float = DEFAULT_COMMISSION_PER_CONTRACT,
    ) -> None:
        self.real = venue
        self.name = venue.name
        self.cap_to_size = bool(cap_to_size)
        self.max_quote_age_min = float(max_quote_age_min)
        self.commission = float(commission)
        self._cash = cash
        self._lock = threading.RLock()
        self._orders: dict[str, _Order] = {}
        self._positions: dict[str, tuple[int, float]] = {}
        self._quotes: dict[str, OptionQuote] = {}
        self._listeners: list[Callable[[OrderEvent], None]] = []
        self._ids = itertools.count(1)
        self._minute: datetime | None = None  # the last minute matched (a bar-close stamp)

    # ------------------------------------------------------------------ passed through
    def connect(self) -> None:
        self.real.connect()

    def close(self) -> None:
        self.real.close()

    def on_status(self, listener: Callable[[str, bool, str], None]) -> None:
        self.real.on_status(listener)

    def clock(self) -> VenueClock:
        clock = self.real.clock()
        self._advance(clock.now.replace(second=0, microsecond=0))
        return clock

    def historical_bars(self, symbol: str, start: datetime, end: datetime) -> list[LiveBar]:
        return self.real.historical_bars(symbol, start, end)

    def option_expiries(self, underlying: str, first: date, last: date) -> list[date]:
        return self.real.option_expiries(underlying, first, last)

    def chain(self, request: Any) -> list[OptionQuote]:
        return self.real.chain(request)

    def subscribe_bars(self, symbols: Sequence[str], on_bar: Callable[[LiveBar], None]) -> None:
        def bar_then_forward(bar: LiveBar) -> None:
            self._advance(bar.start + _MINUTE)  # fills of minute m before bar m reaches the clock
            on_bar(bar)

        self.real.subscribe_bars(symbols, bar_then_forward)

    def subscribe_quotes(
        self, option_symbols: Sequence[str], on_quote: Callable[[OptionQuote], None]
    ) -> None:
        def keep_then_forward(q: OptionQuote) -> None:
            with self._lock:
                last = self._quotes.get(q.option_symbol)
                if last is None or q.ts >= last.ts:
                    self._quotes[q.option_symbol] = q
            on_quote(q)

        self.real.subscribe_quotes(option_symbols, keep_then_forward)

    def unsubscribe_quotes(self, option_symbols: Sequence[str]) -> None:
        self.real.unsubscribe_quotes(option_symbols)

    # ------------------------------------------------------------------ simulated account
    def account(self) -> AccountReport:
        real = self.real.account()
        with self._lock:
            if self._cash is None:
                self._cash = float(real.cash)
            held = sum(qty * avg * CONTRACT_MULTIPLIER for qty, avg in self._positions.values())
            return AccountReport(real.account_number, self._cash, self._cash + held, self._cash, real.paper,
                                 real.options_approved, real.currency)  # fmt: skip

    def positions(self) -> list[PositionReport]:
        with self._lock:
            return [PositionReport(s, q, p) for s, (q, p) in self._positions.items() if q]

    def open_orders(self) -> list[OrderReport]:
        with self._lock:
            return [o.report() for o in self._orders.values() if not o.status.done]

    def find_order(self, client_order_id: str) -> OrderReport | None:
        with self._lock:
            found = [o for o in self._orders.values() if o.request.client_order_id == client_order_id]
            return found[0].report() if found else None

    # ------------------------------------------------------------------ simulated orders
    def subscribe_orders(self, on_event: Callable[[OrderEvent], None]) -> None:
        self._listeners.append(on_event)

    def submit(self, request: OrderRequest) -> OrderReport:
        if self._cash is None:
            self.account()
        with self._lock:
            order = _Order(request, f"dry-{next(self._ids)}", self._minute)
            self._orders[order.venue_order_id] = order
            why = self._refusal(request)
            if why:
                order.status, order.message = OrderStatus.REJECTED, why
            kind = EventKind.REJECTED if why else EventKind.ACCEPTED
            event = OrderEvent(kind, order.report(), self._minute or datetime.now().astimezone(), message=why)
        self._emit([event])
        return event.order

    def _refusal(self, r: OrderRequest) -> str:
        if r.qty <= 0 or not r.limit_price > 0:
            return f"invalid order: qty {r.qty}, limit {r.limit_price}"
        if r.side == "sell":
            held = self._positions.get(r.option_symbol, (0, 0.0))[0]
            selling = sum(o.request.qty - o.filled for o in self._orders.values()
                          if o.request.side == "sell" and o.request.option_symbol == r.option_symbol
                          and not o.status.done and o.request is not r)  # fmt: skip
            if r.qty > held - selling:
                return f"insufficient qty available for order (held {held}, selling {selling})"
        return ""

    def cancel(self, venue_order_id: str) -> None:
        with self._lock:
            order = self._orders.get(venue_order_id)
            if order is None or order.status.done:
                return
            order.status = OrderStatus.CANCELED
            event = OrderEvent(
                EventKind.CANCELED, order.report(), self._minute or datetime.now().astimezone()
            )
        self._emit([event])

    def _advance(self, minute: datetime) -> None:
        """Match the working orders at ``minute`` (once per minute, oldest minute first)."""
        with self._lock:
            if self._minute is not None and minute <= self._minute:
                return
            self._minute = minute
            events = [e for o in list(self._orders.values()) if (e := self._match(o, minute)) is not None]
        self._emit(events)

    def _match(self, order: _Order, minute: datetime) -> OrderEvent | None:
        if order.status.done or order.submitted is None or order.submitted >= minute:
            return None
        r = order.request
        q = self._quotes.get(r.option_symbol)
        if q is None or q.ts > minute:
            return None
        buy = r.side == "buy"
        age = max(0.0, (minute - q.ts) // _MINUTE)
        price, _ = fill_price(buy, r.limit_price, q.bid, q.ask, float(age), self.max_quote_age_min)
        if price is None:
            return None
        qty = int(fill_quantity(r.qty - order.filled, q.ask_size if buy else q.bid_size, self.cap_to_size))
        order.filled += qty
        order.status = OrderStatus.FILLED if order.filled >= r.qty else OrderStatus.PARTIALLY_FILLED
        fee = self.commission * qty
        held, avg = self._positions.get(r.option_symbol, (0, 0.0))
        assert self._cash is not None
        if buy:
            self._cash -= qty * price * CONTRACT_MULTIPLIER + fee
            avg = (held * avg + qty * price) / (held + qty)
            held += qty
        else:
            self._cash += qty * price * CONTRACT_MULTIPLIER - fee
            held -= qty
        self._positions[r.option_symbol] = (held, avg if held else 0.0)
        execution = Execution(f"{order.venue_order_id}-x{order.filled}", order.venue_order_id, r.client_order_id,
                              r.option_symbol, r.side, qty, price, minute, fee)  # fmt: skip
        kind = EventKind.FILL if order.status is OrderStatus.FILLED else EventKind.PARTIAL_FILL
        return OrderEvent(kind, order.report(), minute, execution)

    def _emit(self, events: list[OrderEvent]) -> None:
        for event in events:
            for listener in list(self._listeners):
                listener(event)


__all__ = ["DryRunVenue"]
