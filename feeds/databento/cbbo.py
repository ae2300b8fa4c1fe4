"""Read DataBento OPRA ``cbbo-1m`` quote files (two CSV layouts) into clean, sorted quotes.

Layouts (recognised from the header, extra columns ignored):

* seed:      ``ts_recv,ts_event,symbol,bid_px,ask_px,bid_sz,ask_sz,bid_ct,ask_ct``
* DataBento: ``ts_recv,ts_event,rtype,publisher_id,instrument_id,side,price,size,flags,
  bid_px_00,ask_px_00,bid_sz_00,ask_sz_00,bid_pb_00,ask_pb_00,symbol``

Timestamps are ISO-8601 (``...123456789Z``; text without a zone is taken as UTC) or
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

Performance: the text is decompressed in chunks of ``block_size`` bytes, each parsed
by ``pyarrow.csv.read_csv`` (multi-threaded) with explicit column types and the
symbol column dictionary-encoded; symbols are parsed once per distinct value and
cached across chunks; the rest is numpy over whole columns.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from feeds.databento.bars import read_bars, read_statistics
from feeds.databento.dbn import UINT64_MAX, DbnFile, is_dbn, rtype_name
from feeds.databento.symbology import NS_PER_DAY, SymbolMap
from feeds.databento.textio import (
    FIXED_PRICE_SCALE,
    INT64_MAX,
    DataFileError,
    TextStream,
    TsKind,
    arrow_input,
    arrow_read_error,
    column_values,
    detect_fixed_point,
    detect_ts_kind,
    split_header,
)
from feeds.schema import CATALOG_QUOTE_SCHEMA, DROP_REASONS, QUOTE_COLUMNS
from options_scalper.occ import parse_occ_unique_arrow

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

SEED_CBBO_HEADER = (
    "ts_recv",
    "ts_event",
    "symbol",
    "bid_px",
    "ask_px",
    "bid_sz",
    "ask_sz",
    "bid_ct",
    "ask_ct",
)
DATABENTO_CBBO_HEADER = (
    "ts_recv", "ts_event", "rtype", "publisher_id", "instrument_id", "side", "price", "size", "flags",
    "bid_px_00", "ask_px_00", "bid_sz_00", "ask_sz_00", "bid_pb_00", "ask_pb_00", "symbol",
)  # fmt: skip
# Source column per role, per layout.
_LAYOUTS: dict[str, dict[str, str]] = {
    "databento": {"ts": "ts_recv", "symbol": "symbol", "bid_px": "bid_px_00", "ask_px": "ask_px_00",
                  "bid_sz": "bid_sz_00", "ask_sz": "ask_sz_00"},
    "seed": {"ts": "ts_recv", "symbol": "symbol", "bid_px": "bid_px", "ask_px": "ask_px",
             "bid_sz": "bid_sz", "ask_sz": "ask_sz"},
}  # fmt: skip

QUOTE_ARROW_SCHEMA = pa.schema([CATALOG_QUOTE_SCHEMA.field(n) for n in QUOTE_COLUMNS])
DEFAULT_BLOCK_BYTES = 1 << 24  # 16 MiB of decompressed text (~100k rows) per batch
_SNIFF_BYTES = 1 << 18  # text looked at to detect the layout and formats
_BAD_SYMBOL_EXAMPLES = 5
_CBBO_1M_RTYPE = 193

# Reason codes, in priority order (a row gets the first that applies).
_OK, _BAD_ROW, _BAD_SYMBOL, _NAN_PRICE, _MISSING_SIDE, _ZERO_BID, _CROSSED = range(7)
_REASON_NAMES = {
    _BAD_ROW: "bad_row",
    _BAD_SYMBOL: "bad_symbol",
    _NAN_PRICE: "nan_price",
    _MISSING_SIDE: "missing_side",
    _ZERO_BID: "zero_or_negative_bid",
    _CROSSED: "crossed",
}
if not set(_REASON_NAMES.values()) <= set(DROP_REASONS):  # pragma: no cover - contract guard
    raise ImportError("feeds.databento.cbbo: feeds.schema.DROP_REASONS lacks a reason this reader counts")


class DataQualityWarning(UserWarning):
    """A file had rows that were dropped in bulk (e.g. malformed symbols)."""


@dataclass
class ReadStats:
    """What a read saw: rows in/out, drops per ``DROP_REASONS`` kind, order problems."""

    rows_in: int = 0
    rows_out: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    bad_symbol_examples: list[str] = field(default_factory=list)
    out_of_order: int = 0  # rows earlier than a row before them; re-sorted, not dropped
    locked: int = 0  # bid == ask; kept
    files: int = 0
    other_underlyings: Counter[str] = field(default_factory=Counter)  # rows not asked for; not kept
    other_days: int = 0  # rows outside the day asked for (range files); not kept

    @property
    def duplicates(self) -> int:
        return int(self.dropped.get("duplicate", 0))

    def merge(self, other: ReadStats) -> None:
        """Add ``other``'s counts into this one."""
        self.rows_in += other.rows_in
        self.rows_out += other.rows_out
        self.dropped.update(other.dropped)
        room = _BAD_SYMBOL_EXAMPLES - len(self.bad_symbol_examples)
        self.bad_symbol_examples.extend(
            [s for s in other.bad_symbol_examples if s not in self.bad_symbol_examples][: max(room, 0)]
        )
        self.out_of_order += other.out_of_order
        self.locked += other.locked
        self.files += other.files
        self.other_underlyings.update(other.other_underlyings)
        self.other_days += other.other_days

    def summary_line(self) -> str:
        """One line for logs and reports."""
        drops = ", ".join(f"{k} {v:,}" for k in DROP_REASONS if (v := self.dropped.get(k, 0)))
        text = f"{self.files} file(s): rows in {self.rows_in:,}, out {self.rows_out:,}; dropped: {drops or 'none'}"
        if self.out_of_order:
            text += f"; out of order {self.out_of_order:,} (re-sorted)"
        if self.locked:
            text += f"; locked {self.locked:,} (kept)"
        if self.bad_symbol_examples:
            text += f"; bad symbols e.g. {self.bad_symbol_examples[0]!r}"
        if self.other_underlyings:
            other = ", ".join(f"{u} {n:,}" for u, n in sorted(self.other_underlyings.items()))
            text += f"; other underlyings not kept: {other}"
        return text


