"""Classify CBBO rows (one parsed chunk at a time) into clean quotes and counted drops.

Shared by every source of ``feeds.databento.cbbo`` (CSV chunks from ``pyarrow.csv``, DBN
record chunks): a source hands ``RowClassifier.rows`` a record batch whose columns are named
by its ``CbboFormat``; the classifier parses symbols once per distinct value (cached across
chunks), counts drops per ``DROP_REASONS`` kind, leaves out rows of other underlyings or
days (counted, not dropped), and sorts/dedups what it keeps.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from feeds.databento.dbn import rtype_name
from feeds.databento.textio import FIXED_PRICE_SCALE, INT64_MAX, DataFileError, TsKind
from feeds.schema import CATALOG_QUOTE_SCHEMA, DROP_REASONS, QUOTE_COLUMNS
from options_scalper.occ import parse_occ_unique_arrow

QUOTE_ARROW_SCHEMA = pa.schema([CATALOG_QUOTE_SCHEMA.field(n) for n in QUOTE_COLUMNS])
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
    raise ImportError(
        "feeds.databento.cbbo_rows: feeds.schema.DROP_REASONS lacks a reason this reader counts"
    )


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
    cut_last_line: bool = False  # a plain CSV without a final newline: the download looks truncated

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
        self.cut_last_line = self.cut_last_line or other.cut_last_line

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
class CbboFormat:
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
class Rows:
    ts: np.ndarray
    ids: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_sz: np.ndarray
    ask_sz: np.ndarray

    def take(self, idx: np.ndarray | slice) -> Rows:
        return Rows(*(a[idx] for a in self.arrays()))

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.ts, self.ids, self.bid, self.ask, self.bid_sz, self.ask_sz)

    @staticmethod
    def concat(a: Rows, b: Rows) -> Rows:
        return Rows(*(np.concatenate([x, y]) for x, y in zip(a.arrays(), b.arrays(), strict=True)))


def _numpy_prices(arr: pa.Array, fixed_point: bool) -> np.ndarray:
    if fixed_point:
        raw = pc.fill_null(arr, INT64_MAX).to_numpy().astype(np.int64, copy=False)
        out = raw.astype(np.float64) / FIXED_PRICE_SCALE
        out[raw == INT64_MAX] = np.nan
        return out
    return pc.fill_null(arr, np.nan).to_numpy().astype(np.float64, copy=False)


class RowClassifier:
    def __init__(
        self,
        path: Path,
        fmt: CbboFormat,
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

    def rows(self, table: pa.RecordBatch) -> Rows:
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
        return Rows(ts[keep], ids[keep], bid[keep], ask[keep], *sizes)

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

    def sort_dedup(self, rows: Rows) -> Rows:
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

    def to_table(self, rows: Rows) -> pa.Table:
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
