"""Read underlying 1-minute bars (DataBento ``ohlcv-1m`` or a plain vendor CSV) and
DataBento ``statistics`` (open interest, cleared volume). Both are small files; they
are read whole. Import them from ``feeds.databento.cbbo``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from feeds.databento.textio import (
    FIXED_PRICE_SCALE,
    INT32_MAX,
    INT64_MAX,
    UINT32_MAX,
    DataFileError,
    detect_fixed_point,
    detect_ts_kind,
    read_all_text,
    split_header,
)
from feeds.schema import BAR_COLUMNS
from options_scalper.occ import parse_occ_array

EASTERN = "America/New_York"
DATABENTO_BARS_HEADER = ("ts_event", "rtype", "publisher_id", "instrument_id", "open", "high", "low", "close",
                         "volume", "symbol")  # fmt: skip
PLAIN_BARS_HEADER = ("datetime", "open", "high", "low", "close", "volume")
_PLAIN_TIME_NAMES = ("datetime", "timestamp", "date_time", "time", "date")
_OHLCV_RTYPE_1M = 33
STATISTICS_HEADER = ("ts_recv", "ts_event", "rtype", "publisher_id", "instrument_id", "ts_ref", "price",
                     "quantity", "sequence", "ts_in_delta", "stat_type", "channel_id", "update_action",
                     "stat_flags", "symbol")  # fmt: skip
STAT_OPEN_INTEREST = 9
STAT_CLEARED_VOLUME = 6
_UNDEFINED_QUANTITIES = (INT32_MAX, UINT32_MAX, INT64_MAX)


def _read_strings(path: Path, text: bytes, header: list[str]) -> pd.DataFrame:
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.lstrip(b"\xef\xbb\xbf")),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid as exc:
        raise DataFileError(f"{path}: {str(exc).splitlines()[0]}; fix or re-download the file") from exc
    frame = table.to_pandas()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _numbers(path: Path, frame: pd.DataFrame, col: str, fixed_point: bool) -> np.ndarray:
    text = frame[col].astype(object)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & text.notna().to_numpy() & (text.astype(str).str.strip() != "").to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise DataFileError(
            f"{path}: line {i + 2}: column {col!r} value {text.iloc[i]!r} is not a number; fix the file"
        )
    if fixed_point:
        values = np.where(values >= float(INT64_MAX) * 0.999, np.nan, values / FIXED_PRICE_SCALE)
    return values


def _times(path: Path, frame: pd.DataFrame, col: str, naive_zone: str) -> pd.Series:
    raw = frame[col].astype(object)
    kind = detect_ts_kind(path, col, [v for v in raw.head(200) if isinstance(v, str)])
    try:
        if kind == "int_ns":
            ints = pd.to_numeric(raw, errors="raise").astype(np.int64)
            big = int(ints.abs().max()) if len(ints) else 0
            scale = 1 if big > 10**17 else 1_000 if big > 10**14 else 1_000_000 if big > 10**11 else 10**9
            ts = pd.Series(pd.to_datetime(ints.to_numpy() * scale, unit="ns", utc=True), index=raw.index)
        elif kind == "iso_tz":
            ts = pd.to_datetime(raw, utc=True, format="ISO8601")
        else:
            try:
                naive = pd.to_datetime(raw, format="ISO8601")
            except (ValueError, TypeError):
                naive = pd.to_datetime(raw, format="mixed")
            ts = naive.dt.tz_localize(naive_zone, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert(
                "UTC"
            )
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataFileError(
            f"{path}: column {col!r} has a timestamp pandas cannot read ({str(exc).splitlines()[0]}); "
            f"use ISO-8601 like 2024-01-03T09:30:00"
        ) from exc
    return ts.astype("datetime64[ns, UTC]")


def read_bars(path: str | Path, *, symbol: str | None = None) -> pd.DataFrame:
    """Read 1-minute bars: columns ``BAR_COLUMNS``, ts = bar START in UTC, sorted, one row per ts.

    Accepts DataBento ``ohlcv-1m`` CSV (``ts_event,...,open,high,low,close,volume,symbol``;
    ISO or integer-ns ``ts_event``; decimal or 1e9 fixed-point prices) and a plain
    ``datetime,open,high,low,close,volume`` CSV from any vendor, whose ``datetime`` is
    taken as the bar START (as DataBento's ``ts_event``): naive times are US/Eastern
    (``America/New_York``), zoned times are kept. ``.csv`` or ``.csv.zst``. A file with
    several symbols needs ``symbol``; a plain file without a symbol column ignores it.
    Minutes without trades stay gaps; a later duplicate ts replaces an earlier one.
    """
    path = Path(path)
    text = read_all_text(path)
    if not text.strip():
        raise DataFileError(f"{path}: empty file (no header line); re-download it")
    header, sample = split_header(path, text, whole=True)
    cols = {h.strip().lower() for h in header}
    ohlc = {"open", "high", "low", "close"}
    if {"ts_event", *ohlc} <= cols:
        time_col, zone = "ts_event", "UTC"
    else:
        time_col = next((n for n in _PLAIN_TIME_NAMES if n in cols), "")
        zone = EASTERN
        if not time_col or not ohlc <= cols:
            raise DataFileError(
                f"{path}: line 1: unknown bars header {','.join(header)[:120]!r}; expected DataBento's "
                f"{','.join(DATABENTO_BARS_HEADER)} or {','.join(PLAIN_BARS_HEADER)}"
            )
    frame = _read_strings(path, text, header)
    if len(frame) == 0:
        return _empty_bars()
    frame = _select_symbol(path, frame, symbol)
    if "rtype" in frame.columns:
        rtypes = set(pd.to_numeric(frame["rtype"], errors="coerce").dropna().astype(int))
        if rtypes - {_OHLCV_RTYPE_1M}:
            raise DataFileError(
                f"{path}: rtype {sorted(rtypes)} is not ohlcv-1m (33); download the ohlcv-1m schema"
            )
    lower = [h.strip().lower() for h in header]
    fixed = detect_fixed_point(
        [row[lower.index(c)] for row in sample if len(row) == len(lower) for c in ohlc]
    )
    out = pd.DataFrame({"ts": _times(path, frame, time_col, zone)})
    for col in ("open", "high", "low", "close"):
        out[col] = _numbers(path, frame, col, fixed)
    out["volume"] = _numbers(path, frame, "volume", False) if "volume" in frame.columns else np.nan
    out = out[out["ts"].notna()]
    out = out.sort_values("ts", kind="stable").drop_duplicates("ts", keep="last")
    return out.reset_index(drop=True)[list(BAR_COLUMNS)]


def _empty_bars() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=np.float64) for c in BAR_COLUMNS})
    out["ts"] = pd.Series(dtype="datetime64[ns, UTC]")
    return out


def _select_symbol(path: Path, frame: pd.DataFrame, symbol: str | None) -> pd.DataFrame:
    if "symbol" not in frame.columns:
        return frame
    names = frame["symbol"].astype(str).str.strip()
    found = sorted(set(names))
    if symbol is None:
        if len(found) > 1:
            raise DataFileError(
                f"{path}: holds bars of {len(found)} symbols ({', '.join(found[:5])}); pass symbol= to pick one"
            )
        return frame
    mask = names.str.upper() == symbol.strip().upper()
    if not mask.any():
        raise DataFileError(
            f"{path}: no bars for symbol {symbol!r}; the file has {', '.join(found[:5])}; pass one of those"
        )
    return frame[mask.to_numpy()]


def read_statistics(path: str | Path) -> pd.DataFrame:
    """Read DataBento ``statistics`` CSV -> ``symbol`` (compact OCC), ``open_interest``, ``volume``.

    Open interest is ``stat_type`` 9, cleared volume ``stat_type`` 6, both from
    ``quantity``; the last value per symbol in file order wins (files are in ``ts_recv``
    order); delete actions (``update_action`` 2) and undefined quantities are ignored.
    A symbol without one of the two has NaN there. Rows with non-OCC symbols are skipped.
    """
    path = Path(path)
    text = read_all_text(path)
    if not text.strip():
        raise DataFileError(f"{path}: empty file (no header line); re-download it")
    header, _ = split_header(path, text, whole=True)
    needed = {"symbol", "stat_type", "quantity"}
    if not needed <= {h.strip().lower() for h in header}:
        raise DataFileError(
            f"{path}: line 1: unknown statistics header {','.join(header)[:120]!r}; expected DataBento's "
            f"{','.join(STATISTICS_HEADER)}"
        )
    frame = _read_strings(path, text, header)
    empty = pd.DataFrame(
        {"symbol": pd.Series(dtype=str), "open_interest": pd.Series(dtype=np.float64),
         "volume": pd.Series(dtype=np.float64)}
    )  # fmt: skip
    if len(frame) == 0:
        return empty
    stat = pd.to_numeric(frame["stat_type"], errors="coerce")
    qty = pd.Series(_numbers(path, frame, "quantity", False), index=frame.index)
    qty[qty.isin([float(q) for q in _UNDEFINED_QUANTITIES]) | (qty >= float(INT64_MAX) * 0.999)] = np.nan
    keep = stat.isin([STAT_OPEN_INTEREST, STAT_CLEARED_VOLUME]) & qty.notna()
    if "update_action" in frame.columns:
        keep &= ~frame["update_action"].astype(str).str.strip().str.upper().isin(["2", "D", "DELETE"])
    parsed = parse_occ_array(frame["symbol"].astype(str))
    keep &= parsed["valid"].to_numpy()
    sub = pd.DataFrame({"symbol": parsed["symbol"][keep], "stat": stat[keep].astype(int), "qty": qty[keep]})
    if sub.empty:
        return empty
    last = sub.drop_duplicates(["symbol", "stat"], keep="last").pivot(
        index="symbol", columns="stat", values="qty"
    )
    out = pd.DataFrame(
        {
            "symbol": last.index.astype(str),
            "open_interest": last.get(STAT_OPEN_INTEREST, pd.Series(np.nan, index=last.index)).to_numpy(
                np.float64
            ),
            "volume": last.get(STAT_CLEARED_VOLUME, pd.Series(np.nan, index=last.index)).to_numpy(np.float64),
        }
    )
    return out.sort_values("symbol", kind="stable").reset_index(drop=True)