@dataclass(frozen=True)
class _CbboFormat:
    header: list[str]
    columns: dict[str, str]  # role -> source column
    ts_kind: TsKind
    fixed_point: bool
    by_instrument_id: bool = False  # no symbol column: symbols come from a SymbolMap
    rtype: bool = False  # an rtype column to check

    def convert_options(self) -> pacsv.ConvertOptions:
        ts_type = {
            "iso_tz": pa.timestamp("ns", tz="UTC"),
            "iso_naive": pa.timestamp("ns"),
            "int_ns": pa.int64(),
        }[self.ts_kind]
        px_type = pa.int64() if self.fixed_point else pa.float64()
        c = self.columns
        types = {
            c["ts"]: ts_type,
            c["bid_px"]: px_type,
            c["ask_px"]: px_type,
            c["bid_sz"]: pa.int64(),
            c["ask_sz"]: pa.int64(),
        }
        if self.by_instrument_id:
            types["instrument_id"] = pa.int64()
        else:
            types[c["symbol"]] = pa.dictionary(pa.int32(), pa.string())
        if self.rtype:
            types["rtype"] = pa.int64()
        return pacsv.ConvertOptions(
            column_types=types, include_columns=list(types), strings_can_be_null=False
        )


def _detect_format(path: Path, header: list[str], rows: list[list[str]]) -> _CbboFormat:
    present = set(header)
    by_id = False
    for columns in _LAYOUTS.values():
        if set(columns.values()) <= present:
            break
        if set(columns.values()) - {"symbol"} <= present and "instrument_id" in present:
            by_id = True  # DataBento CSV written with map_symbols=False
            break
    else:
        raise DataFileError(
            f"{path}: line 1: unknown CBBO header {','.join(header)[:120]!r}; expected "
            f"{','.join(SEED_CBBO_HEADER)} or DataBento's {','.join(DATABENTO_CBBO_HEADER)}"
        )
    ts_kind = detect_ts_kind(path, columns["ts"], column_values(header, rows, [columns["ts"]]))
    fixed = detect_fixed_point(column_values(header, rows, [columns["bid_px"], columns["ask_px"]]))
    return _CbboFormat(header, columns, ts_kind, fixed, by_instrument_id=by_id, rtype="rtype" in present)


