"""Benchmark the catalog ingest of one real-scale TSLA day against a bare pyarrow parse.

Prints figures, asserts nothing. Every measured step runs in a fresh subprocess so
that its peak RSS (``VmHWM``) is its own:

* floor:    zstandard stream_reader -> ``pyarrow.csv.read_csv`` of the same day file
* reader:   ``feeds.databento.cbbo.iter_cbbo_arrow`` over the file, doing nothing with it
* ingest:   ``Catalog.ingest`` of that day into an empty catalog
* readback: ``Catalog.read_quotes`` of the ingested day (best and median of 7)

The day (TSLA-like, every expiry and strike: ~4.2M rows, 13k contracts, 33 expiries,
DataBento layout, ``.csv.zst``) is generated once by the synthetic generator and
cached under ``bench/out/`` (git-ignored).

    .venv/bin/python bench/ingest.py [--day 2024-03-06] [--seed 7] [--repeat 3] [--regenerate]

Targets: ingest <= 1.5x floor, peak RSS <= 1 GB, read-back <= 100 ms.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feeds.synthetic import SymbolSpec

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
DATA = OUT / "tsla-4m"
SYMBOL = "TSLA"


def _peak_rss_mb() -> float:
    """Peak RSS of this process in MiB: VmHWM (per address space; Linux's ru_maxrss also
    counts the parent's RSS at fork time), else ru_maxrss."""
    try:
        for text in Path("/proc/self/status").read_text().splitlines():
            if text.startswith("VmHWM:"):
                return int(text.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


# --------------------------------------------------------------------------- steps (subprocess)


def step_baseline(_: argparse.Namespace) -> dict[str, float]:
    import pyarrow.csv  # noqa: F401
    import zstandard  # noqa: F401

    from feeds.catalog import Catalog  # noqa: F401
    from feeds.databento.cbbo import iter_cbbo_arrow  # noqa: F401

    return {"seconds": 0.0, "rows": 0}


def step_floor(args: argparse.Namespace) -> dict[str, float]:
    import pyarrow.csv as pacsv
    import zstandard

    started = time.perf_counter()
    with open(args.file, "rb") as fh, zstandard.ZstdDecompressor().stream_reader(fh) as stream:
        table = pacsv.read_csv(stream)
    return {"seconds": time.perf_counter() - started, "rows": table.num_rows}


def step_reader(args: argparse.Namespace) -> dict[str, float]:
    from feeds.databento.cbbo import ReadStats, iter_cbbo_arrow

    stats = ReadStats()
    started = time.perf_counter()
    rows = sum(t.num_rows for t in iter_cbbo_arrow(args.file, stats=stats))
    return {"seconds": time.perf_counter() - started, "rows": stats.rows_in, "rows_out": rows}


def step_ingest(args: argparse.Namespace) -> dict[str, float]:
    from feeds.catalog import Catalog
    from options_scalper import calendar

    started = time.perf_counter()
    calendar.is_session(date(2024, 1, 2))  # one-time XNYS build, amortized over a real ingest's days
    calendar_s = time.perf_counter() - started
    started = time.perf_counter()
    summary = Catalog(Path(args.catalog)).ingest(
        Path(args.data), symbols=[SYMBOL], progress=False, strict=True
    )
    return {
        "seconds": time.perf_counter() - started,
        "rows": summary.rows_in,
        "rows_out": summary.rows_out,
        "ingested": summary.ingested,
        "calendar_s": calendar_s,
    }


def step_readback(args: argparse.Namespace) -> dict[str, float]:
    from feeds.catalog import Catalog

    catalog = Catalog(Path(args.catalog))
    day = catalog.days(SYMBOL)[0]
    times = []
    rows = 0
    for _ in range(7):
        started = time.perf_counter()
        rows = len(catalog.read_quotes(SYMBOL, day))
        times.append(time.perf_counter() - started)
    return {"seconds": min(times), "median": statistics.median(times), "first": times[0], "rows": rows}


STEPS = {
    "baseline": step_baseline,
    "floor": step_floor,
    "reader": step_reader,
    "ingest": step_ingest,
    "readback": step_readback,
}


def run_step(name: str, repeat: int = 1, **kwargs: str) -> dict[str, float]:
    """Run a step ``repeat`` times, each in a fresh process; keep the fastest run."""
    argv = [sys.executable, __file__, "--step", name]
    for key, value in kwargs.items():
        argv += [f"--{key}", value]
    runs = []
    for _ in range(max(1, repeat)):
        if name == "ingest":
            shutil.rmtree(kwargs["catalog"], ignore_errors=True)
        done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"bench step {name} failed:\n{done.stderr.strip()}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return min(runs, key=lambda r: float(r["seconds"]))


# --------------------------------------------------------------------------- driver


def bench_spec() -> SymbolSpec:
    """TSLA_FULL_SPEC (every strike of ~30 expiries) with dailies Mon-Fri: ~4.2M rows a day."""
    from feeds.synthetic import TSLA_FULL_SPEC

    rule = replace(TSLA_FULL_SPEC.expiry_rule, daily_weekdays=(0, 1, 2, 3, 4), daily_horizon_sessions=12)
    return replace(TSLA_FULL_SPEC, expiry_rule=rule)


def ensure_day(day: date, seed: int, regenerate: bool) -> Path:
    from feeds.synthetic import day_path, generate_day

    data = DATA
    path = day_path(data, SYMBOL, "cbbo-1m", day, True)
    if regenerate and (data / SYMBOL).exists():
        shutil.rmtree(data / SYMBOL)
    if not path.exists():
        print(f"generating a real-scale {SYMBOL} day {day} under {data} (once) ...", flush=True)
        started = time.perf_counter()
        files = generate_day(bench_spec(), day, data, seed=seed, layout="databento", compress=True)
        print(
            f"  {files.cbbo_rows:,} rows, {files.contracts:,} contracts, {len(files.expiries)} expiries, "
            f"{files.cbbo.stat().st_size / 2**20:.0f} MiB, {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", choices=sorted(STEPS))
    parser.add_argument("--file")
    parser.add_argument("--data")
    parser.add_argument("--catalog")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2024, 3, 6))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the fastest is shown (3)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    if args.step:
        result = STEPS[args.step](args)
        result["peak_rss_mb"] = _peak_rss_mb()
        print(json.dumps(result))
        return

    path = ensure_day(args.day, args.seed, args.regenerate)
    catalog = OUT / "catalog"
    shutil.rmtree(catalog, ignore_errors=True)
    size_mb = path.stat().st_size / 2**20
    print(f"{SYMBOL} {args.day}: {path} ({size_mb:.0f} MiB zstd)")
    base = run_step("baseline")
    floor = run_step("floor", args.repeat, file=str(path))
    reader = run_step("reader", args.repeat, file=str(path))
    ingest = run_step("ingest", args.repeat, data=str(DATA), catalog=str(catalog))
    readback = run_step("readback", catalog=str(catalog))
    rows = floor["rows"]

    def line(name: str, r: dict[str, float]) -> str:
        return (
            f"{name:<9} {r['seconds']:8.2f} s  {rows / r['seconds'] / 1e6:6.2f} M rows/s  "
            f"peak RSS {r['peak_rss_mb']:6.0f} MB"
        )

    print(f"rows in the file: {rows:,}; python + imports alone: peak RSS {base['peak_rss_mb']:.0f} MB")
    print(line("floor", floor) + "   (zstd stream -> pyarrow.csv.read_csv)")
    print(line("reader", reader) + f"   (iter_cbbo_arrow; {reader['rows_out']:,} clean rows)")
    print(line("ingest", ingest) + f"   ({ingest['rows_out']:,} catalog rows after DTE/band filter + ffill)")
    print(
        f"          (+ {ingest['calendar_s']:.2f} s one-time NYSE calendar build per process, not in the figure)"
    )
    print(
        f"ratio     ingest/floor {ingest['seconds'] / floor['seconds']:.2f}x (target <= 1.5x), "
        f"reader/floor {reader['seconds'] / floor['seconds']:.2f}x, "
        f"ingest beyond the reader {ingest['seconds'] - reader['seconds']:+.2f} s"
    )
    print(
        f"readback  {readback['seconds'] * 1e3:.1f} ms best, {readback['median'] * 1e3:.1f} ms median, "
        f"{readback['first'] * 1e3:.1f} ms first (target <= 100 ms); {readback['rows']:,} rows; "
        f"peak RSS {readback['peak_rss_mb']:.0f} MB"
    )
    quotes = catalog / SYMBOL / "quotes" / f"{args.day}.parquet"
    print(
        f"catalog day: {quotes.stat().st_size / 2**20:.1f} MiB ({size_mb / (quotes.stat().st_size / 2**20):.0f}x smaller)"
    )


if __name__ == "__main__":
    main()
