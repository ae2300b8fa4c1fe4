"""``--dry-run``: everything live but the order submission, which is simulated at the live quotes.

``DryRunVenue(venue)`` is a ``LiveVenue`` that hands market data, the clock and the
streams' states straight through to the real venue and keeps orders, executions,
cash and positions to itself (a ``brokers.live.paper.PaperBook``, the replay market's
book too; the dry run refuses only a bad order and a sell of more than is held: the
account's buying power is the real venue's). Orders are matched by THE BACKTEST'S fill rule
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

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT
from brokers.live.paper import MINUTE, PaperBook, emit
from brokers.live.venue import (
    AccountReport,
    LiveBar,
    LiveVenue,
    OptionQuote,
    OrderEvent,
    OrderReport,
    OrderRequest,
    PositionReport,
    VenueClock,
)
from options_scalper.constants import CONTRACT_MULTIPLIER, DEFAULT_CAP_TO_SIZE, DEFAULT_MAX_QUOTE_AGE_MIN

log = logging.getLogger(__name__)


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
        self.book = PaperBook(
            0.0 if cash is None else cash, id_prefix="dry", cap_to_size=cap_to_size,
            max_quote_age_min=max_quote_age_min, commission=commission,
            unique_client_ids=False, check_buying_power=False,
        )  # fmt: skip
        self._funded = cash is not None  # else the real account's cash, read on first use
        self._lock = threading.RLock()
        self._quotes: dict[str, OptionQuote] = {}
        self._listeners: list[Callable[[OrderEvent], None]] = []
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
            self._advance(bar.start + MINUTE)  # fills of minute m before bar m reaches the clock
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
            if not self._funded:
                self.book.cash, self._funded = float(real.cash), True
            cash = self.book.cash
            held = sum(qty * avg * CONTRACT_MULTIPLIER for qty, avg in self.book.holdings.values())
            return AccountReport(real.account_number, cash, cash + held, cash, real.paper,
                                 real.options_approved, real.currency)  # fmt: skip

    def positions(self) -> list[PositionReport]:
        with self._lock:
            return self.book.positions()

    def open_orders(self) -> list[OrderReport]:
        with self._lock:
            return self.book.open_orders()

    def find_order(self, client_order_id: str) -> OrderReport | None:
        with self._lock:
            return self.book.find_order(client_order_id)

    # ------------------------------------------------------------------ simulated orders
    def subscribe_orders(self, on_event: Callable[[OrderEvent], None]) -> None:
        self._listeners.append(on_event)

    def _stamp(self) -> datetime:
        return self._minute or datetime.now().astimezone()

    def submit(self, request: OrderRequest) -> OrderReport:
        if not self._funded:
            self.account()
        with self._lock:
            event = self.book.submit(request, self._minute, self._stamp())
        emit([event], self._listeners)
        return event.order

    def cancel(self, venue_order_id: str) -> None:
        with self._lock:
            event = self.book.cancel(venue_order_id, self._stamp())
        emit([] if event is None else [event], self._listeners)

    def _advance(self, minute: datetime) -> None:
        """Match the working orders at ``minute`` (once per minute, oldest minute first)."""
        with self._lock:
            if self._minute is not None and minute <= self._minute:
                return
            self._minute = minute
            events = self.book.match(minute, self._quotes.get)
        emit(events, self._listeners)


__all__ = ["DryRunVenue"]