class _SymbolCache:
    """Raw symbol text -> parsed fields, grown as new symbols appear; ``rank`` orders by compact symbol."""

    def __init__(self, underlyings: frozenset[str] | None = None) -> None:
        self.raw = pa.array([], pa.string())
        self.table = parse_occ_unique_arrow(self.raw)
        self.valid = np.zeros(0, dtype=bool)
        self.rank = np.zeros(0, dtype=np.int64)
        self.underlyings = underlyings
        self.foreign = np.zeros(0, dtype=bool)  # a valid symbol of an underlying not asked for

    def ids(self, dictionary: pa.Array) -> np.ndarray:
        idx = pc.index_in(dictionary, value_set=self.raw)
        if idx.null_count:
            self._add(dictionary.filter(pc.is_null(idx)))
            idx = pc.index_in(dictionary, value_set=self.raw)
        return idx.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)

    def _add(self, new: pa.Array) -> None:
        self.raw = pa.concat_arrays([self.raw, new])
        self.table = pa.concat_tables([self.table, parse_occ_unique_arrow(new)]).combine_chunks()
        self.valid = self.table.column("valid").to_numpy(zero_copy_only=False).astype(bool)
        compact = np.asarray(self.table.column("symbol").fill_null("").to_pylist(), dtype=object)
        self.rank = np.unique(compact, return_inverse=True)[1].astype(np.int64)
        if self.underlyings is not None:
            under = self.table.column("underlying").fill_null("").to_numpy(zero_copy_only=False)
            self.foreign = self.valid & ~np.isin(under.astype(object), list(self.underlyings))
        else:
            self.foreign = np.zeros(len(self.valid), dtype=bool)

    def underlying_counts(self, ids: np.ndarray) -> Counter[str]:
        """Rows per underlying among ``ids``."""
        per_id = np.bincount(ids, minlength=len(self.valid))
        under = self.table.column("underlying").fill_null("?").to_pylist()
        out: Counter[str] = Counter()
        for i in np.flatnonzero(per_id).tolist():
            out[str(under[i])] += int(per_id[i])
        return out


@dataclass
class _Rows:
    ts: np.ndarray
    ids: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_sz: np.ndarray
    ask_sz: np.ndarray

    def take(self, idx: np.ndarray | slice) -> _Rows:
        return _Rows(*(a[idx] for a in self.arrays()))

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.ts, self.ids, self.bid, self.ask, self.bid_sz, self.ask_sz)

    @staticmethod
    def concat(a: _Rows, b: _Rows) -> _Rows:
        return _Rows(*(np.concatenate([x, y]) for x, y in zip(a.arrays(), b.arrays(), strict=True)))


def _numpy_prices(arr: pa.Array, fixed_point: bool) -> np.ndarray:
    if fixed_point:
        raw = pc.fill_null(arr, INT64_MAX).to_numpy().astype(np.int64, copy=False)
        out = raw.astype(np.float64) / FIXED_PRICE_SCALE
        out[raw == INT64_MAX] = np.nan
        return out
    return pc.fill_null(arr, np.nan).to_numpy().astype(np.float64, copy=False)


