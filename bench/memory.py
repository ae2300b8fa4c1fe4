"""Peak RSS of a backtest against the number of days: 20 / 250 / 1,000 sessions; prints, asserts nothing.

Each run is one child process running a shipped strategy in the product's Cerebro
(``app.backtest.prepare`` + ``build``, see ``bench.runs``) over the first N
sessions of a generated SPY sample-scale catalog; the child prints its own peak
RSS (``VmHWM``) and what Backtrader and the analyzers hold at the end: values in
the line buffers of the feeds, of the indicators and strategy lines, and the
equity curve's stored values. A count that grows with N is memory that grows with N.
The child then asks the equity analysis for its per-bar lists (what the report and
``equity.png`` read) and prints its peak again.

Data: 1,000 SPY sessions from 2021-01-04, generated with ``python -m feeds.synthetic``
and ingested with ``python -m feeds.catalog ingest`` once into ``bench/out/days/``
(git-ignored; a few minutes the first time).

    .venv/bin/python bench/memory.py [--days 20 250 1000] [--strategies ema_cloud momentum_burst]
    .venv/bin/python bench/memory.py --trace 20 60 [--strategies ema_cloud]
    .venv/bin/python bench/memory.py --clock-keep-bars 0 --exactbars 0   # what a --plot run keeps

By default each run is what ``run_backtest.py`` runs without ``--plot``
(``app.backtest.build``: the clock's ``keep_bars=390``, ``exactbars=-1``).
``--clock-keep-bars N`` overrides the clock's ``keep_bars`` (0: every bar) and
``--exactbars K`` passes ``cerebro.run(exactbars=K)`` (0: every value of every line,
what a ``--plot`` run keeps for Backtrader's chart), measured on the same runs.

``--trace A B`` prints the tracemalloc top growth between the first bar of session A
and of session B of one run (slow: tracemalloc costs 3-5x).

Target (issue 12): peak RSS at 1,000 days within 10% of 20 days.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo (tests.support, bench)

from bench.runs import SHIPPED, SYMBOL, catalog_days, engine_cerebro, peak_rss_mb, prepare_engine, run_child

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "days"
DATA = OUT / "data"
CATALOG = OUT / "catalog"
FIRST, LAST, N_DAYS = date(2021, 1, 4), date(2024, 12, 23), 1000  # 1,000 NYSE sessions


def ensure_data() -> None:
    """Generate and ingest the 1,000 sessions once (``.ready`` marks a finished catalog)."""
    if (OUT / ".ready").exists():
        return
    OUT.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    span = ["--start", FIRST.isoformat(), "--end", LAST.isoformat()]
    print(f"generating {N_DAYS} SPY sessions into {DATA} (once) ...", flush=True)
    cmd = [py, "-m", "feeds.synthetic", "--out", str(DATA), "--symbols", SYMBOL, *span, "--seed", "7"]
    subprocess.run(cmd, check=True, cwd=REPO)
    subprocess.run(
        [py, "-m", "feeds.catalog", "ingest", "--data", str(DATA), "--catalog", str(CATALOG)],
        check=True,
        cwd=REPO,
    )
    (OUT / ".ready").write_text("ok")


def _buffer_values(obj: Any) -> int:
    """Values held by the line buffers of ``obj`` (a feed, an indicator or a strategy)."""
    return sum(len(line.array) for line in obj.lines)


def held_values(strat: Any) -> dict[str, int]:
    """What the finished run still holds, by owner (counts of stored values)."""
    feeds = sum(_buffer_values(d) for d in strat.datas)
    seen: set[int] = set()
    stack = [it for its in strat._lineiterators.values() for it in its]
    indicators = 0
    while stack:
        it = stack.pop()
        if id(it) in seen:
            continue
        seen.add(id(it))
        indicators += _buffer_values(it)
        stack.extend(x for xs in getattr(it, "_lineiterators", {}).values() for x in xs)
    equity = strat.analyzers.equity._tracker
    return {
        "feeds": feeds,
        "indicators": indicators + _buffer_values(strat),
        "equity": equity.stored_values(),
    }


def step_run(args: argparse.Namespace) -> dict[str, Any]:
    days = catalog_days(CATALOG, args.days)
    prep = prepare_engine(args.strategy, DATA, CATALOG, days)
    started = time.perf_counter()
    cerebro = engine_cerebro(prep)
    if args.clock_keep_bars is not None:
        cerebro.datas[0].p.keep_bars = args.clock_keep_bars
    kwargs = {} if args.exactbars is None else {"exactbars": args.exactbars}
    strat = cerebro.run(**kwargs)[0]
    seconds = time.perf_counter() - started
    trades = strat.analyzers.scalp_stats.get_analysis()["total_trades"]
    out = {"days": len(days), "seconds": seconds, "rss_mb": peak_rss_mb(), "trades": trades}
    out.update(held_values(strat))
    strat.analyzers.equity.get_analysis()  # what the report then reads: the per-bar lists, made now
    out["rss_report_mb"] = peak_rss_mb()
    return out


def step_trace(args: argparse.Namespace) -> None:
    import tracemalloc

    import backtrader as bt

    first, second = args.trace
    days = catalog_days(CATALOG, second + 1)
    prep = prepare_engine(args.strategy, DATA, CATALOG, days)
    snaps: dict[int, Any] = {}

    class Snap(bt.Analyzer):  # type: ignore[misc]
        def start(self) -> None:
            self._day: date | None = None
            self._count = 0

        def next(self) -> None:
            day = self.strategy.datas[0].datetime.date(0)
            if day != self._day:
                self._day, self._count = day, self._count + 1
                if self._count in (first, second):
                    gc.collect()
                    snaps[self._count] = tracemalloc.take_snapshot()

    cerebro = engine_cerebro(prep)
    if args.clock_keep_bars is not None:
        cerebro.datas[0].p.keep_bars = args.clock_keep_bars
    cerebro.addanalyzer(Snap)
    tracemalloc.start(4)
    cerebro.run(**({} if args.exactbars is None else {"exactbars": args.exactbars}))
    diff = snaps[second].compare_to(snaps[first], "traceback")
    total = sum(s.size_diff for s in diff)
    span = second - first
    print(
        f"{args.strategy}: +{total / 1e6:.2f} MB traced over {span} sessions ({total / span / 1e3:.1f} KB a day)"
    )
    for s in diff[:12]:
        print(f"  {s.size_diff / span / 1e3:8.1f} KB a day  {s.count_diff / span:8.1f} blocks a day")
        for frame in s.traceback.format()[-4:]:
            print("      " + frame)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=int, nargs="+", default=[20, 250, 1000], help="session counts to run")
    p.add_argument("--strategies", nargs="+", default=list(SHIPPED))
    p.add_argument("--trace", type=int, nargs=2, metavar=("A", "B"), help="tracemalloc growth, sessions A..B")
    p.add_argument(
        "--clock-keep-bars", type=int, help="keep_bars of the clock (0: every bar; default: the product's)"
    )
    p.add_argument("--exactbars", type=int, help="cerebro.run(exactbars=...) (default: the product's)")
    p.add_argument("--step", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--strategy", default=SHIPPED[0], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.step:
        args.days = args.days[0]
        print(json.dumps(step_run(args)))
        return
    ensure_data()
    if args.trace:
        for s in args.strategies:
            args.strategy = s
            step_trace(args)
        return
    shown = {
        k: "the product's" if v is None else v
        for k, v in (("keep", args.clock_keep_bars), ("ex", args.exactbars))
    }
    print(
        f"peak RSS vs days: SPY sample scale, {CATALOG}; clock keep_bars={shown['keep']}, "
        f"exactbars={shown['ex']}"
    )
    for s in args.strategies:
        extra: tuple[str, ...] = ()
        if args.clock_keep_bars is not None:
            extra += ("--clock-keep-bars", str(args.clock_keep_bars))
        if args.exactbars is not None:
            extra += ("--exactbars", str(args.exactbars))
        rows = [
            run_child(Path(__file__), "--step", "--strategy", s, "--days", str(n), *extra) for n in args.days
        ]
        base = rows[0]
        for r in rows:
            growth = r["rss_mb"] / base["rss_mb"] - 1.0
            print(
                f"  {s:15} {r['days']:5d} days  {r['seconds']:7.1f} s  peak RSS {r['rss_mb']:6.0f} MB "
                f"({growth:+6.1%} vs {base['days']} days)  held values: feeds {r['feeds']:,}, "
                f"indicators {r['indicators']:,}, equity {r['equity']:,}  ({r['trades']} trades); "
                f"with the equity analysis' per-bar lists made {r['rss_report_mb']:.0f} MB"
            )
    print("  target: peak RSS at the most days within 10% of the fewest")


if __name__ == "__main__":
    main()
