"""The live contract feeds (the ``ContractQuotes`` port) and the quote hub they stream from.

A ``LiveContractFeed`` emits exactly one bar per clock minute, on the clock's own
stamps (Backtrader aligns feeds by datetime): ``_load`` returns None until the
clock has produced that minute, then a bar carrying the bound contract's latest
quote as of that minute's close (lines ``bid, ask, bidsize, asksize, quoteage``,
OHLC = mid by the backtest's rule ``feeds.backtest.contracts.quote_bar``), or an
all-NaN bar while unbound. ``bind(spec)`` streams ``spec`` from the NEXT bar on
(``venue.subscribe_quotes`` through the hub), ``release()`` stops it
(``unsubscribe_quotes`` once no feed holds the contract).

``QuoteHub`` keeps, per subscribed contract, the last few ``OptionQuote`` s the
venue pushed (from the adapter's threads, under a lock) and reference-counts the
subscriptions, so many bind/release cycles of the same contract subscribe and
unsubscribe in pairs. A quote's age is whole minutes between its own time and
the bar's close (0: quoted during that minute), as the catalog's ``quote_age_min``.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import backtrader as bt

from brokers.live.clock import LiveClock, to_ns
from brokers.live.venue import LiveVenue, OptionQuote
from feeds.backtest.contracts import UNBOUND_BAR, quote_bar
from feeds.backtest.gapfill import NS_PER_MINUTE
from feeds.backtest.gridfeed import CONTRACT_KEEP_BARS, FeedError, bound_line_buffers
from options_scalper.quotes import ContractSpec, Quote

NAN = float("nan")
_KEEP_QUOTES = 64  # quotes kept per contract (the bar needs the last one at or before its close)


def _side(px: float) -> float:
    return px if px is not None and not math.isnan(px) and px > 0 else NAN


def as_quote(q: OptionQuote, at_ns: int) -> Quote:
    """``q`` as the bar of the minute closing at ``at_ns``: no side <= 0, age in whole minutes."""
    age = max(0, (at_ns - to_ns(q.ts)) // NS_PER_MINUTE)
    bid, ask = _side(q.bid), _side(q.ask)
    return Quote(bid, ask, float(q.bid_size), float(q.ask_size), float(age))


class QuoteHub:
    """Reference-counted quote subscriptions of one venue and the latest quotes they pushed."""

    def __init__(self, venue: LiveVenue) -> None:
        self.venue = venue
        self._lock = threading.Lock()
        self._quotes: dict[str, deque[OptionQuote]] = {}
        self._refs: dict[str, int] = {}
        self.subscribes = 0
        self.unsubscribes = 0

    def acquire(self, option_symbol: str, seed: OptionQuote | None = None) -> None:
        with self._lock:
            n = self._refs.get(option_symbol, 0)
            self._refs[option_symbol] = n + 1
            if n == 0:
                self._quotes[option_symbol] = deque(maxlen=_KEEP_QUOTES)
            if seed is not None:
                self._quotes[option_symbol].append(seed)
        if n == 0:
            self.subscribes += 1
            self.venue.subscribe_quotes([option_symbol], self.on_quote)

    def release(self, option_symbol: str) -> None:
        with self._lock:
            n = self._refs.get(option_symbol, 0)
            if n <= 0:
                return
            if n == 1:
                del self._refs[option_symbol]
                self._quotes.pop(option_symbol, None)
            else:
                self._refs[option_symbol] = n - 1
        if n == 1:
            self.unsubscribes += 1
            self.venue.unsubscribe_quotes([option_symbol])

    def on_quote(self, q: OptionQuote) -> None:
        """The venue's callback (any thread)."""
        with self._lock:
            kept = self._quotes.get(q.option_symbol)
            if kept is not None and (not kept or q.ts >= kept[-1].ts):
                kept.append(q)

    def latest(self, option_symbol: str, at_ns: int) -> OptionQuote | None:
        """The last quote of ``option_symbol`` stamped at or before ``at_ns`` (never a later one)."""
        with self._lock:
            kept = self._quotes.get(option_symbol)
            if not kept:
                return None
            for q in reversed(kept):
                if to_ns(q.ts) <= at_ns:
                    return q
        return None

    @property
    def subscribed(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._refs))


