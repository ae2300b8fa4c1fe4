"""The backtest's per-contract Backtrader feed (the ``ContractQuotes`` port): binds to an option at run time.

Backtrader synchronises feeds by datetime, so every ``ContractFeed`` emits a
bar for EVERY clock minute (the same session grid as ``UnderlyingFeed``, from
the same catalog days and range). While unbound the bar is all NaN (volume 0)
and nothing can trade on it. ``bind(symbol)`` makes the feed stream that
contract's quotes from the clock's chain (a ``ChainProvider``) starting with the NEXT bar
it loads, so an order placed on the bar stamped t fills at the quotes of
t + 1 minute. ``release()`` returns it to NaN.

Lines: ``bid, ask, bidsize, asksize, quoteage`` plus OHLC = mid of the
minute (volume 0). When one side is missing the close carries the last valid
mid (a mark for the broker's portfolio value, never a fill price).

Binding at run time needs ``cerebro.run(preload=False)``: a preloaded feed has
all its bars before the strategy exists. ``bind`` refuses a preloaded feed.
"""

from __future__ import annotations

import math
from typing import Any

from feeds.backtest.gridfeed import DayGrid, FeedError, _GridFeed
from options_scalper.ports import ChainSource
from options_scalper.quotes import ContractSpec, Quote

NAN = float("nan")
# An unbound bar: no prices, no quote, volume and open interest 0 (VALUE_LINES order).
UNBOUND_BAR = (NAN, NAN, NAN, NAN, 0.0, 0.0, NAN, NAN, NAN, NAN, NAN)


class ContractFeed(_GridFeed):
    """One reusable option feed: NaN while unbound, the bound contract's quotes otherwise."""

    lines: Any = ("bid", "ask", "bidsize", "asksize", "quoteage")
    VALUE_LINES = (*_GridFeed.VALUE_LINES, "bid", "ask", "bidsize", "asksize", "quoteage")

    def __init__(self) -> None:
        super().__init__()
        self.source: ChainSource | None = None  # the clock's chain: where the bound quotes come from
        self.underlying: Any = None  # the clock feed (for expiry settlement)
        self.owner: Any = None  # the strategy that bound it
        self.spec: ContractSpec | None = None
        self._active: ContractSpec | None = None
        self._last_mark = NAN

    def attach(self, chain: ChainSource, underlying: Any = None) -> None:
        """Give the feed its quote source (the clock's chain) and clock feed; the store does this."""
        self.source = chain
        self.underlying = underlying

    @property
    def bound(self) -> bool:
        return self.spec is not None

    @property
    def option_symbol(self) -> str | None:
        return None if self.spec is None else self.spec.option_symbol

    def bind(self, spec: ContractSpec, owner: Any = None) -> None:
        """Stream ``spec`` 's quotes from the next loaded bar on."""
        if self.spec is not None:
            raise FeedError(f"{self._name}: already bound to {self.spec.option_symbol}; release() it first")
        if self.buflen() - len(self) > 1:  # a preloaded feed holds its future bars
            raise FeedError(f"{self._name}: contract feeds bind at run time; run Cerebro with preload=False")
        if self.source is None:
            raise FeedError(f"{self._name}: no chain attached; build it with BacktestStore.getcontracts")
        self.spec = spec
        self.owner = owner

    def release(self) -> None:
        """Stop streaming; bars are NaN again from the next loaded bar."""
        self.spec = None
        self.owner = None

    def _begin_day(self, grid: DayGrid) -> None:
        pass

    def _bar(self, i: int, grid: DayGrid) -> tuple[float, ...]:
        spec = self._active = self.spec
        if spec is None or self.source is None:
            self._last_mark = NAN
            return UNBOUND_BAR
        q = self.source.quote(spec.option_symbol, int(grid.ns[i]))
        values, self._last_mark = quote_bar(q, self._last_mark)
        return values

    @property
    def streaming(self) -> ContractSpec | None:
        """The contract the CURRENT bar carries (None while that bar is unbound)."""
        return self._active


def quote_bar(q: Quote | None, last_mark: float) -> tuple[tuple[float, ...], float]:
    """A bound contract's bar values (VALUE_LINES order) from its quote, and the mark to carry.

    OHLC = mid when both sides are quoted; else the last valid mid (a mark for the
    broker's portfolio value, never a fill price); with no two-sided quote yet,
    whichever side exists (bid first). Shared by the backtest and live contract feeds.
    """
    if q is None:
        bid = ask = bsz = asz = age = NAN
    else:
        bid, ask, bsz, asz, age = q
    if bid > 0 and ask > 0 and ask >= bid:
        mark = (bid + ask) / 2.0
        last_mark = mark
    elif not math.isnan(last_mark):
        mark = last_mark
    else:  # no two-sided quote yet: mark at whichever side exists (bid first)
        mark = bid if bid > 0 else (ask if ask > 0 else NAN)
    return (mark, mark, mark, mark, 0.0, 0.0, bid, ask, bsz, asz, age), last_mark


def make_contract_feeds(n: int, **feed_kwargs: Any) -> list[ContractFeed]:
    """Build ``n`` contract feeds over the same catalog, symbol and range as the clock."""
    symbol = feed_kwargs.get("symbol", "")
    make: Any = ContractFeed
    return [make(name=f"{symbol}_opt{i}", **feed_kwargs) for i in range(n)]


__all__ = ["UNBOUND_BAR", "ContractFeed", "make_contract_feeds", "quote_bar"]
