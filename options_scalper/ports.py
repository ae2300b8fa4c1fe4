"""What a strategy needs from a venue: Protocols only (no backtrader, no broker SDK).

Every venue (the backtest catalog, Alpaca, IBKR) is a store that hands out feeds
implementing these ports, so ``strategies/`` runs unchanged on any of them:

``ClockFeed``
    The underlying's 1-minute clock (a Backtrader feed, bars stamped at their
    close). It carries the venue's :class:`ChainSource` as ``clock.chain`` and
    ``trading_start_num``, the Backtrader date number of its first trading bar
    (earlier bars warm the indicators up; ``-inf`` when every bar trades).
``ChainSource``
    The option chain of the clock's underlying: the snapshot of a minute, one
    contract's quote at a minute, the ATM IV history strictly before a day.
``ContractQuotes``
    A reusable per-contract feed. ``bind(spec)`` makes it stream ``spec``'s quote
    from the NEXT bar on (lines ``bid``, ``ask``, ``bidsize``, ``asksize``,
    ``quoteage``; close = mid), ``release()`` stops it (NaN bars again);
    ``streaming`` is the contract the CURRENT bar carries. Orders for the
    contract are placed on this feed, so positions, trades and analyzers work
    the Backtrader way.

A strategy finds its feeds with ``isinstance(data, ClockFeed)`` /
``isinstance(data, ContractQuotes)`` (structural checks on these attributes); a
contract feed belongs to the clock whose ``symbol`` it shares.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from options_scalper.model import ChainSnapshot
from options_scalper.quotes import ContractSpec, Quote


@runtime_checkable
class ChainSource(Protocol):
    """One underlying's option chain, minute by minute, never ahead of the minute asked for."""

    symbol: str

    def snapshot(self, ts_utc: datetime, underlying_price: float, half_day: bool = False) -> ChainSnapshot:
        """The chain's quotes of minute ``ts_utc`` (aware UTC, a bar-close stamp)."""
        ...

    def quote(self, option_symbol: str, ts: datetime | int) -> Quote | None:
        """``option_symbol``'s quote at minute ``ts`` (aware UTC or UTC ns), None without one."""
        ...

    def iv_history(self, day: date) -> list[float]:
        """ATM 30-day implied vols of the sessions strictly before ``day``, oldest first."""
        ...


@runtime_checkable
class ClockFeed(Protocol):
    """The underlying's 1-minute clock feed and the chain it carries."""

    symbol: str
    chain: ChainSource
    trading_start_num: float


@runtime_checkable
class ContractQuotes(Protocol):
    """A per-contract quote feed bound to one contract at a time."""

    symbol: str  # the underlying
    spec: ContractSpec | None  # the contract bound now (None: free)

    @property
    def bound(self) -> bool: ...

    @property
    def streaming(self) -> ContractSpec | None: ...

    def bind(self, spec: ContractSpec, owner: Any = None) -> None: ...

    def release(self) -> None: ...


__all__ = ["ChainSource", "ClockFeed", "ContractQuotes"]
