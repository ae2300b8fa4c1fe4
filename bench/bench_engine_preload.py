"""Print what preload=False costs on an underlying-only run (clock + 10-minute resample).

Usage: .venv/bin/python bench/bench_engine_preload.py [days]
Prints bars/s for preload=True/runonce=False, preload=False, and the ratio; never asserts.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import backtrader as bt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support is not installed

from app.cerebro import add_symbol_feeds
from brokers.backtest.store import BacktestStore
from options_scalper.calendar import sessions_between
from tests.support.memory_catalog import MemoryCatalog, synthetic_day


class Ema(bt.Strategy):
    def __init__(self) -> None:
        self.fast = bt.indicators.EMA(self.datas[0].close, period=5)
        self.slow = bt.indicators.EMA(self.datas[0].close, period=12)

    def next(self) -> None:
        pass


def main(n_days: int = 40) -> None:
    from datetime import date

    days = sessions_between(date(2024, 1, 2), date(2024, 12, 31))[:n_days]
    cat = MemoryCatalog()
    for i, d in enumerate(days):
        day_bars, _ = synthetic_day("SPY", d, seed=i)
        cat.add_day("SPY", d, day_bars, day_bars.iloc[:0])
    out = {}
    variants = {
        "preload=True  runonce=True ": (True, True, 0),
        "preload=True  runonce=False": (True, False, 0),
        "preload=False runonce=False": (False, False, 0),
        "preload=False + 3 contract feeds": (False, False, 3),
    }
    for label, (preload, runonce, pool) in variants.items():
        best = float("inf")
        for _ in range(3):
            cer = bt.Cerebro(stdstats=False, preload=preload, runonce=runonce)
            add_symbol_feeds(
                cer, BacktestStore(cat), "SPY", None, None, warmup_days=0, pool_size=pool, macro_minutes=10
            )
            cer.addstrategy(Ema)
            t = time.perf_counter()
            cer.run()
            best = min(best, time.perf_counter() - t)
        out[label] = best
    bars = 390 * len(days)
    floor = out["preload=True  runonce=True "]
    for k, v in out.items():
        print(f"{k:34} {v:6.2f} s {bars / v:10,.0f} clock bars/s  x{v / floor:.2f} of the floor")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
