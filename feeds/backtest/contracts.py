"""A small pool of per-contract Backtrader feeds that bind to an option at run time.

Backtrader synchronises feeds by datetime, so every ``ContractFeed`` emits a
bar for EVERY clock minute (the same session grid as ``UnderlyingFeed``, from
the same catalog days and range). While unbound the bar is all NaN (volume 0)
and nothing can trade on it. ``bind(symbol)`` makes the feed stream that
contract's quotes from the shared ``ChainProvider`` starting with the NEXT bar
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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from feeds.backtest.clock import DayGrid, FeedError, _GridFeed
from feeds.catalog.chain import ChainProvider

NAN = float("nan")
# An unbound bar: no prices, no quote, volume and open interest 0 (VALUE_LINES order).
_UNBOUND_BAR = (NAN, NAN, NAN, NAN, 0.0, 0.0, NAN, NAN, NAN, NAN, NAN)


@dataclass(frozen=True)
class ContractSpec:
    """What the broker needs to settle a contract: expiry close (UTC-naive) and payoff."""

    option_symbol: str
    is_call: bool
    strike: float
    expiry: date
    expiry_close_utc: datetime  # naive UTC, the bar stamp at which it settles

    def intrinsic(self, underlying_price: float) -> float:
        if self.is_call:
            return max(0.0, underlying_price - self.strike)
        return max(0.0, self.strike - underlying_price)


class ContractFeed(_GridFeed):
    """One reusable option feed: NaN while unbound, the bound contract's quotes otherwise."""

    lines: Any = ("bid", "ask", "bidsize", "asksize", "quoteage")
    VALUE_LINES = (*_GridFeed.VALUE_LINES, "bid", "ask", "bidsize", "asksize", "quoteage")

    def __init__(self) -> None:
        super().__init__()
        self.chain: ChainProvider | None = None
        self.underlying: Any = None  # the clock feed (for expiry settlement)
        self.owner: Any = None  # the strategy that bound it
        self.spec: ContractSpec | None = None
        self._active: ContractSpec | None = None
        self._last_mark = NAN

    def attach(self, chain: ChainProvider, underlying: Any = None) -> None:
        """Give the feed its quote source (the strategy's ChainProvider) and clock feed."""
        self.chain = chain
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
        if self.chain is None:
            raise FeedError(f"{self._name}: no ChainProvider attached; call attach(chain) first")
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
        if spec is None or self.chain is None:
            self._last_mark = NAN
            return _UNBOUND_BAR
        q = self.chain.quote(spec.option_symbol, int(grid.ns[i]))
        if q is None:
            bid = ask = bsz = asz = age = NAN
        else:
            bid, ask, bsz, asz, age = q
        if bid > 0 and ask > 0 and ask >= bid:
            mark = (bid + ask) / 2.0
            self._last_mark = mark
        elif not math.isnan(self._last_mark):
            mark = self._last_mark
        else:  # no two-sided quote yet: mark at whichever side exists (bid first)
            mark = bid if bid > 0 else (ask if ask > 0 else NAN)
        return (mark, mark, mark, mark, 0.0, 0.0, bid, ask, bsz, asz, age)

    @property
    def streaming(self) -> ContractSpec | None:
        """The contract the CURRENT bar carries (None while that bar is unbound)."""
        return self._active


def side_ok(price: float, age: float, max_age_min: float) -> bool:
    """True when a quote side can trade: a positive number not older than ``max_age_min``."""
    if price is None or math.isnan(price) or price <= 0:
        return False
    return not (age is not None and not math.isnan(age) and age > max_age_min)


class ContractPool:
    """Hands out free ``ContractFeed`` s; the feed count never grows with the chain or the days."""

    def __init__(self, feeds: Sequence[ContractFeed]) -> None:
        self.feeds = tuple(feeds)

    def __len__(self) -> int:
        return len(self.feeds)

    def free(self) -> list[ContractFeed]:
        return [f for f in self.feeds if not f.bound]

    def acquire(self, spec: ContractSpec, owner: Any = None) -> ContractFeed | None:
        """Bind a free feed to ``spec`` and return it; None when every feed is in use."""
        for feed in self.feeds:
            if not feed.bound:
                feed.bind(spec, owner)
                return feed
        return None

    def release(self, feed: ContractFeed) -> None:
        feed.release()

    def bound_symbols(self) -> tuple[str, ...]:
        return tuple(f.spec.option_symbol for f in self.feeds if f.spec is not None)


def make_contract_feeds(n: int, **feed_kwargs: Any) -> list[ContractFeed]:
    """Build ``n`` contract feeds over the same catalog, symbol and range as the clock."""
    symbol = feed_kwargs.get("symbol", "")
    make: Any = ContractFeed
    return [make(name=f"{symbol}_opt{i}", **feed_kwargs) for i in range(n)]


__all__ = ["ContractFeed", "ContractPool", "ContractSpec", "make_contract_feeds", "side_ok"]
