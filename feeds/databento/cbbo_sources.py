"""Where CBBO record batches come from: CSV layouts and their sniffing, DBN records, symbol maps.

``open_source`` opens a file (CSV or DBN, recognised by name or magic) and returns its
``RowClassifier``, a stream of record batches whose columns the classifier knows (DBN records
are laid out as the DataBento CSV layout parses: int-ns ``ts_recv``, 1e9 fixed-point prices,
a dictionary ``symbol`` from the file's mappings) and how to close it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from feeds.databento.cbbo_rows import CbboFormat, ReadStats, RowClassifier
from feeds.databento.dbn import UINT64_MAX, DbnFile, is_dbn
from feeds.databento.symbology import SymbolMap
from feeds.databento.textio import (
    ZSTD_MAGIC,
    DataFileError,
    TextStream,
    arrow_input,
    arrow_read_error,
    column_values,
    detect_fixed_point,
    detect_ts_kind,
    split_header,
)

_SNIFF_BYTES = 1 << 18  # text looked at to detect the layout and formats


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


def _detect_format(path: Path, header: list[str], rows: list[list[str]]) -> CbboFormat:
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
    return CbboFormat(header, columns, ts_kind, fixed, by_instrument_id=by_id, rtype="rtype" in present)


def _open_reader(path: Path, fmt: CbboFormat, reader: RowClassifier, block_size: int,
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


def open_source(
    path: Path,
    stats: ReadStats,
    block_size: int,
    symbols: SymbolMap | None,
    wanted: frozenset[str] | None,
    window: tuple[int, int] | None,
) -> tuple[RowClassifier, Iterator[pa.RecordBatch], Callable[[], None]]:
    """Open a CBBO file (CSV or DBN): its classifier, its record batches and how to close it."""
    if is_dbn(path):
        dbn = DbnFile(path, "cbbo-1m")
        reader = RowClassifier(path, _DBN_FORMAT, stats, wanted, window)
        stats.files += 1
        return reader, _dbn_batches(dbn, _dbn_symbols(dbn, symbols)), dbn.close
    with TextStream(path) as stream:
        head = stream.peek(_SNIFF_BYTES)
    if not head.strip():
        raise DataFileError(f"{path}: empty file (no header line); re-download it")
    header, sample = split_header(path, head, whole=len(head) < _SNIFF_BYTES)
    fmt = _detect_format(path, header, sample)
    if fmt.by_instrument_id and not symbols:
        raise DataFileError(f"{path}: {NO_SYMBOLS_HELP}")
    reader = RowClassifier(path, fmt, stats, wanted, window)
    csv, source = _open_reader(path, fmt, reader, block_size, head)
    stats.files += 1
    stats.cut_last_line = _cut_last_line(path)

    def closer() -> None:
        csv.close()
        source.close()

    return reader, _csv_batches(path, csv, reader, symbols if fmt.by_instrument_id else None), closer


def _cut_last_line(path: Path) -> bool:
    """True when a plain (uncompressed) CSV does not end with a newline: its last line was cut."""
    with open(path, "rb") as fh:
        if fh.read(4) == ZSTD_MAGIC:
            return False  # zstd frames say themselves whether they are whole
        fh.seek(-1, 2)
        return fh.read(1) != b"\n"


NO_SYMBOLS_HELP = (
    "rows carry instrument_id but no symbol (downloaded with map_symbols=False) and no symbology.json "
    "or definition file was found beside it; put the job's symbology.json next to the file, or "
    "re-download with map_symbols=True"
)
_DBN_FORMAT = CbboFormat(list(DATABENTO_CBBO_HEADER), _LAYOUTS["databento"], "int_ns", True)


def _csv_batches(
    path: Path, csv: pacsv.CSVStreamingReader, reader: RowClassifier, symbols: SymbolMap | None
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
