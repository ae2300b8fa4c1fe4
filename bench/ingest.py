"""Benchmark the catalog ingest of one real-scale TSLA day, CSV and DBN, against fair floors.

Prints figures, asserts nothing. Every measured step runs in a fresh subprocess so
that its peak RSS is its own (``VmHWM`` from the child's own ``/proc/self/status``):

* floor:     ``pyarrow.csv`` over the same ``.csv.zst`` (Arrow's zstd stream), reading only
             the six columns the reader needs with the reader's explicit types (symbol
             dictionary-encoded, prices int64/float64, sizes int64): a fair floor, not
             type inference over all 16 columns
* polars:    the same columns with ``polars.read_csv`` (explicit dtypes), when polars is installed
* dbn-floor: zstd decode of the DBN twin + ``np.frombuffer`` with databento_dbn's record layout,
             touching the same six fields: the least any DBN decoder can do
* reader / reader-dbn:  ``iter_cbbo_arrow`` over the CSV / DBN file, doing nothing with it
* ingest / ingest-dbn:  ``Catalog.ingest`` of that day into an empty catalog
* readback:  ``Catalog.read_quotes`` of the ingested day (best and median of 7)

The day (TSLA-like, every expiry and strike: ~4.2M rows, 13k contracts, 33 expiries,
DataBento layout, ``.csv.zst``) is generated once by the synthetic generator, and its DBN
twin (the same records, ``.dbn.zst``, DBN v3 written with databento_dbn's Metadata and
record layout) once from it; both are cached under ``bench/out/`` (git-ignored).

Ratios come from interleaved pairs (A then B, ``--repeat`` times, each in a fresh process):
the median and the range of the per-pair ratios, so the noise of a shared machine shows.

    .venv/bin/python bench/ingest.py [--day 2024-03-06] [--seed 7] [--repeat 3] [--regenerate]

Targets (issue 12): ingest <= 1.0x the typed floor, peak RSS <= 600 MB, DBN ingest <= CSV ingest, read-back <= 100 ms.
"""

from __future__ import annotations

import argparse
import importlib.util
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
DATA_DBN = OUT / "tsla-4m-dbn"
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


_READER_COLUMNS = ("ts_recv", "symbol", "bid_px_00", "ask_px_00", "bid_sz_00", "ask_sz_00")


def _floor_types() -> dict[str, object]:
    import pyarrow as pa

    return {
        "ts_recv": pa.timestamp("ns", tz="UTC"),
        "symbol": pa.dictionary(pa.int32(), pa.string()),
        "bid_px_00": pa.float64(),
        "ask_px_00": pa.float64(),
        "bid_sz_00": pa.int64(),
        "ask_sz_00": pa.int64(),
    }


def step_floor(args: argparse.Namespace) -> dict[str, float]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    started = time.perf_counter()
    source = pa.CompressedInputStream(pa.OSFile(args.file, "rb"), "zstd")
    reader = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(block_size=1 << 24),
        convert_options=pacsv.ConvertOptions(
            column_types=_floor_types(), include_columns=list(_READER_COLUMNS), strings_can_be_null=False
        ),
    )
    rows = sum(batch.num_rows for batch in reader)
    return {"seconds": time.perf_counter() - started, "rows": rows}


def step_polars(args: argparse.Namespace) -> dict[str, float]:
    import polars as pl
    import zstandard

    started = time.perf_counter()
    with open(args.file, "rb") as fh:
        text = zstandard.ZstdDecompressor().stream_reader(fh).read()
    frame = pl.read_csv(
        text,
        columns=list(_READER_COLUMNS),
        schema_overrides={"symbol": pl.Categorical, "bid_px_00": pl.Float64, "ask_px_00": pl.Float64,
                          "bid_sz_00": pl.Int64, "ask_sz_00": pl.Int64},
    )  # fmt: skip
    return {"seconds": time.perf_counter() - started, "rows": frame.height}


def step_dbn_floor(args: argparse.Namespace) -> dict[str, float]:
    import databento_dbn
    import numpy as np
    import zstandard

    dtype = np.dtype(databento_dbn.v3.CBBOMsg._dtypes)
    started = time.perf_counter()
    rows = 0
    with open(args.file, "rb") as fh, zstandard.ZstdDecompressor().stream_reader(fh) as stream:
        head = stream.read(8)
        stream.read(int.from_bytes(head[4:8], "little"))
        while chunk := stream.read(dtype.itemsize * (1 << 18)):
            rec = np.frombuffer(chunk, dtype=dtype)
            for name in ("ts_recv", "instrument_id", "bid_px_00", "ask_px_00", "bid_sz_00", "ask_sz_00"):
                rec[name].astype(np.int64)
            rows += len(rec)
    return {"seconds": time.perf_counter() - started, "rows": rows}


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
    "polars": step_polars,
    "dbn-floor": step_dbn_floor,
    "reader": step_reader,
    "ingest": step_ingest,
    "readback": step_readback,
}


