"""Small DBN files as frames: ``ohlcv-1m`` bars, ``statistics``, ``definition`` symbol maps.

These files are small next to a CBBO day (a few thousand records), so each is read
whole into the same columns the CSV readers hand to their shared post-processing
(``bars.read_bars``, ``bars.read_statistics``). Prices stay 1e9 fixed point here;
undefined values (INT64_MAX prices, UINT64_MAX timestamps) become NaN / NaT.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from feeds.databento.dbn import UINT64_MAX, DbnFile, is_dbn
from feeds.databento.symbology import SymbolMap
from feeds.databento.textio import FIXED_PRICE_SCALE, INT64_MAX, DataFileError, read_all_text

_EMPTY_RECORDS = 0


def _records(path: Path, schema: str) -> tuple[np.ndarray, DbnFile]:
    with DbnFile(path, schema) as dbn:
        chunks = list(dbn.chunks())
    records = np.concatenate(chunks) if chunks else np.zeros(_EMPTY_RECORDS, dtype=dbn.header.dtype)
    return records, dbn


def _prices(values: np.ndarray) -> np.ndarray:
    raw = values.astype(np.int64)
    out = raw.astype(np.float64) / FIXED_PRICE_SCALE
    out[raw == INT64_MAX] = np.nan
    return out


def _timestamps(values: np.ndarray) -> pd.Series:
    raw = values.astype(np.uint64)
    ns = np.where(raw == np.uint64(UINT64_MAX), np.iinfo(np.int64).min, raw.astype(np.int64))
    return pd.Series(pd.to_datetime(ns, unit="ns", utc=True))


def _symbols(
    dbn: DbnFile, records: np.ndarray, ts_field: str, symbols: SymbolMap | None
) -> np.ndarray | None:
    mapping = SymbolMap.from_metadata(dbn.header.metadata)
    if symbols is not None:
        mapping = mapping.merged(symbols)
    if not len(mapping):
        return None
    ts = records[ts_field].astype(np.int64)
    arr = mapping.dictionary(records["instrument_id"].astype(np.int64), ts)
    return np.asarray(arr.to_pylist(), dtype=object)


def dbn_bars_frame(path: Path, symbols: SymbolMap | None = None) -> pd.DataFrame:
    """Read an ``ohlcv-1m`` DBN file: ts (bar start, UTC), open..close (dollars), volume, symbol, publisher_id."""
    records, dbn = _records(path, "ohlcv-1m")
    frame = pd.DataFrame({"ts": _timestamps(records["ts_event"])})
    for col in ("open", "high", "low", "close"):
        frame[col] = _prices(records[col])
    frame["volume"] = records["volume"].astype(np.float64)
    names = _symbols(dbn, records, "ts_event", symbols)
    if names is not None:
        frame["symbol"] = names
    elif len(np.unique(records["instrument_id"])) > 1:
        raise DataFileError(
            f"{path}: holds bars of {len(np.unique(records['instrument_id']))} instruments and no symbol "
            f"mappings, so the symbol's own bars cannot be told apart; put the job's symbology.json beside it"
        )
    frame["publisher_id"] = records["publisher_id"].astype(np.int64)
    return frame


def dbn_statistics_frame(path: Path, symbols: SymbolMap | None = None) -> pd.DataFrame:
    """Read a ``statistics`` DBN file: symbol (raw), stat_type, quantity, update_action, ts_recv."""
    records, dbn = _records(path, "statistics")
    names = _symbols(dbn, records, "ts_recv", symbols)
    if names is None:
        raise DataFileError(
            f"{path}: statistics records carry instrument_id but no symbol mappings; "
            f"put the job's symbology.json beside the file"
        )
    return pd.DataFrame(
        {
            "symbol": names,
            "stat_type": records["stat_type"].astype(np.int64),
            "quantity": records["quantity"].astype(np.float64),
            "update_action": records["update_action"].astype(np.int64),
            "ts_recv": _timestamps(records["ts_recv"]),
        }
    )


def definition_symbols(path: Path) -> SymbolMap:
    """Read a ``definition`` file (DBN, or DataBento CSV with instrument_id/raw_symbol) as a ``SymbolMap``."""
    if is_dbn(path):
        records, _ = _records(path, "definition")
        raw = [bytes(s).split(b"\0", 1)[0].decode("ascii", "replace") for s in records["raw_symbol"]]
        return SymbolMap.from_definitions(
            records["instrument_id"].astype(np.int64).tolist(),
            records["ts_recv"].astype(np.int64).tolist(),
            raw,
            str(path),
        )
    text = read_all_text(path)
    try:
        table = pacsv.read_csv(
            io.BytesIO(text),
            convert_options=pacsv.ConvertOptions(
                include_columns=["ts_recv", "instrument_id", "raw_symbol"],
                column_types={"ts_recv": "string", "instrument_id": "int64", "raw_symbol": "string"},
            ),
        )
    except (pa.ArrowInvalid, KeyError) as exc:
        raise DataFileError(
            f"{path}: not a DataBento definition file (needs ts_recv, instrument_id, raw_symbol); re-download it"
        ) from exc
    ts_text = table.column("ts_recv").to_pylist()
    ts = [int(t) if t and t.isdigit() else pd.Timestamp(t).value for t in ts_text]
    return SymbolMap.from_definitions(
        table.column("instrument_id").to_pylist(), ts, table.column("raw_symbol").to_pylist(), str(path)
    )
