"""Build a Cerebro from a store: the same code for every venue.

store -> feeds + broker -> strategy -> analyzers. Per symbol S the Cerebro gets
``S`` (the store's clock, carrying its chain), ``S_<n>m`` (its macro view: the
store's own, or ``cerebro.resampledata`` when the store has none for that size)
and ``pool_size`` contract feeds ``S_opt0..``; then the store's broker and the
strategy. Several symbols share cash and the strategy's concurrency limit. The
Cerebro runs with ``preload=False`` (contract feeds bind at run time).

``build_cerebro`` is the backtest's shortcut: a ``BacktestStore`` over a catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

import backtrader as bt

from brokers.backtest.store import BacktestStore
from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT
from btcompat.cerebro import ScalpCerebro
from options_scalper.constants import DEFAULT_CAP_TO_SIZE, DEFAULT_CASH

DEFAULT_POOL_SIZE = 3  # contract feeds per symbol: one per allowed open position
DEFAULT_MACRO_MINUTES = 10


class Store(Protocol):
    """What every venue's store hands out (``BacktestStore``, the Alpaca and IBKR stores)."""

    def getdata(
        self, symbol: str, fromdate: date | None = None, todate: date | None = None, warmup_days: int = 0
    ) -> Any: ...

    def getmacro(self, clock: Any, minutes: int) -> Any: ...

    def getcontracts(self, clock: Any, n: int) -> Sequence[Any]: ...

    def getbroker(self) -> Any: ...


def add_symbol_feeds(
    cerebro: bt.Cerebro,
    store: Store,
    symbol: str,
    fromdate: date | None,
    todate: date | None,
    warmup_days: int = 2,
    pool_size: int = DEFAULT_POOL_SIZE,
    macro_minutes: int = DEFAULT_MACRO_MINUTES,
) -> Any:
    """Add the clock, its macro view and the contract feeds of ``symbol``; return the clock."""
    clock = store.getdata(symbol, fromdate=fromdate, todate=todate, warmup_days=warmup_days)
    cerebro.adddata(clock, name=symbol)
    if macro_minutes:
        macro = store.getmacro(clock, macro_minutes)
        name = f"{symbol}_{macro_minutes}m"
        if macro is not None:
            cerebro.adddata(macro, name=name)
        else:
            cerebro.resampledata(clock, timeframe=bt.TimeFrame.Minutes, compression=macro_minutes, name=name)
    for feed in store.getcontracts(clock, pool_size):
        cerebro.adddata(feed, name=feed.p.name)
    return clock


def cerebro_for(
    store: Store,
    strategy: type,
    symbols: Sequence[str],
    fromdate: date | None = None,
    todate: date | None = None,
    warmup_days: int = 2,
    pool_size: int = DEFAULT_POOL_SIZE,
    macro_minutes: int = DEFAULT_MACRO_MINUTES,
    stdstats: bool = False,
    exactbars: int = 0,
    **params: Any,
) -> bt.Cerebro:
    """Return a ready Cerebro (preload off) running ``strategy`` over ``symbols`` on ``store``.

    ``exactbars=-1`` (Backtrader's own setting) bounds the buffers of indicators inside
    indicators; 0 keeps everything (what ``cerebro.plot`` needs).
    """
    cerebro = ScalpCerebro(preload=False, runonce=False, stdstats=stdstats, exactbars=exactbars)
    for sym in symbols:
        add_symbol_feeds(cerebro, store, sym, fromdate, todate, warmup_days, pool_size, macro_minutes)
    cerebro.broker = store.getbroker()
    params.setdefault("macro_suffix", f"_{macro_minutes}m")
    cerebro.addstrategy(strategy, **params)
    return cerebro


def build_cerebro(
    strategy: type,
    catalog: Any,
    symbols: Sequence[str],
    fromdate: date | None = None,
    todate: date | None = None,
    cash: float = DEFAULT_CASH,
    warmup_days: int = 2,
    pool_size: int = DEFAULT_POOL_SIZE,
    commission: float = DEFAULT_COMMISSION_PER_CONTRACT,
    cap_to_size: bool = DEFAULT_CAP_TO_SIZE,
    macro_minutes: int = DEFAULT_MACRO_MINUTES,
    stdstats: bool = False,
    clock_keep_bars: int = 0,
    exactbars: int = 0,
    **params: Any,
) -> bt.Cerebro:
    """``cerebro_for`` a ``BacktestStore`` over ``catalog`` (a catalog root or a catalog object)."""
    store = BacktestStore(
        catalog, cash=cash, commission=commission, cap_to_size=cap_to_size, clock_keep_bars=clock_keep_bars
    )
    return cerebro_for(
        store,
        strategy,
        symbols,
        fromdate,
        todate,
        warmup_days,
        pool_size,
        macro_minutes,
        stdstats,
        exactbars,
        **params,
    )