def run_once(name: str, **kwargs: str) -> dict[str, float]:
    """Run one step in a fresh process; return its JSON figures."""
    argv = [sys.executable, __file__, "--step", name]
    for key, value in kwargs.items():
        argv += [f"--{key}", value]
    if name.startswith("ingest"):
        shutil.rmtree(kwargs["catalog"], ignore_errors=True)
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"bench step {name} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_pairs(
    a: tuple[str, dict[str, str]], b: tuple[str, dict[str, str]], repeat: int
) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Run A then B, ``repeat`` times (interleaved, so drift on a shared machine hits both)."""
    runs_a, runs_b = [], []
    for _ in range(max(1, repeat)):
        runs_a.append(run_once(a[0], **a[1]))
        runs_b.append(run_once(b[0], **b[1]))
    return runs_a, runs_b


def ratio_text(runs_a: list[dict[str, float]], runs_b: list[dict[str, float]]) -> str:
    """``median x (min-max)`` of the per-pair ratios A/B."""
    ratios = sorted(float(x["seconds"]) / float(y["seconds"]) for x, y in zip(runs_a, runs_b, strict=True))
    return f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f}, {len(ratios)} pairs)"


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    return min(runs, key=lambda r: float(r["seconds"]))


def write_dbn_twin(csv_path: Path, dbn_path: Path) -> int:
    """Write the CSV day's records as DBN v3 cbbo-1m (databento_dbn Metadata + record layout); return rows."""
    import databento_dbn
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import zstandard

    int64_max, uint64_max = np.iinfo(np.int64).max, np.iinfo(np.uint64).max
    dtype = np.dtype(databento_dbn.v3.CBBOMsg._dtypes)
    types = _floor_types() | {"ts_event": pa.timestamp("ns", tz="UTC")}
    reader = pacsv.open_csv(
        pa.CompressedInputStream(pa.OSFile(str(csv_path), "rb"), "zstd"),
        read_options=pacsv.ReadOptions(block_size=1 << 24),
        convert_options=pacsv.ConvertOptions(
            column_types=types, include_columns=[*_READER_COLUMNS, "ts_event"]
        ),
    )
    ids: dict[str, int] = {}
    first_ts = last_ts = 0
    dbn_path.parent.mkdir(parents=True, exist_ok=True)
    body = dbn_path.with_name(dbn_path.name + ".body")
    rows = 0
    with body.open("wb") as out:
        for batch in reader:
            symbols = batch.column("symbol")
            for text in symbols.dictionary.to_pylist():
                ids.setdefault(text, 1_000_000 + len(ids))
            lookup = np.array([ids[t] for t in symbols.dictionary.to_pylist()], dtype=np.uint32)
            rec = np.zeros(batch.num_rows, dtype=dtype)
            rec["length"], rec["rtype"], rec["publisher_id"] = dtype.itemsize // 4, 193, 30
            rec["instrument_id"] = lookup[symbols.indices.to_numpy(zero_copy_only=False)]
            ts = batch.column("ts_recv").cast(pa.int64()).to_numpy()
            rec["ts_recv"] = ts
            event = batch.column("ts_event").cast(pa.int64())
            rec["ts_event"] = np.where(pc.is_null(event).to_numpy(zero_copy_only=False), uint64_max,
                                       pc.fill_null(event, 0).to_numpy())  # fmt: skip
            rec["price"], rec["side"] = int64_max, b"N"
            for side in ("bid", "ask"):
                px = pc.fill_null(batch.column(f"{side}_px_00"), np.nan).to_numpy()
                fixed = np.round(np.nan_to_num(px) * 1e9).astype(np.int64)
                fixed[np.isnan(px)] = int64_max
                rec[f"{side}_px_00"] = fixed
                rec[f"{side}_sz_00"] = pc.fill_null(batch.column(f"{side}_sz_00"), 0).to_numpy()
                rec[f"{side}_pb_00"] = 30
            first_ts = first_ts or int(ts[0])
            last_ts = int(ts[-1])
            out.write(rec.tobytes())
            rows += batch.num_rows
    day = date.fromtimestamp(first_ts / 1e9)

    class Interval:
        def __init__(self, symbol: str) -> None:
            self.start_date, self.end_date, self.symbol = day, date.fromordinal(day.toordinal() + 1), symbol

    class Mapping:
        def __init__(self, raw: str, iid: int) -> None:
            self.raw_symbol, self.intervals = raw, [Interval(str(iid))]

    meta = databento_dbn.Metadata(
        "OPRA.PILLAR", first_ts, databento_dbn.SType.RAW_SYMBOL, databento_dbn.SType.INSTRUMENT_ID,
        databento_dbn.Schema.CBBO_1M, symbols=sorted(ids), mappings=[Mapping(r, i) for r, i in ids.items()],
        end=last_ts + 1,
    )  # fmt: skip
    compressor = zstandard.ZstdCompressor(level=3, threads=2)
    with dbn_path.open("wb") as fh, body.open("rb") as src, compressor.stream_writer(fh, closefd=False) as z:
        z.write(bytes(meta))
        shutil.copyfileobj(src, z, 1 << 24)
    body.unlink()
    return rows


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
    dbn_path = ensure_dbn_twin(path, args.day)
    catalog, catalog_dbn = OUT / "catalog", OUT / "catalog-dbn"
    size_mb, dbn_mb = path.stat().st_size / 2**20, dbn_path.stat().st_size / 2**20
    print(f"{SYMBOL} {args.day}: {path} ({size_mb:.0f} MiB zstd CSV); DBN twin {dbn_path} ({dbn_mb:.0f} MiB)")
    base = run_once("baseline")
    n = args.repeat
    floor, reader = run_pairs(("floor", {"file": str(path)}), ("reader", {"file": str(path)}), n)
    dbn_floor, reader_dbn = run_pairs(
        ("dbn-floor", {"file": str(dbn_path)}), ("reader", {"file": str(dbn_path)}), n
    )
    ingest, ingest_dbn = run_pairs(
        ("ingest", {"data": str(DATA), "catalog": str(catalog)}),
        ("ingest", {"data": str(DATA_DBN), "catalog": str(catalog_dbn)}),
        n,
    )
    polars = None
    if importlib.util.find_spec("polars") is not None:
        polars = [run_once("polars", file=str(path)) for _ in range(n)]
    readback = run_once("readback", catalog=str(catalog))
    rows = best(floor)["rows"]

    def line(name: str, runs: list[dict[str, float]], note: str) -> str:
        r = best(runs)
        med = statistics.median(float(x["seconds"]) for x in runs)
        return (
            f"{name:<10} {r['seconds']:6.2f} s best {med:6.2f} s median  {rows / r['seconds'] / 1e6:5.2f} M rows/s  "
            f"peak RSS {max(x['peak_rss_mb'] for x in runs):5.0f} MB  ({note})"
        )

    print(f"rows in the file: {rows:,}; python + imports alone: peak RSS {base['peak_rss_mb']:.0f} MB")
    print(f"{n} runs each; rows/s from the best; peak RSS is the largest VmHWM of the runs")
    print(line("floor", floor, "pyarrow.csv, the reader's 6 columns, explicit types"))
    if polars:
        print(line("polars", polars, "polars.read_csv, the same 6 columns, explicit dtypes"))
    else:
        print("polars     (not installed: no polars floor)")
    print(line("dbn-floor", dbn_floor, "zstd + np.frombuffer with databento_dbn's layout, same 6 fields"))
    print(line("reader", reader, f"iter_cbbo_arrow on CSV; {best(reader)['rows_out']:,} clean rows"))
    print(
        line("reader-dbn", reader_dbn, f"iter_cbbo_arrow on DBN; {best(reader_dbn)['rows_out']:,} clean rows")
    )
    print(
        line("ingest", ingest, f"CSV day; {best(ingest)['rows_out']:,} catalog rows after DTE/band + ffill")
    )
    print(line("ingest-dbn", ingest_dbn, f"DBN day; {best(ingest_dbn)['rows_out']:,} catalog rows"))
    print(
        f"           (+ {best(ingest)['calendar_s']:.2f} s one-time NYSE calendar build per process, not in the figures)"
    )
    print(f"ratio      ingest/floor      {ratio_text(ingest, floor)} (target <= 1.0x)")
    print(f"ratio      reader/floor      {ratio_text(reader, floor)}")
    print(f"ratio      reader-dbn/dbn-floor {ratio_text(reader_dbn, dbn_floor)}")
    print(
        f"ratio      ingest-dbn/ingest {ratio_text(ingest_dbn, ingest)} (target <= 1.0x: DBN at least as fast)"
    )
    rb = readback
    print(
        f"readback   {rb['seconds'] * 1e3:.1f} ms best, {rb['median'] * 1e3:.1f} ms median, "
        f"{rb['first'] * 1e3:.1f} ms first (target <= 100 ms); {rb['rows']:,} rows; peak RSS {rb['peak_rss_mb']:.0f} MB"
    )
    quotes = catalog / SYMBOL / "quotes" / f"{args.day}.parquet"
    print(
        f"catalog day: {quotes.stat().st_size / 2**20:.1f} MiB ({size_mb / (quotes.stat().st_size / 2**20):.0f}x smaller)"
    )


def ensure_dbn_twin(csv_path: Path, day: date) -> Path:
    """The DBN twin of the CSV day under DATA_DBN, with the same bars/statistics beside it."""
    target = DATA_DBN / SYMBOL / "cbbo-1m" / f"{day}.dbn.zst"
    if target.exists() and target.stat().st_mtime >= csv_path.stat().st_mtime:
        return target
    print(f"writing the DBN twin of {csv_path.name} (once) ...", flush=True)
    started = time.perf_counter()
    shutil.rmtree(DATA_DBN, ignore_errors=True)
    for sub in (DATA / SYMBOL).iterdir():
        if sub.is_dir() and sub.name != "cbbo-1m":
            shutil.copytree(sub, DATA_DBN / SYMBOL / sub.name)
    rows = write_dbn_twin(csv_path, target)
    print(f"  {rows:,} records, {time.perf_counter() - started:.0f} s", flush=True)
    return target


if __name__ == "__main__":
    main()
