"""Benchmark the ingest of many days: ``--workers 2`` against one process; prints figures, asserts nothing.

Each measurement is one child process running ``Catalog.ingest`` of the first
``--days`` sessions of the backtest benchmark's generated SPY data
(``bench/out/backtest/data``, made by ``bench/backtest.py``) into a fresh catalog,
with ``workers=1`` and ``workers=N`` in interleaved pairs; the speed-up of a pair is
its one-process seconds over its N-worker seconds, reported as the median (min-max).
Peak RSS is the child's own ``VmHWM`` (its workers' are their own and are not summed).

    .venv/bin/python bench/ingest_days.py [--days 20] [--workers 2] [--pairs 3]

Target (issue 12): >= 1.7x on 2 cores for 20 days.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo (bench)

from bench.runs import median_range, peak_rss_mb, run_child

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "bench" / "out" / "backtest" / "data"


def _days(n: int) -> list[date]:
    names = sorted((DATA / "SPY" / "cbbo-1m").glob("*.csv*"))
    days = [date.fromisoformat(p.name.split(".")[0]) for p in names][:n]
    if len(days) < n:
        raise SystemExit(f"{DATA} holds {len(days)} days, {n} wanted; run bench/backtest.py first")
    return days


def step(args: argparse.Namespace) -> dict[str, Any]:
    from feeds.catalog import Catalog

    days = _days(args.days)
    root = Path(tempfile.mkdtemp(prefix="bench-ingest-days-"))
    try:
        started = time.perf_counter()
        summary = Catalog(root).ingest(DATA, end=days[-1], progress=False, workers=args.workers)
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if summary.ingested != len(days):
        raise SystemExit(f"ingested {summary.ingested} of {len(days)} days: {summary.summary_line()}")
    return {"seconds": seconds, "rss_mb": peak_rss_mb(), "days": summary.ingested}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=int, default=20)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--step", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.step:
        print(json.dumps(step(args)))
        return
    _days(args.days)
    pairs = []
    for _ in range(args.pairs):
        one = run_child(Path(__file__), "--step", "--days", str(args.days), "--workers", "1")
        many = run_child(Path(__file__), "--step", "--days", str(args.days), "--workers", str(args.workers))
        pairs.append((one, many))
    print(f"ingest of {args.days} SPY sample-scale days, {args.pairs} interleaved pairs")
    print(f"  1 process:   {median_range([o['seconds'] for o, _ in pairs])} s, peak RSS "
          f"{median_range([o['rss_mb'] for o, _ in pairs], '{:.0f}')} MB")  # fmt: skip
    print(f"  {args.workers} workers:   {median_range([m['seconds'] for _, m in pairs])} s, parent peak RSS "
          f"{median_range([m['rss_mb'] for _, m in pairs], '{:.0f}')} MB")  # fmt: skip
    speedup = [o["seconds"] / m["seconds"] for o, m in pairs]
    print(f"  speed-up x{median_range(speedup)} (target >= 1.7 on 2 cores)")


if __name__ == "__main__":
    main()
