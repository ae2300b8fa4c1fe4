"""``BacktestStore``: the backtest venue over a catalog, in the shape of the live stores.

``getdata(symbol, ...)`` gives the clock (an ``UnderlyingFeed`` carrying its
``ChainProvider`` as ``clock.chain``), ``getmacro(clock, minutes)`` its macro
view (a ``MacroFeed``, or None when Backtrader's resampler must build it),
``getcontracts(clock, n)`` the contract feeds bound at run time to the clock's
chain, and ``getbroker()`` the ``QuoteBroker`` with the option commission. The
Alpaca and IBKR stores hand out the same four things, so
``app.cerebro.cerebro_for`` builds every Cerebro the same way.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import backtrader as bt

from brokers.backtest.broker import QuoteBroker, make_broker
from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT
from feeds.backtest.clock import MacroFeed, UnderlyingFeed
from feeds.backtest.contracts import ContractFeed, make_contract_feeds
from feeds.catalog.api import open_catalog
from options_scalper.constants import DEFAULT_CAP_TO_SIZE, DEFAULT_CASH, DEFAULT_MAX_QUOTE_AGE_MIN


class BacktestStore:
    """Feeds and broker of a backtest over ``catalog`` (a catalog root folder or a catalog object)."""

    def __init__(
        self,
        catalog: Any,
        *,
        cash: float = DEFAULT_CASH,
        commission: float = DEFAULT_COMMISSION_PER_CONTRACT,
        cap_to_size: bool = DEFAULT_CAP_TO_SIZE,
        max_quote_age_min: float = DEFAULT_MAX_QUOTE_AGE_MIN,
        clock_keep_bars: int = 0,
    ) -> None:
        self.catalog = open_catalog(catalog)
        self.clock_keep_bars = int(clock_keep_bars)  # 0: the clock keeps every bar (plots need them)
        self.cash = float(cash)
        self.commission = float(commission)
        self.cap_to_size = bool(cap_to_size)
        self.max_quote_age_min = float(max_quote_age_min)
        self._common: dict[UnderlyingFeed, dict[str, Any]] = {}

    def getdata(
        self,
        symbol: str,
        fromdate: date | None = None,
        todate: date | None = None,
        warmup_days: int = 0,
    ) -> UnderlyingFeed:
        """The clock of ``symbol``: one bar per session minute, ``warmup_days`` sessions before ``fromdate``."""
        common = dict(
            dataname=self.catalog, symbol=symbol, fromdate=fromdate, todate=todate, warmup_days=warmup_days
        )
        make: Any = UnderlyingFeed  # Backtrader params are keyword arguments mypy cannot see
        clock: UnderlyingFeed = make(**common, keep_bars=self.clock_keep_bars)
        self._common[clock] = common
        return clock

    def getmacro(self, clock: UnderlyingFeed, minutes: int) -> MacroFeed | None:
        """``clock`` grouped into ``minutes``-minute bars; None when ``minutes`` does not divide 30."""
        if not minutes or 30 % minutes:
            return None  # NYSE sessions open and close on 30-minute boundaries only
        make: Any = MacroFeed
        macro: MacroFeed = make(
            **self._common[clock], source=clock, timeframe=bt.TimeFrame.Minutes, compression=minutes
        )
        return macro

    def getcontracts(self, clock: UnderlyingFeed, n: int) -> list[ContractFeed]:
        """``n`` contract feeds over ``clock``'s days, streaming from ``clock.chain`` once bound."""
        feeds = make_contract_feeds(n, **self._common[clock])
        for feed in feeds:
            feed.attach(clock.chain, clock)
        return feeds

    def getbroker(self) -> QuoteBroker:
        """The quote broker: fills at the bid/ask, option commission, expiry settlement."""
        return make_broker(
            cash=self.cash,
            commission=self.commission,
            cap_to_size=self.cap_to_size,
            max_quote_age_min=self.max_quote_age_min,
        )
