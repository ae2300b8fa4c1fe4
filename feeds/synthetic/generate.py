"""Generate DataBento-layout day files for one underlying: bars, CBBO-1m chain, statistics.

Files land in ``DIR/<SYMBOL>/{ohlcv-1m,cbbo-1m,statistics}/<YYYY-MM-DD>.csv[.zst]``.
Everything is a pure function of (spec, session, seed, open price): the same
arguments give byte-identical files.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from feeds.synthetic.chain import DIRTY_KINDS, list_contracts, simulate_chain
from feeds.synthetic.layouts import (
    DATABENTO_CBBO_COLUMNS,
    OHLCV_COLUMNS,
    SEED_CBBO_COLUMNS,
    STATISTICS_COLUMNS,
    bars_table,
    cbbo_table,
)
from feeds.synthetic.sessions import NS_PER_MIN, minute_grid_ns, require_session
from feeds.synthetic.spec import SymbolSpec, SyntheticDataError
from feeds.synthetic.statistics import statistics_table
from feeds.synthetic.underlying import overnight_open, simulate_underlying
from feeds.synthetic.writer import CsvSink, DayClock, check_formats

GENERATOR_VERSION = "2"
_FRAC_TABLE = 2048  # distinct sub-second parts of ts_event per day


@dataclass(frozen=True, eq=False)
class DayFiles:
    """What ``generate_day`` wrote for one symbol and session.

    ``true_price`` is the simulated underlying price (dollars) indexed by the UTC
    instant it holds at: the END of each regular-session minute, the same instant
    as the CBBO rows' ``ts_recv`` (it includes minutes whose bar is missing).
    ``dirty_rows`` counts the rows spoiled on purpose, by kind.
    """

    symbol: str
    session: date
    cbbo: Path
    ohlcv: Path
    statistics: Path | None
    cbbo_rows: int
    ohlcv_rows: int
    statistics_rows: int
    contracts: int
    expiries: tuple[date, ...]
    day_kind: str
    bursts: tuple[tuple[pd.Timestamp, float], ...]  # (start of burst, signed move fraction)
    dirty_rows: dict[str, int] = field(default_factory=dict)
    true_price: pd.Series = field(default_factory=lambda: pd.Series(dtype=np.float64))

    @property
    def close_price(self) -> float:
        return float(self.true_price.iloc[-1])


def _day_rng(seed: int, symbol: str, session: date) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed) & 0xFFFFFFFF, zlib.crc32(symbol.encode()), session.toordinal()])


def day_path(out_dir: Path, symbol: str, schema: str, session: date, compress: bool) -> Path:
    """Return ``out_dir/<SYMBOL>/<schema>/<YYYY-MM-DD>.csv[.zst]``."""
    suffix = ".csv.zst" if compress else ".csv"
    return Path(out_dir) / symbol / schema / f"{session.isoformat()}{suffix}"


def generate_day(
    spec: SymbolSpec,
    session: date,
    out_dir: Path,
    *,
    seed: int = 0,
    layout: str = "databento",
    compress: bool = True,
    ts_format: str = "iso",
    price_format: str = "decimal",
    statistics: bool | None = None,
    open_price: float | None = None,
    block_minutes: int = 30,
) -> DayFiles:
    """Write one session's bars, CBBO-1m chain and (optionally) statistics for ``spec``.

    ``open_price`` defaults to ``spec.spot``; ``statistics`` defaults to
    ``spec.has_statistics``. Memory stays bounded: the chain is simulated, formatted
    and compressed ``block_minutes`` minutes at a time.
    """
    check_formats(layout, ts_format, price_format)
    require_session(session)
    if block_minutes < 1:
        raise SyntheticDataError(f"block_minutes={block_minutes!r}: must be >= 1")
    start = spec.spot if open_price is None else float(open_price)
    if not start > 0:
        raise SyntheticDataError(f"open_price={open_price!r}: must be > 0")
    with_stats = spec.has_statistics if statistics is None else statistics
    bars_rng, chain_rng, stats_rng, clock_rng = (
        np.random.default_rng(s) for s in _day_rng(seed, spec.symbol, session).spawn(4)
    )

    grid = minute_grid_ns(session)
    day = simulate_underlying(spec, grid, start, bars_rng)
    contracts = list_contracts(spec, session, start)
    clock = DayClock(grid, np.sort(clock_rng.integers(0, 1_000_000_000, _FRAC_TABLE)), ts_format)

    ohlcv_path = day_path(out_dir, spec.symbol, "ohlcv-1m", session, compress)
    with CsvSink(ohlcv_path, OHLCV_COLUMNS, compress=compress) as sink:
        sink.write(bars_table(spec.symbol, day, ts_format, price_format))
        sink.close()
        ohlcv_rows = sink.rows

    columns = SEED_CBBO_COLUMNS if layout == "seed" else DATABENTO_CBBO_COLUMNS
    cbbo_path = day_path(out_dir, spec.symbol, "cbbo-1m", session, compress)
    dirty: Counter[str] = Counter({k: 0 for k in DIRTY_KINDS})
    with CsvSink(cbbo_path, columns, compress=compress) as sink:
        for block in simulate_chain(
            spec, contracts, day, chain_rng, block_minutes=block_minutes, frac_table_size=_FRAC_TABLE
        ):
            dirty.update(block.dirty)
            sink.write(cbbo_table(block, contracts, clock, layout, price_format))
        sink.close()
        cbbo_rows = sink.rows

    stats_path: Path | None = None
    stats_rows = 0
    if with_stats:
        stats_path = day_path(out_dir, spec.symbol, "statistics", session, compress)
        with CsvSink(stats_path, STATISTICS_COLUMNS, compress=compress) as sink:
            sink.write(statistics_table(spec, contracts, session, start, stats_rng, ts_format, price_format))
            sink.close()
            stats_rows = sink.rows

    index = pd.DatetimeIndex(pd.to_datetime(grid + NS_PER_MIN, unit="ns", utc=True), name="ts")
    bursts = tuple((pd.Timestamp(int(grid[b.start]), unit="ns", tz="UTC"), b.move_pct) for b in day.bursts)
    return DayFiles(
        symbol=spec.symbol,
        session=session,
        cbbo=cbbo_path,
        ohlcv=ohlcv_path,
        statistics=stats_path,
        cbbo_rows=cbbo_rows,
        ohlcv_rows=ohlcv_rows,
        statistics_rows=stats_rows,
        contracts=len(contracts),
        expiries=contracts.expiries,
        day_kind=day.day_kind,
        bursts=bursts,
        dirty_rows=dict(dirty),
        true_price=pd.Series(day.close, index=index, name=spec.symbol),
    )


def generate_dataset(
    out_dir: Path,
    specs: Sequence[SymbolSpec],
    sessions: Iterable[date],
    *,
    seed: int = 0,
    progress: bool = True,
    **day_options: object,
) -> list[DayFiles]:
    """Generate consecutive sessions for each spec; each day opens near the previous close.

    ``day_options`` go to ``generate_day`` (``layout``, ``compress``, ``ts_format``, ...).
    """
    days = sorted(set(sessions))
    for d in days:
        require_session(d)
    out: list[DayFiles] = []
    total = len(specs) * len(days)
    with tqdm(total=total, desc="synthetic data", unit="day", disable=not progress) as bar:
        for spec in specs:
            gap_rng = np.random.default_rng(_day_rng(seed, spec.symbol, date(1970, 1, 2)))
            price = spec.spot
            for d in days:
                bar.set_postfix_str(f"{spec.symbol} {d.isoformat()}")
                files = generate_day(spec, d, out_dir, seed=seed, open_price=price, **day_options)  # type: ignore[arg-type]
                out.append(files)
                price = overnight_open(files.close_price, spec, gap_rng)
                bar.update(1)
    return out