class _CbboReader:
    def __init__(
        self,
        path: Path,
        fmt: _CbboFormat,
        stats: ReadStats,
        underlyings: frozenset[str] | None = None,
        window: tuple[int, int] | None = None,
    ) -> None:
        self.path, self.fmt, self.stats = path, fmt, stats
        self.window = window
        self.cache = _SymbolCache(underlyings)
        self.last_ts = np.iinfo(np.int64).min
        self.bad_rows = 0  # lines the CSV parser skipped (wrong number of fields)
        self.bad_rows_counted = 0
        self.bad_symbols = 0
        self.line = 1  # lines consumed so far (header included)

    def on_invalid(self, row: pacsv.InvalidRow) -> str:
        self.bad_rows += 1
        return "skip"

    def rows(self, table: pa.RecordBatch) -> _Rows:
        """Classify one parsed chunk, count drops, return its clean rows in file order."""
        st, c = self.stats, self.fmt.columns
        if self.fmt.rtype:
            self._check_rtype(table.column("rtype"))
        n = table.num_rows
        new_bad = self.bad_rows - self.bad_rows_counted
        self.bad_rows_counted = self.bad_rows
        ts_col = table.column(c["ts"])
        ts_ok = pc.is_valid(ts_col).to_numpy(zero_copy_only=False)
        ts = pc.fill_null(ts_col.cast(pa.int64()), 0).to_numpy().astype(np.int64, copy=False)
        sym = table.column(c["symbol"])
        dictionary = sym.dictionary
        codes = sym.indices.to_numpy(zero_copy_only=False)
        dict_ids = self.cache.ids(dictionary)
        ids = dict_ids[codes] if len(dict_ids) else np.zeros(n, np.int64)
        foreign = self.cache.foreign[ids] if n else np.zeros(0, bool)
        other_day = np.zeros(n, dtype=bool)
        if self.window is not None:  # a range file read for one day: other days' rows are not this day's
            other_day = ts_ok & ((ts < self.window[0]) | (ts >= self.window[1]))
        skip = foreign | other_day
        if skip.any():  # not this read's rows: counted, not kept, not "dropped"
            if foreign.any():
                st.other_underlyings.update(self.cache.underlying_counts(ids[foreign & ~other_day]))
            st.other_days += int(np.count_nonzero(other_day))
            own = ~skip
            table, ts_ok, ts, ids, codes = (
                table.filter(pa.array(own)),
                ts_ok[own],
                ts[own],
                ids[own],
                codes[own],
            )
            self.line += n - len(ids)
            n = len(ids)
        st.rows_in += n + new_bad
        bid = _numpy_prices(table.column(c["bid_px"]), self.fmt.fixed_point)
        ask = _numpy_prices(table.column(c["ask_px"]), self.fmt.fixed_point)

        bid_nan, ask_nan = np.isnan(bid), np.isnan(ask)
        reason = np.zeros(n, dtype=np.int8)
        with np.errstate(invalid="ignore"):
            reason[bid > ask] = _CROSSED
            reason[bid <= 0] = _ZERO_BID
        reason[bid_nan != ask_nan] = _MISSING_SIDE
        reason[bid_nan & ask_nan] = _NAN_PRICE
        bad_sym = ~self.cache.valid[ids] if n else np.zeros(0, bool)
        reason[bad_sym] = _BAD_SYMBOL
        reason[~ts_ok] = _BAD_ROW
        counts = np.bincount(reason, minlength=len(_REASON_NAMES) + 1)
        for code, name in _REASON_NAMES.items():
            if counts[code]:
                st.dropped[name] += int(counts[code])
        if new_bad:
            st.dropped["bad_row"] += new_bad
        if counts[_BAD_SYMBOL]:
            self.bad_symbols += int(counts[_BAD_SYMBOL])
            self._note_bad_symbols(dictionary, codes[bad_sym])
        self.line += n + new_bad

        if ts_ok.any():  # out of order: earlier than some row before it in the file
            t = ts[ts_ok]
            running = np.maximum.accumulate(t)
            prior = np.concatenate([[self.last_ts], running[:-1]])
            st.out_of_order += int(np.count_nonzero(t < prior))
            self.last_ts = max(self.last_ts, int(running[-1]))

        keep = reason == _OK
        st.locked += int(np.count_nonzero(keep & (bid == ask)))
        sizes = [
            pc.fill_null(table.column(c[k]), 0).to_numpy().astype(np.int64, copy=False)[keep]
            for k in ("bid_sz", "ask_sz")
        ]
        return _Rows(ts[keep], ids[keep], bid[keep], ask[keep], *sizes)

    def _check_rtype(self, column: pa.Array) -> None:
        values = pc.unique(column.drop_null()).to_pylist()
        other = [v for v in values if v != _CBBO_1M_RTYPE]
        if other:
            seen = rtype_name(int(other[0]))
            raise DataFileError(
                f"{self.path}: rows have rtype {other[0]} ({seen}), not 193 (cbbo-1m); download the cbbo-1m schema"
                + (" (1-second quotes are not 1-minute data)" if seen == "cbbo-1s" else "")
            )

    def finish(self) -> None:
        """Count lines the parser skipped after the last batch."""
        new_bad = self.bad_rows - self.bad_rows_counted
        self.bad_rows_counted = self.bad_rows
        self.stats.rows_in += new_bad
        if new_bad:
            self.stats.dropped["bad_row"] += new_bad

    def _note_bad_symbols(self, dictionary: pa.Array, bad_codes: np.ndarray) -> None:
        examples = self.stats.bad_symbol_examples
        if len(examples) >= _BAD_SYMBOL_EXAMPLES:
            return
        for code in np.unique(bad_codes)[:_BAD_SYMBOL_EXAMPLES]:
            text = str(dictionary[int(code)].as_py())
            if text not in examples and len(examples) < _BAD_SYMBOL_EXAMPLES:
                examples.append(text)

    def sort_dedup(self, rows: _Rows) -> _Rows:
        """Sort by (ts, compact symbol); among equal keys keep the last row in file order."""
        if len(rows.ts) == 0:
            return rows
        rank = self.cache.rank[rows.ids]
        ts = rows.ts
        step = ts[1:] != ts[:-1]
        if np.all(ts[1:] >= ts[:-1]):  # the usual case: sort within each minute by one int64 key
            minute = np.concatenate([[0], np.cumsum(step)])
            order = np.argsort(minute * (len(self.cache.rank) + 1) + rank, kind="stable")
        else:
            order = np.lexsort((rank, ts))
        ts_s, rank_s = rows.ts[order], rank[order]
        dup = (ts_s[1:] == ts_s[:-1]) & (rank_s[1:] == rank_s[:-1])
        if dup.any():
            self.stats.dropped["duplicate"] += int(np.count_nonzero(dup))
            keep = np.ones(len(order), dtype=bool)
            keep[:-1] = ~dup
            order = order[keep]
        return rows.take(order)

    def to_table(self, rows: _Rows) -> pa.Table:
        parsed = self.cache.table.take(pa.array(rows.ids))
        self.stats.rows_out += len(rows.ts)
        return pa.Table.from_arrays(
            [
                pa.array(rows.ts, type=pa.timestamp("ns", tz="UTC")),
                parsed.column("symbol"),
                parsed.column("underlying"),
                parsed.column("expiry"),
                parsed.column("option_type"),
                parsed.column("strike"),
                pa.array(rows.bid),
                pa.array(rows.ask),
                pa.array(rows.bid_sz),
                pa.array(rows.ask_sz),
            ],
            schema=QUOTE_ARROW_SCHEMA,
        )


