"""Read DataBento OPRA ``cbbo-1m`` quote files (two CSV layouts, or DBN) into clean, sorted quotes.

DBN files (``.dbn``, ``.dbn.zst``, versions 1-3; see ``feeds.databento.dbn``) are decoded
with databento_dbn's record layout into the same columns the DataBento CSV layout parses
to, and both go through one row classifier (``feeds.databento.cbbo_rows``): the same
records give the same quotes and the same drop counts. CSV layouts (recognised from the
header, extra columns ignored; without ``symbol`` when written with ``map_symbols=False``,
then ``instrument_id`` is mapped through a ``SymbolMap``):

* seed:      ``ts_recv,ts_event,symbol,bid_px,ask_px,bid_sz,ask_sz,bid_ct,ask_ct``
* DataBento: ``ts_recv,ts_event,rtype,publisher_id,instrument_id,side,price,size,flags,
  bid_px_00,ask_px_00,bid_sz_00,ask_sz_00,bid_pb_00,ask_pb_00,symbol``

A DataBento ``rtype`` other than 193 (cbbo-1m) is refused, naming the schema (a cbbo-1s file
is not 1-minute data). Timestamps are ISO-8601 (``...123456789Z``; text without a zone is taken as UTC) or
integer nanoseconds; prices are decimals or 1e9 fixed-point integers (INT64_MAX =
undefined). Both are sniffed from the first rows. ``ts`` is ``ts_recv``: the END of
the minute the row stands for. ``ts_event`` is not read.

What is dropped (counted per kind in ``ReadStats.dropped``; first matching kind wins):

* ``bad_row``: a line Arrow cannot split into the header's columns, or no ``ts_recv``
* ``bad_symbol``: not an OCC/OSI symbol (one warning per file names an example)
* ``nan_price``: neither bid nor ask defined (empty, NaN, INT64_MAX)
* ``missing_side``: exactly one of bid / ask undefined
* ``zero_or_negative_bid``: bid <= 0 (nothing to sell into)
* ``crossed``: bid > ask. Locked (bid == ask) rows are kept and counted in ``locked``.
* ``duplicate``: a later row with the same (ts, symbol) as an earlier clean row
  replaces it; the earlier one is counted. Dirty rows are dropped before this step.

Zero displayed sizes are kept (sizes are 0 when unknown). Rows out of time order
are counted in ``ReadStats.out_of_order`` and re-sorted, not dropped.

Where batches come from (CSV sniffing, DBN records): ``cbbo_sources``; how rows are
classified: ``cbbo_rows``; range files split into days in one pass: ``cbbo_days``.

Performance: the text is decompressed in chunks of ``block_size`` bytes, each parsed
by ``pyarrow.csv.read_csv`` (multi-threaded) with explicit column types and the
symbol column dictionary-encoded; symbols are parsed once per distinct value and
cached across chunks; the rest is numpy over whole columns.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Iterable, Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from feeds.databento.bars import read_bars, read_statistics
from feeds.databento.cbbo_rows import (
    QUOTE_ARROW_SCHEMA,
    DataQualityWarning,
    ReadStats,
    RowClassifier,
    Rows,
)
from feeds.databento.cbbo_sources import (
    DATABENTO_CBBO_HEADER,
    SEED_CBBO_HEADER,
    open_source,
)
from feeds.databento.symbology import NS_PER_DAY, SymbolMap
from feeds.databento.textio import DataFileError
from feeds.schema import QUOTE_COLUMNS

__all__ = [
    "DATABENTO_CBBO_HEADER",
    "QUOTE_ARROW_SCHEMA",
    "SEED_CBBO_HEADER",
    "DataFileError",
    "DataQualityWarning",
    "ReadStats",
    "iter_cbbo_arrow",
    "iter_cbbo_batches",
    "read_bars",
    "read_cbbo",
    "read_statistics",
]

DEFAULT_BLOCK_BYTES = 1 << 24  # 16 MiB of decompressed text (~100k rows) per batch


def iter_cbbo_arrow(
    path: str | Path,
    *,
    stats: ReadStats | None = None,
    block_size: int = DEFAULT_BLOCK_BYTES,
    symbols: SymbolMap | None = None,
    underlyings: Collection[str] | None = None,
    day: date | None = None,
) -> Iterator[pa.Table]:
    """Stream one CBBO-1m file (CSV or DBN) as Arrow tables with ``QUOTE_ARROW_SCHEMA``.

    Each table holds the clean rows of about ``block_size`` bytes of text (or
    ``CHUNK_RECORDS`` DBN records), sorted by (ts, symbol) with duplicates dropped. The
    rows of the last minute seen are held back until a later minute appears, so a
    time-ordered source yields tables in strict time order with no duplicates across
    tables. A source with rows out of time order (``stats.out_of_order > 0``) may yield
    late rows in a later table: concatenate and sort (``read_cbbo`` does). ``stats`` is
    updated as rows are read. Raise ``DataFileError`` for an unreadable file; a
    header-only file yields nothing.

    ``symbols`` maps ``instrument_id`` to raw symbols for a file without a ``symbol``
    column (CSV with ``map_symbols=False``) and adds to a DBN file's own mappings.
    ``underlyings`` keeps only those underlyings' contracts (a merged file); the other
    rows are counted in ``stats.other_underlyings``, not kept. ``day`` keeps the rows of
    that UTC day only (one day of a range file); the others are counted in ``stats.other_days``.
    """
    path = Path(path)
    st = stats if stats is not None else ReadStats()
    wanted = frozenset(u.upper() for u in underlyings) if underlyings is not None else None
    window = None
    if day is not None:
        start_ns = (day - date(1970, 1, 1)).days * NS_PER_DAY
        window = (start_ns, start_ns + NS_PER_DAY)
    reader, batches, closer = open_source(path, st, block_size, symbols, wanted, window)
    try:
        yield from stream_quotes(reader, batches)
    finally:
        closer()
    if reader.bad_symbols:
        example = st.bad_symbol_examples[0] if st.bad_symbol_examples else "?"
        warnings.warn(
            f"{path}: dropped {reader.bad_symbols:,} rows with malformed option symbols, e.g. {example!r}",
            DataQualityWarning,
            stacklevel=2,
        )


def stream_quotes(reader: RowClassifier, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.Table]:
    """Classify, sort and dedup ``batches``; yield tables, holding the last minute back until a later one."""
    carry: Rows | None = None
    for batch in batches:
        rows = reader.rows(batch)
        carry = reader.sort_dedup(rows if carry is None else Rows.concat(carry, rows))
        if len(carry.ts) == 0:
            continue
        cut = int(np.searchsorted(carry.ts, carry.ts[-1], side="left"))
        if cut:
            yield reader.to_table(carry.take(slice(0, cut)))
            carry = carry.take(slice(cut, None))
    reader.finish()
    if carry is not None and len(carry.ts):
        yield reader.to_table(carry)


def quotes_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Convert a quote table to pandas: ts datetime64[ns, UTC], expiry python ``date`` objects."""
    expiry = table.column("expiry")
    enc = pc.dictionary_encode(expiry.combine_chunks()) if len(expiry) else None
    frame = table.drop_columns(["expiry"]).to_pandas()
    if enc is not None:
        values = np.array([*enc.dictionary.to_pylist(), None], dtype=object)
        dates = values[pc.fill_null(enc.indices, len(values) - 1).to_numpy()]
    else:
        dates = np.zeros(0, dtype=object)
    frame.insert(QUOTE_COLUMNS.index("expiry"), "expiry", dates)
    return frame[list(QUOTE_COLUMNS)]


