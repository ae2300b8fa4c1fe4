"""What the backtest benchmarks share: the product's Cerebro, the bare-Backtrader floor, child runs.

Every measurement runs in its own child process (``run_child``); the child reports
its own peak RSS from ``VmHWM`` in ``/proc/self/status``, so no figure inherits the
parent's memory. ``engine_cerebro`` builds exactly what ``run_backtest.py`` runs
(``app.backtest.prepare`` + ``app.backtest.build``: ``build_cerebro`` and the
report analyzers) minus the journal, an SQLite sink that is not the engine.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SYMBOL = "SPY"
SHIPPED = ("ema_cloud", "momentum_burst")  # the strategies the product ships (the headline)
TEST_STRATEGY = "probe"  # tests.support.probe.ProbeScalp: a test strategy, never the headline


def peak_rss_mb() -> float:
    """This process's own peak resident set (``VmHWM``), in MB (10^6 bytes)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6  # kB
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def catalog_days(catalog_dir: Path, n_days: int) -> list[date]:
    from feeds.catalog import Catalog

    days: list[date] = Catalog(catalog_dir).days(SYMBOL)[:n_days]
    if len(days) < n_days:
        raise SystemExit(f"{catalog_dir} holds {len(days)} {SYMBOL} days, {n_days} wanted")
    return days


def prepare_engine(strategy: str, data_dir: Path, catalog_dir: Path, days: Sequence[date]) -> Any:
    """``app.backtest.prepare`` for ``days`` (no warm-up: the floor sees the same bars); not timed."""
    from app.backtest import RunRequest, prepare

    req = RunRequest(
        strategy=strategy,
        data_dir=data_dir,
        catalog_dir=catalog_dir,
        symbols=(SYMBOL,),
        start=days[0],
        end=days[-1],
        warmup_days=0,
        quiet=True,
        journal_url="sqlite://",  # checked, never used: build() gets journal_url=None
        out_dir=Path(tempfile.mkdtemp(prefix="bench-engine-")),
    )
    return prepare(req)


def engine_cerebro(prep: Any) -> Any:
    """The product's Cerebro for a prepared run: ``app.backtest.build`` without the journal."""
    from app.backtest import build

    return build(prep, prep.params, journal_url=None, progress=False)


def floor_cerebro(catalog_dir: Path, days: Sequence[date]) -> tuple[Any, int]:
    """Bare Backtrader on the same bars: ``PandasData``, an EMA(5)/EMA(12) cross, Backtrader defaults."""
    import backtrader as bt
    import pandas as pd

    from feeds.catalog import Catalog

    cat = Catalog(catalog_dir)
    bars = pd.concat([cat.read_bars(SYMBOL, d) for d in days], ignore_index=True)
    bars["datetime"] = pd.to_datetime(bars["ts"], utc=True).dt.tz_localize(None) + pd.Timedelta(minutes=1)
    frame = bars.set_index("datetime")[["open", "high", "low", "close", "volume"]]

    class EmaCross(bt.Strategy):
        def __init__(self) -> None:
            self.cross = bt.indicators.CrossOver(
                bt.indicators.EMA(self.data.close, period=5), bt.indicators.EMA(self.data.close, period=12)
            )

        def next(self) -> None:
            if self.cross[0] > 0 and not self.position:
                self.buy(size=10)
            elif self.cross[0] < 0 and self.position:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame, timeframe=bt.TimeFrame.Minutes), name=SYMBOL)
    cerebro.addstrategy(EmaCross)
    return cerebro, len(frame)


# Modules an engine run imports at build or on its first bars: imported before the clock
# starts, as the floor imports backtrader and pandas, so neither timing pays import time.
ENGINE_IMPORTS = (
    "analyzers.scalp_analyzers",
    "app.backtest",
    "app.cerebro",
    "strategies.ema_cloud",
    "strategies.momentum_burst",
    "tests.support.probe",
    "options_scalper.scalper",
    "options_scalper.exits",
    "options_scalper.position",
    "exchange_calendars",
)


def run_child(script: Path, *args: str) -> dict[str, Any]:
    """Run ``script --step ...`` in a fresh interpreter; its last stdout line is a JSON dict.

    Adds ``process_s``: the child's whole wall time (interpreter start, imports, set-up, run, exit).
    """
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, cwd=REPO)
    process_s = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{script.name} {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    if proc.stderr.strip() and "--profile" in args:
        print(proc.stderr)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = process_s
    return result


def median_range(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    """``median (min-max)`` of ``values`` (``n/a`` without any)."""
    if not values:
        return "n/a"
    med = statistics.median(values)
    return f"{fmt.format(med)} ({fmt.format(min(values))}-{fmt.format(max(values))})"