def _open_reader(path: Path, fmt: _CbboFormat, reader: _CbboReader, block_size: int,
                 head: bytes) -> tuple[pacsv.CSVStreamingReader, pa.NativeFile]:  # fmt: skip
    source = arrow_input(path)
    try:
        csv = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(block_size=block_size),
            parse_options=pacsv.ParseOptions(invalid_row_handler=reader.on_invalid),
            convert_options=fmt.convert_options(),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        source.close()
        raise arrow_read_error(path, exc, _where(head, str(exc))) from exc
    return csv, source


_INVALID_VALUE_RE = re.compile(r"invalid value '([^']+)'")


def _where(head: bytes, msg: str) -> str:
    """Best guess of the line an Arrow conversion error in the first block refers to."""
    m = _INVALID_VALUE_RE.search(msg)
    pos = head.find(b"," + m.group(1).encode()) if m else -1
    if pos < 0:
        return "in the first block of rows"
    line = head.count(b"\n", 0, pos) + 1
    return f"line {line}"


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
    if is_dbn(path):
        dbn = DbnFile(path, "cbbo-1m")
        fmt = _DBN_FORMAT
        reader = _CbboReader(path, fmt, st, wanted, window)
        batches = _dbn_batches(dbn, _dbn_symbols(dbn, symbols))
        closer = dbn.close
    else:
        with TextStream(path) as stream:
            head = stream.peek(_SNIFF_BYTES)
        if not head.strip():
            raise DataFileError(f"{path}: empty file (no header line); re-download it")
        header, sample = split_header(path, head, whole=len(head) < _SNIFF_BYTES)
        fmt = _detect_format(path, header, sample)
        if fmt.by_instrument_id and not symbols:
            raise DataFileError(f"{path}: {NO_SYMBOLS_HELP}")
        reader = _CbboReader(path, fmt, st, wanted, window)
        csv, source = _open_reader(path, fmt, reader, block_size, head)
        batches = _csv_batches(path, csv, reader, symbols if fmt.by_instrument_id else None)

        def closer() -> None:
            csv.close()
            source.close()

    st.files += 1
    try:
        carry: _Rows | None = None
        for batch in batches:
            rows = reader.rows(batch)
            carry = reader.sort_dedup(rows if carry is None else _Rows.concat(carry, rows))
            if len(carry.ts) == 0:
                continue
            cut = int(np.searchsorted(carry.ts, carry.ts[-1], side="left"))
            if cut:
                yield reader.to_table(carry.take(slice(0, cut)))
                carry = carry.take(slice(cut, None))
        reader.finish()
        if carry is not None and len(carry.ts):
            yield reader.to_table(carry)
    finally:
        closer()
    if reader.bad_symbols:
        example = st.bad_symbol_examples[0] if st.bad_symbol_examples else "?"
        warnings.warn(
            f"{path}: dropped {reader.bad_symbols:,} rows with malformed option symbols, e.g. {example!r}",
            DataQualityWarning,
            stacklevel=2,
        )