def iter_cbbo_batches(
    path: str | Path,
    *,
    stats: ReadStats | None = None,
    block_size: int = DEFAULT_BLOCK_BYTES,
    symbols: SymbolMap | None = None,
    underlyings: Collection[str] | None = None,
    day: date | None = None,
) -> Iterator[pd.DataFrame]:
    """Like ``iter_cbbo_arrow`` but yield pandas frames (see ``quotes_to_pandas``)."""
    for table in iter_cbbo_arrow(
        path, stats=stats, block_size=block_size, symbols=symbols, underlyings=underlyings, day=day
    ):
        yield quotes_to_pandas(table)


def read_cbbo_arrow(
    path: str | Path,
    *,
    stats: ReadStats | None = None,
    block_size: int = DEFAULT_BLOCK_BYTES,
    symbols: SymbolMap | None = None,
    underlyings: Collection[str] | None = None,
    day: date | None = None,
) -> pa.Table:
    """Read a whole CBBO-1m file into one Arrow table sorted by (ts, symbol), no duplicates."""
    st = stats if stats is not None else ReadStats()
    tables = list(
        iter_cbbo_arrow(
            path, stats=st, block_size=block_size, symbols=symbols, underlyings=underlyings, day=day
        )
    )
    if not tables:
        return QUOTE_ARROW_SCHEMA.empty_table()
    table = pa.concat_tables(tables).combine_chunks() if len(tables) > 1 else tables[0]
    ts = table.column("ts").cast(pa.int64()).to_numpy()
    if len(tables) > 1 and np.any(ts[1:] < ts[:-1]):
        table = _global_sort_dedup(table, st)
    return table


def _global_sort_dedup(table: pa.Table, stats: ReadStats) -> pa.Table:
    order = pc.sort_indices(table, sort_keys=[("ts", "ascending"), ("symbol", "ascending")])
    table = table.take(order)
    ts = table.column("ts").cast(pa.int64()).to_numpy()
    sym = table.column("symbol").to_numpy(zero_copy_only=False)
    dup = (ts[1:] == ts[:-1]) & (sym[1:] == sym[:-1])
    if not dup.any():
        return table
    n = int(np.count_nonzero(dup))
    stats.dropped["duplicate"] += n
    stats.rows_out -= n
    keep = np.ones(table.num_rows, dtype=bool)
    keep[:-1] = ~dup
    return table.filter(pa.array(keep))


def read_cbbo(
    path: str | Path,
    *,
    stats: ReadStats | None = None,
    block_size: int = DEFAULT_BLOCK_BYTES,
    symbols: SymbolMap | None = None,
    underlyings: Collection[str] | None = None,
    day: date | None = None,
) -> pd.DataFrame:
    """Read a whole CBBO-1m day: columns ``QUOTE_COLUMNS``, sorted by (ts, symbol), clean rows only.

    ``ts`` is datetime64[ns, UTC] (ts_recv, the END of the minute); ``symbol`` compact
    OCC even when the file is OSI-padded; ``expiry`` python ``datetime.date`` objects;
    ``bid_sz``/``ask_sz`` int64. See the module docstring for what is dropped.
    """
    return quotes_to_pandas(
        read_cbbo_arrow(
            path, stats=stats, block_size=block_size, symbols=symbols, underlyings=underlyings, day=day
        )
    )
