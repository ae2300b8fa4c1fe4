"""Read underlying 1-minute bars (DataBento ``ohlcv-1m`` or a plain vendor CSV) and
DataBento ``statistics`` (open interest, cleared volume). Both are small files; they
are read whole. Import them from ``feeds.databento.cbbo``.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from feeds.databento.dbn import is_dbn
from feeds.databento.dbn_tables import dbn_bars_frame, dbn_statistics_frame
from feeds.databento.symbology import SymbolMap
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
_PLAIN_TIME_NAMES = ("datetime", "timestamp", "date_time", "time", "date", "timestamp_utc", "datetime_utc",
                     "time_utc", "ts")  # fmt: skip
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


@dataclass
class BarStats:
    """What a bars read saw: rows in/out, bad bars dropped per ``BAR_DROP_REASONS`` kind (with their
    start times, so a multi-day file's drops can be counted per day), minutes merged from venues."""

    rows_in: int = 0
    rows_out: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    dropped_at: list[tuple[str, pd.Timestamp]] = field(default_factory=list)  # (kind, bar start)
    consolidated_minutes: int = 0


def read_bars(
    path: str | Path,
    *,
    symbol: str | None = None,
    stats: BarStats | None = None,
    naive_tz: str = EASTERN,
    symbols: SymbolMap | None = None,
) -> pd.DataFrame:
    """Read 1-minute bars: columns ``BAR_COLUMNS``, ts = bar START in UTC, sorted, one row per ts.

    Accepts DataBento ``ohlcv-1m`` (DBN, or CSV ``ts_event,...,open,high,low,close,volume,symbol``
    with ISO or integer-ns ``ts_event`` and decimal or 1e9 fixed-point prices) and a plain
    ``datetime,open,high,low,close,volume`` CSV from any vendor (``timestamp``, ``timestamp_utc``,
    ... also name the time), whose time is the bar START. The one rule for times without a
    zone: DataBento files are UTC (they always are); a vendor file's naive times are in
    ``naive_tz`` (default ``America/New_York``; a ``*_utc`` column is UTC). A file with several
    symbols needs ``symbol``; one with several instruments but no symbol column is refused.
    Several venues' bars of one minute (OPRA ``publisher_id``) are consolidated: volume summed,
    high max, low min, open/close of the venue with the most volume. Bad bars (NaN, zero or
    negative prices, high < low) are dropped and counted in ``stats``.
    """
    path = Path(path)
    st = stats if stats is not None else BarStats()
    frame = dbn_bars_frame(path, symbols) if is_dbn(path) else _csv_bars(path, naive_tz, symbols)
    if len(frame) == 0:
        return _empty_bars()
    frame = _select_symbol(path, frame, symbol)
    frame = frame[frame["ts"].notna()]
    frame = _consolidate(frame, st)
    return _drop_bad(frame, st)


def _csv_bars(path: Path, naive_tz: str, symbols: SymbolMap | None) -> pd.DataFrame:
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
        zone = "UTC" if time_col.endswith("_utc") else naive_tz
        if not time_col or not ohlc <= cols:
            raise DataFileError(
                f"{path}: line 1: unknown bars header {','.join(header)[:120]!r}; expected DataBento's "
                f"{','.join(DATABENTO_BARS_HEADER)} or {','.join(PLAIN_BARS_HEADER)}"
            )
    frame = _read_strings(path, text, header)
    if len(frame) == 0:
        return frame
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
    if "symbol" in frame.columns:
        out["symbol"] = frame["symbol"].astype(str).str.strip().to_numpy()
    elif "instrument_id" in frame.columns:
        ids = pd.to_numeric(frame["instrument_id"], errors="coerce").fillna(-1).astype(np.int64).to_numpy()
        if symbols is not None:
            ns = out["ts"].astype("int64").to_numpy()
            out["symbol"] = np.asarray(symbols.dictionary(ids, ns).to_pylist(), dtype=object)
        elif len(set(ids.tolist())) > 1:
            raise DataFileError(
                f"{path}: holds bars of {len(set(ids.tolist()))} instruments (instrument_id) and no symbol "
                f"column, so the symbol's own bars cannot be told apart; re-download with map_symbols=True "
                f"or put the job's symbology.json beside it"
            )
    if "publisher_id" in frame.columns:
        out["publisher_id"] = pd.to_numeric(frame["publisher_id"], errors="coerce").fillna(0).astype(np.int64)
    return out


def _consolidate(frame: pd.DataFrame, st: BarStats) -> pd.DataFrame:
    """One bar per minute: venues' bars merged; a repeated bar of the same venue replaces the earlier."""
    frame = frame.sort_values("ts", kind="stable")
    if "publisher_id" in frame.columns:
        frame = frame.drop_duplicates(["ts", "publisher_id"], keep="last")
        multi = frame["ts"].duplicated(keep=False)
        if multi.any():
            st.consolidated_minutes += int(frame.loc[multi, "ts"].nunique())
            by_volume = frame.assign(_v=frame["volume"].fillna(-1.0))
            by_volume = by_volume.sort_values(["ts", "_v"], ascending=[True, False], kind="stable")
            lead = by_volume.drop_duplicates("ts", keep="first").set_index("ts")
            group = frame.groupby("ts", sort=True)
            merged = pd.DataFrame(
                {
                    "open": lead["open"],
                    "high": group["high"].max(),
                    "low": group["low"].min(),
                    "close": lead["close"],
                    "volume": group["volume"].sum(min_count=1),
                }
            )
            merged.index.name = "ts"
            return merged.reset_index()
    return frame.drop_duplicates("ts", keep="last")


def _drop_bad(frame: pd.DataFrame, st: BarStats) -> pd.DataFrame:
    st.rows_in += len(frame)
    o, h, lo, c = (frame[k].to_numpy(np.float64) for k in ("open", "high", "low", "close"))
    prices = np.stack([o, h, lo, c])
    nan = np.isnan(prices).any(axis=0)
    with np.errstate(invalid="ignore"):
        non_positive = ~nan & (prices <= 0).any(axis=0)
        inverted = ~nan & ~non_positive & (h < lo)
    for name, mask in (("nan_price", nan), ("non_positive", non_positive), ("high_below_low", inverted)):
        if mask.any():
            st.dropped[name] += int(mask.sum())
            st.dropped_at.extend((name, ts) for ts in frame.loc[mask, "ts"].tolist())
    good = ~(nan | non_positive | inverted)
    out = frame.loc[good].reset_index(drop=True)[list(BAR_COLUMNS)]
    st.rows_out += len(out)
    return out


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


def read_statistics(path: str | Path, *, symbols: SymbolMap | None = None) -> pd.DataFrame:
    """Read DataBento ``statistics`` (DBN or CSV) -> ``symbol`` (compact OCC), ``open_interest``, ``volume``.

    Open interest is ``stat_type`` 9, cleared volume ``stat_type`` 6, both from
    ``quantity``; delete actions (``update_action`` 2) and undefined quantities are
    ignored. With ``ts_recv`` (every DataBento file has it) there is one row per
    symbol and publication, ``published`` = its ``ts_recv``: a value may only be
    used from then on (open interest published before the open is the previous
    session's; end-of-day volume is unknown until its evening publication). The last
    value of a publication wins; a symbol without one of the two has NaN there.
    Without ``ts_recv`` the last value per symbol in file order wins and there is no
    ``published``. Rows with non-OCC symbols are skipped. ``symbols`` maps
    ``instrument_id`` for files without symbols.
    """
    path = Path(path)
    empty = pd.DataFrame(
        {"symbol": pd.Series(dtype=str), "open_interest": pd.Series(dtype=np.float64),
         "volume": pd.Series(dtype=np.float64)}
    )  # fmt: skip
    frame = dbn_statistics_frame(path, symbols) if is_dbn(path) else _csv_statistics(path, symbols)
    if len(frame) == 0:
        return empty
    stat = pd.to_numeric(frame["stat_type"], errors="coerce")
    qty = pd.Series(_numbers(path, frame, "quantity", False), index=frame.index, dtype=np.float64)
    qty[qty.isin([float(q) for q in _UNDEFINED_QUANTITIES]) | (qty >= float(INT64_MAX) * 0.999)] = np.nan
    keep = stat.isin([STAT_OPEN_INTEREST, STAT_CLEARED_VOLUME]) & qty.notna()
    if "update_action" in frame.columns:
        keep &= ~frame["update_action"].astype(str).str.strip().str.upper().isin(["2", "D", "DELETE"])
    parsed = parse_occ_array(frame["symbol"].astype(str))
    keep &= parsed["valid"].to_numpy()
    sub = pd.DataFrame({"symbol": parsed["symbol"][keep], "stat": stat[keep].astype(int), "qty": qty[keep]})
    if sub.empty:
        return empty
    if "ts_recv" in frame.columns:
        return _published_statistics(path, frame[keep.to_numpy()], sub)
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


def _published_statistics(path: Path, frame: pd.DataFrame, sub: pd.DataFrame) -> pd.DataFrame:
    """One row per (symbol, publication): the values a decision may use from ``published`` on."""
    ts = frame["ts_recv"]
    published = ts if pd.api.types.is_datetime64_any_dtype(ts) else _times(path, frame, "ts_recv", "UTC")
    sub = sub.assign(published=pd.to_datetime(published.to_numpy(), utc=True))
    last = sub.drop_duplicates(["symbol", "published", "stat"], keep="last").pivot_table(
        index=["symbol", "published"], columns="stat", values="qty", aggfunc="last"
    )
    index = last.index
    out = pd.DataFrame(
        {
            "symbol": index.get_level_values(0).astype(str),
            "open_interest": last.get(STAT_OPEN_INTEREST, pd.Series(np.nan, index=index)).to_numpy(
                np.float64
            ),
            "volume": last.get(STAT_CLEARED_VOLUME, pd.Series(np.nan, index=index)).to_numpy(np.float64),
            "published": pd.to_datetime(index.get_level_values(1), utc=True),
        }
    )
    return out.sort_values(["symbol", "published"], kind="stable").reset_index(drop=True)


def _csv_statistics(path: Path, symbols: SymbolMap | None) -> pd.DataFrame:
    text = read_all_text(path)
    if not text.strip():
        raise DataFileError(f"{path}: empty file (no header line); re-download it")
    header, _ = split_header(path, text, whole=True)
    present = {h.strip().lower() for h in header}
    has_ids = symbols is not None and "instrument_id" in present
    if not {"stat_type", "quantity"} <= present or not ("symbol" in present or has_ids):
        raise DataFileError(
            f"{path}: line 1: unknown statistics header {','.join(header)[:120]!r}; expected DataBento's "
            f"{','.join(STATISTICS_HEADER)}"
        )
    frame = _read_strings(path, text, header)
    if "symbol" not in frame.columns and symbols is not None and len(frame):
        ids = pd.to_numeric(frame["instrument_id"], errors="coerce").fillna(-1).astype(np.int64).to_numpy()
        ts = pd.to_numeric(frame.get("ts_recv", pd.Series(0, index=frame.index)), errors="coerce")
        ns = ts.fillna(0).astype(np.int64).to_numpy()
        frame["symbol"] = np.asarray(symbols.dictionary(ids, ns).to_pylist(), dtype=object)
    return frame