NO_SYMBOLS_HELP = (
    "rows carry instrument_id but no symbol (downloaded with map_symbols=False) and no symbology.json "
    "or definition file was found beside it; put the job's symbology.json next to the file, or "
    "re-download with map_symbols=True"
)
_DBN_FORMAT = _CbboFormat(list(DATABENTO_CBBO_HEADER), _LAYOUTS["databento"], "int_ns", True)


def _csv_batches(
    path: Path, csv: pacsv.CSVStreamingReader, reader: _CbboReader, symbols: SymbolMap | None
) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            batch = csv.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowInvalid, OSError) as exc:
            raise arrow_read_error(path, exc, f"after line {reader.line}") from exc
        if symbols is not None:
            ids = pc.fill_null(batch.column("instrument_id"), -1).to_numpy()
            ts = pc.fill_null(batch.column(reader.fmt.columns["ts"]).cast(pa.int64()), 0).to_numpy()
            batch = batch.append_column("symbol", symbols.dictionary(ids, ts))
        yield batch


def _dbn_symbols(dbn: DbnFile, extra: SymbolMap | None) -> SymbolMap:
    own = SymbolMap.from_metadata(dbn.header.metadata)
    mapping = own.merged(extra) if extra is not None else own
    if not len(mapping):
        dbn.close()
        raise DataFileError(f"{dbn.path}: {NO_SYMBOLS_HELP.replace('rows carry', 'DBN records carry')}")
    return mapping


def _dbn_batches(dbn: DbnFile, symbols: SymbolMap) -> Iterator[pa.RecordBatch]:
    for chunk in dbn.chunks():
        raw_ts = chunk["ts_recv"]
        ts = raw_ts.astype(np.int64)
        undefined = raw_ts == np.uint64(UINT64_MAX)
        yield pa.record_batch(
            {
                "ts_recv": pa.array(ts, mask=undefined if undefined.any() else None),
                "symbol": symbols.dictionary(chunk["instrument_id"].astype(np.int64), ts),
                "bid_px_00": pa.array(chunk["bid_px_00"].astype(np.int64)),
                "ask_px_00": pa.array(chunk["ask_px_00"].astype(np.int64)),
                "bid_sz_00": pa.array(chunk["bid_sz_00"].astype(np.int64)),
                "ask_sz_00": pa.array(chunk["ask_sz_00"].astype(np.int64)),
            }
        )


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
) -> Iterator[pd.DataFrame]:
    """Like ``iter_cbbo_arrow`` but yield pandas frames (see ``quotes_to_pandas``)."""
    for table in iter_cbbo_arrow(
        path, stats=stats, block_size=block_size, symbols=symbols, underlyings=underlyings
    ):
        yield quotes_to_pandas(table)


def read_cbbo_arrow(
    path: str | Path,
    *,
    stats: ReadStats | None = None,
    block_size: int = DEFAULT_BLOCK_BYTES,
    symbols: SymbolMap | None = None,
    underlyings: Collection[str] | None = None,
) -> pa.Table:
    """Read a whole CBBO-1m file into one Arrow table sorted by (ts, symbol), no duplicates."""
    st = stats if stats is not None else ReadStats()
    tables = list(
        iter_cbbo_arrow(path, stats=st, block_size=block_size, symbols=symbols, underlyings=underlyings)
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
) -> pd.DataFrame:
    """Read a whole CBBO-1m day: columns ``QUOTE_COLUMNS``, sorted by (ts, symbol), clean rows only.

    ``ts`` is datetime64[ns, UTC] (ts_recv, the END of the minute); ``symbol`` compact
    OCC even when the file is OSI-padded; ``expiry`` python ``datetime.date`` objects;
    ``bid_sz``/``ask_sz`` int64. See the module docstring for what is dropped.
    """
    return quotes_to_pandas(
        read_cbbo_arrow(path, stats=stats, block_size=block_size, symbols=symbols, underlyings=underlyings)
    )
