"""Assemble a Cerebro for the scalping engine: feeds per symbol, the quote broker.

Per symbol S: ``S`` (UnderlyingFeed, the clock), ``S_10m`` (resampled macro
view, rightedge bars stamped at their close) and ``pool_size`` contract feeds
``S_opt0..``. The macro view is a ``MacroFeed`` grouping the clock's own day
arrays, bar for bar what ``cerebro.resampledata`` delivers, at a fraction of
its cost; sizes that do not divide 30 minutes use ``resampledata`` itself. Several symbols may be given; they share cash and the
strategy's concurrency limit. Run the result with ``cerebro.run()``: the
Cerebro is created with ``preload=False`` (contract feeds bind at run time).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import backtrader as bt

from brokers.backtest.broker import install
from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT
from feeds.backtest.clock import MacroFeed, UnderlyingFeed, open_catalog
from feeds.backtest.contracts import make_contract_feeds


def add_symbol_feeds(
    cerebro: bt.Cerebro,
    catalog: Any,
    symbol: str,
    fromdate: date | None,
    todate: date | None,
    warmup_days: int = 2,
    pool_size: int = 3,
    macro_minutes: int = 10,
) -> UnderlyingFeed:
    """Add the clock, its resampled macro view and the contract pool of ``symbol``."""
    common = dict(dataname=catalog, symbol=symbol, fromdate=fromdate, todate=todate, warmup_days=warmup_days)
    clock = UnderlyingFeed(**common)
    cerebro.adddata(clock, name=symbol)
    if macro_minutes and 30 % macro_minutes == 0:  # NYSE sessions open and close on its boundaries
        make: Any = MacroFeed
        macro = make(**common, source=clock, timeframe=bt.TimeFrame.Minutes, compression=macro_minutes)
        cerebro.adddata(macro, name=f"{symbol}_{macro_minutes}m")
    elif macro_minutes:
        cerebro.resampledata(
            clock,
            timeframe=bt.TimeFrame.Minutes,
            compression=macro_minutes,
            name=f"{symbol}_{macro_minutes}m",
        )
    for feed in make_contract_feeds(pool_size, **common):
        cerebro.adddata(feed, name=feed.p.name)
    return clock


def build_cerebro(
    strategy: type,
    catalog: Any,
    symbols: Sequence[str],
    fromdate: date | None = None,
    todate: date | None = None,
    cash: float = 100_000.0,
    warmup_days: int = 2,
    pool_size: int = 3,
    commission: float = DEFAULT_COMMISSION_PER_CONTRACT,
    cap_to_size: bool = False,
    macro_minutes: int = 10,
    stdstats: bool = False,
    **params: Any,
) -> bt.Cerebro:
    """Return a ready Cerebro (preload off) running ``strategy`` over ``symbols``."""
    catalog = open_catalog(catalog)
    cerebro = bt.Cerebro(preload=False, runonce=False, stdstats=stdstats)
    for sym in symbols:
        add_symbol_feeds(cerebro, catalog, sym, fromdate, todate, warmup_days, pool_size, macro_minutes)
    install(cerebro, cash=cash, commission=commission, cap_to_size=cap_to_size)
    params.setdefault("pool_size", pool_size)
    params.setdefault("commission", commission)
    params.setdefault("cap_to_size", cap_to_size)
    params.setdefault("macro_suffix", f"_{macro_minutes}m")
    cerebro.addstrategy(strategy, **params)
    return cerebro
