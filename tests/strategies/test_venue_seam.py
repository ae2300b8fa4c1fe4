"""The seam: a strategy runs on a store that is not the catalog, and decides the same on both."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from app.cerebro import cerebro_for
from brokers.backtest.broker import QuoteBroker
from brokers.backtest.store import BacktestStore
from feeds.backtest.clock import UnderlyingFeed
from feeds.backtest.contracts import ContractFeed
from options_scalper.ports import ChainSource, ClockFeed, ContractQuotes
from strategies.ema_cloud import EmaCloudScalp
from strategies.momentum_burst import MomentumBurstScalp
from tests.support.memory_catalog import MemoryCatalog, synthetic_day
from tests.support.memory_venue import MemoryChain, MemoryContractFeed, MemoryStore
from tests.support.probe import ProbeScalp

REPO = Path(__file__).resolve().parents[2]
DAYS = (date(2024, 1, 2), date(2024, 1, 3))
STRIKES = tuple(float(k) for k in range(95, 106))


class Entries(ProbeScalp):
    """The probe, recording each decision: (signal time, contract, quantity)."""

    def __init__(self) -> None:
        super().__init__()
        self.decisions: list[tuple[str, str, int]] = []

    def submit_signal(self, signal):  # type: ignore[no-untyped-def]
        result = super().submit_signal(signal)
        if hasattr(result, "option_symbol"):
            self.decisions.append((signal.ts.isoformat(), result.option_symbol, int(result.quantity)))
        return result


def frames() -> list:
    return [
        synthetic_day("SPY", d, strikes=STRIKES, expiries=(d,), seed=i, start_price=100.0)
        for i, d in enumerate(DAYS)
    ]


def memory_catalog(days: list) -> MemoryCatalog:
    cat = MemoryCatalog()
    for d, (bars, quotes) in zip(DAYS, days, strict=True):
        cat.add_day("SPY", d, bars, quotes)
    return cat


def test_memory_venue_implements_the_ports() -> None:
    store = MemoryStore({"SPY": frames()})
    clock = store.getdata("SPY")
    assert isinstance(clock, ClockFeed) and isinstance(clock.chain, ChainSource)
    (feed,) = store.getcontracts(clock, 1)
    assert isinstance(feed, ContractQuotes) and not isinstance(feed, ClockFeed)


def test_strategy_runs_on_a_store_without_catalog_feeds_or_quote_broker() -> None:
    store = MemoryStore({"SPY": frames()})
    cer = cerebro_for(store, Entries, ["SPY"], warmup_days=0, pool_size=2)
    strat = cer.run()[0]
    assert not any(isinstance(d, UnderlyingFeed | ContractFeed) for d in cer.datas)
    assert not isinstance(cer.broker, QuoteBroker)
    assert strat.decisions, "the probe decided no entry on the memory venue"
    assert strat.closed_scalps, "no round trip closed on the memory venue"
    contract_feeds = [d for d in cer.datas if isinstance(d, MemoryContractFeed)]
    assert len(contract_feeds) == 2 and all(not f.bound for f in contract_feeds)  # released after each scalp
    assert {s.option_symbol for s in strat.closed_scalps} <= {sym for _, sym, _ in strat.decisions}
    assert store.chain("SPY").snapshots >= len(strat.decisions)


def test_same_decisions_on_the_memory_venue_and_the_backtest_store() -> None:
    days = frames()
    memory = cerebro_for(MemoryStore({"SPY": days}, cash=20_000.0), Entries, ["SPY"], warmup_days=0)
    backtest = cerebro_for(
        BacktestStore(memory_catalog(days), cash=20_000.0), Entries, ["SPY"], warmup_days=0
    )
    on_memory = memory.run()[0].decisions
    on_backtest = backtest.run()[0].decisions
    assert on_memory and on_memory == on_backtest


def test_shipped_strategies_build_on_the_memory_venue() -> None:
    for strategy in (EmaCloudScalp, MomentumBurstScalp):
        store = MemoryStore({"SPY": frames()})
        strat = cerebro_for(store, strategy, ["SPY"], warmup_days=0).run()[0]
        assert set(strat.books) == {"SPY"}
        assert isinstance(strat.books["SPY"].chain, MemoryChain)


def test_strategies_import_no_venue_and_the_domain_no_backtrader() -> None:
    code = (
        "import sys, strategies.base, strategies.ema_cloud, strategies.momentum_burst\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('feeds', 'brokers', 'app'))\n"
        "assert not bad, bad\n"
        "for m in list(sys.modules):\n"
        "    if m.startswith('options_scalper'): del sys.modules[m]\n"
        "del sys.modules['backtrader']\n"
        "import options_scalper.ports, options_scalper.scalper\n"
        "assert 'backtrader' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