class LiveContractFeed(bt.feed.DataBase):
    """One reusable live option feed: NaN while unbound, the bound contract's quotes otherwise."""

    lines: Any = ("bid", "ask", "bidsize", "asksize", "quoteage")
    params: Any = (
        ("symbol", ""),
        ("keep_bars", CONTRACT_KEEP_BARS),
        ("timeframe", bt.TimeFrame.Minutes),
        ("compression", 1),
    )

    def __init__(self) -> None:
        super().__init__()
        self.clock: LiveClock | None = None
        self.hub: QuoteHub | None = None
        self.seed: Callable[[str], OptionQuote | None] | None = None  # the chain's last quote of a contract
        self.underlying: Any = None
        self.owner: Any = None
        self.spec: ContractSpec | None = None
        self._active: ContractSpec | None = None
        self._subscribed: str | None = None
        self._last_mark = NAN
        self._count = 0

    def attach(
        self, clock: LiveClock, hub: QuoteHub, seed: Callable[[str], OptionQuote | None] | None
    ) -> None:
        self.clock = self.underlying = clock
        self.hub = hub
        self.seed = seed

    @property
    def symbol(self) -> str:
        return str(self.p.symbol)

    def islive(self) -> bool:
        return True

    @property
    def bound(self) -> bool:
        return self.spec is not None

    @property
    def option_symbol(self) -> str | None:
        return None if self.spec is None else self.spec.option_symbol

    @property
    def streaming(self) -> ContractSpec | None:
        """The contract the CURRENT bar carries (None while that bar is unbound)."""
        return self._active

    def bind(self, spec: ContractSpec, owner: Any = None) -> None:
        """Stream ``spec`` 's quotes from the next bar on."""
        if self.spec is not None:
            raise FeedError(f"{self._name}: already bound to {self.spec.option_symbol}; release() it first")
        if self.hub is None or self.clock is None:
            raise FeedError(f"{self._name}: no quote hub attached; build it with LiveStore.getcontracts")
        self.spec = spec
        self.owner = owner
        seed = self.seed(spec.option_symbol) if self.seed is not None else None
        self.hub.acquire(spec.option_symbol, seed)
        self._subscribed = spec.option_symbol

    def release(self) -> None:
        """Stop streaming; bars are NaN again from the next bar."""
        self.spec = None
        self.owner = None
        self._unsubscribe()

    def _unsubscribe(self) -> None:
        if self._subscribed is not None and self.hub is not None:
            self.hub.release(self._subscribed)
        self._subscribed = None

    def start(self) -> None:
        super().start()
        self._count = 0
        bound_line_buffers(self, int(self.p.keep_bars or 0), f"{self._name} (LiveContractFeed)")

    def stop(self) -> None:
        self._unsubscribe()
        super().stop()

    def haslivedata(self) -> bool:
        return self.clock is not None and self.clock.produced > self._count

    def _load(self) -> bool | None:
        clock = self.clock
        if clock is None or clock.produced <= self._count:
            return False if clock is not None and clock.ended else None  # ends with the clock
        num, at_ns = clock.stamp(self._count)
        self._count += 1
        spec = self._active = self.spec
        if spec is None or self.hub is None:
            self._last_mark = NAN
            values: tuple[float, ...] = UNBOUND_BAR
        else:
            q = self.hub.latest(spec.option_symbol, at_ns)
            values, self._last_mark = quote_bar(None if q is None else as_quote(q, at_ns), self._last_mark)
        ln: Any = self.lines
        ln.datetime[0] = num
        names = ("open", "high", "low", "close", "volume", "openinterest", "bid", "ask", "bidsize", "asksize")
        for name, value in zip((*names, "quoteage"), values, strict=True):
            getattr(ln, name)[0] = value
        return True


def make_live_contract_feeds(n: int, symbol: str) -> list[LiveContractFeed]:
    make: Any = LiveContractFeed
    return [make(name=f"{symbol}_opt{i}", symbol=symbol) for i in range(n)]


__all__ = ["LiveContractFeed", "QuoteHub", "as_quote", "make_live_contract_feeds"]
