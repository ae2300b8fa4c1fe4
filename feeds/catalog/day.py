"""Turn one source day into its catalog tables: stream, filter, forward-fill, summarize.

The source CBBO file is streamed in Arrow batches (``iter_cbbo_arrow``) and each
batch is filtered in Arrow compute before anything else happens, so only rows a
scalper can touch are ever held: regular session ``ts`` in (open, close],
expiry within ``max_dte`` calendar days of the session date, strike within
``strike_band_pct`` of the underlying's regular-session range.

The band needs the day's range before the stream: it comes from the day's
``ohlcv-1m`` bars when present. Without bars, the stream keeps every strike of
the kept expiries (DTE alone already cuts a real day to a fraction), the
underlying is derived from those quotes by put-call parity, and the band is
applied afterwards. Peak memory stays bounded by the kept expiries either way.

While streaming, the last minutes before 15:45 ET (close - 15 min on half
days) of every expiry are also kept, so that the 30-day ATM implied volatility
can be computed from the unfiltered chain.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from feeds.catalog.atm_iv import IV_WINDOW_MINUTES, atm_iv_near_30d
from feeds.catalog.ffill import NS_PER_MINUTE, forward_fill
from feeds.catalog.sessions import Session
from feeds.catalog.settings import IngestSettings, SourceFileError
from feeds.databento.cbbo import (
    DataFileError,
    DataQualityWarning,
    ReadStats,
    iter_cbbo_arrow,
    read_statistics,
)
from feeds.databento.symbology import SymbolMap
from feeds.schema import BAR_COLUMNS, CATALOG_BAR_SCHEMA, CATALOG_QUOTE_SCHEMA, DROP_REASONS, QUOTE_COLUMNS
from options_scalper.model import ScalperError

OI_SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("open_interest", pa.float64()),
        ("volume", pa.float64()),
        ("published", pa.timestamp("ns", tz="UTC")),  # DataBento ts_recv: usable from then on (null: unknown)
    ]
)
_EMPTY_QUOTES = pa.schema([CATALOG_QUOTE_SCHEMA.field(n) for n in QUOTE_COLUMNS]).empty_table()
_IV_COLUMNS = ["ts", "expiry", "option_type", "strike", "bid_px", "ask_px"]


@dataclass
class DayTables:
    """What one ingested day writes: quote, bar and OI tables plus its summary row."""

    quotes: pa.Table
    bars: pa.Table
    oi: pa.Table | None
    summary: dict[str, Any]
    stats: ReadStats


def bars_in_session(bars: pd.DataFrame | None, session: Session) -> pd.DataFrame | None:
    """Return the bars that start in [open, close), sorted by ts; None when there are none."""
    if bars is None or bars.empty:
        return None
    ts = pd.to_datetime(bars["ts"], utc=True)
    mask = (ts >= session.open) & (ts < session.close)
    if not mask.any():
        return None
    out = bars.loc[mask, list(BAR_COLUMNS)].copy()
    out["ts"] = ts[mask].astype("datetime64[ns, UTC]")
    for col in BAR_COLUMNS[1:]:
        out[col] = out[col].astype(np.float64)
    out = out.sort_values("ts", kind="stable").drop_duplicates("ts", keep="last")
    return out.reset_index(drop=True)


def _bars_table(bars: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(bars[list(BAR_COLUMNS)], schema=CATALOG_BAR_SCHEMA, preserve_index=False)


def _price_at(bars: pd.DataFrame, at: pd.Timestamp) -> float:
    """Close of the last bar that ends at or before ``at`` (NaN when none)."""
    ends = bars["ts"] + pd.Timedelta(minutes=1)
    done = bars.loc[ends <= at, "close"]
    return float(done.iloc[-1]) if len(done) else float("nan")


def build_day(
    cbbo_path: Path,
    day: date,
    session: Session,
    settings: IngestSettings,
    *,
    bars: pd.DataFrame | None,
    statistics_path: Path | None,
    underlying: str | None = None,
    symbols: SymbolMap | None = None,
    range_file: bool = False,
    streamed: tuple[Iterator[pa.Table], ReadStats] | None = None,
) -> DayTables:
    """Build the catalog tables of one day from its CBBO file (and bars / statistics when given).

    ``bars`` are the day's underlying bars (any session; ts = bar start UTC) or None
    for a put-call-parity underlying. ``underlying`` keeps that underlying's contracts
    only (a merged file; a file of another underlying is refused); ``symbols`` maps
    instrument ids of files without symbols. Only the rows of ``day`` (UTC) are read: a
    range file (``range_file``) gives this day's share, a day file whose rows are all on
    another day is refused. ``streamed`` are the day's tables and stats when they come
    streamed out of a range file (``iter_cbbo_days``) instead of from ``cbbo_path``.
    Raises whatever the reader raises on a bad file.
    """
    started = time.perf_counter()
    open_ns, close_ns = session.open.value, session.close.value
    session_bars = bars_in_session(bars, session)
    band_pct = settings.strike_band_pct
    band: tuple[float, float] | None = None
    if session_bars is not None:
        band = (
            float(session_bars["low"].min()) * (1 - band_pct),
            float(session_bars["high"].max()) * (1 + band_pct),
        )

    iv_target = session.close - pd.Timedelta(minutes=15)
    iv_lo_ns = iv_target.value - IV_WINDOW_MINUTES * NS_PER_MINUTE
    first_expiry = pa.scalar(day, pa.date32())
    last_expiry = pa.scalar(day + timedelta(days=settings.max_dte), pa.date32())

    stats = streamed[1] if streamed is not None else ReadStats()
    kept: list[pa.Table] = []
    iv_rows: list[pa.Table] = []
    wanted = [underlying] if underlying else None
    with warnings.catch_warnings():  # bad symbols are counted and reach the data notes, not stderr
        warnings.simplefilter("ignore", DataQualityWarning)
        source = (
            streamed[0]
            if streamed is not None
            else iter_cbbo_arrow(cbbo_path, stats=stats, symbols=symbols, underlyings=wanted, day=day)
        )
        for batch in source:
            if batch.num_rows == 0:
                continue
            ts = batch["ts"]
            ts_type = ts.type
            in_session = pc.and_(
                pc.greater(ts, pa.scalar(open_ns, pa.int64()).cast(ts_type)),
                pc.less_equal(ts, pa.scalar(close_ns, pa.int64()).cast(ts_type)),
            )
            expiry = batch["expiry"]
            mask = pc.and_(
                in_session,
                pc.and_(pc.greater_equal(expiry, first_expiry), pc.less_equal(expiry, last_expiry)),
            )
            if band is not None:
                strike = batch["strike"]
                mask = pc.and_(
                    mask, pc.and_(pc.greater_equal(strike, band[0]), pc.less_equal(strike, band[1]))
                )
            part = batch.filter(mask)
            if part.num_rows:
                kept.append(part.select(list(QUOTE_COLUMNS)))
            near_iv = pc.and_(
                pc.greater(ts, pa.scalar(iv_lo_ns, pa.int64()).cast(ts_type)),
                pc.less_equal(ts, pa.scalar(iv_target.value, pa.int64()).cast(ts_type)),
            )
            iv_part = batch.select(_IV_COLUMNS).filter(near_iv)
            if iv_part.num_rows:
                iv_rows.append(iv_part)

    if stats.rows_in == 0 and stats.other_days and not stats.other_underlyings:
        raise DataFileError(
            f"{cbbo_path}: the range file holds no rows of {day}; re-download that day"
            if range_file
            else f"{cbbo_path}: holds no rows of {day} ({stats.other_days:,} rows of other days): the name's "
            f"date differs from its rows; rename or re-download it"
        )
    if underlying and stats.rows_in == 0 and stats.other_underlyings:
        found = ", ".join(f"{u} {n:,} rows" for u, n in stats.other_underlyings.most_common(3))
        raise DataFileError(
            f"{cbbo_path}: holds no {underlying} contracts (it has {found}); move it to that symbol's "
            f"folder or ingest that symbol"
        )
    quotes = pa.concat_tables(kept).combine_chunks() if kept else _EMPTY_QUOTES
    rows_streamed = quotes.num_rows

    underlying_source = "bars"
    if session_bars is None:
        underlying_source = "parity"
        session_bars = _parity_bars(quotes, session, settings.rate)
        if session_bars is not None:
            lo = float(session_bars["low"].min()) * (1 - band_pct)
            hi = float(session_bars["high"].max()) * (1 + band_pct)
            band = (lo, hi)
            strike = quotes["strike"]
            quotes = quotes.filter(pc.and_(pc.greater_equal(strike, lo), pc.less_equal(strike, hi)))
    rows_kept = quotes.num_rows

    filled = forward_fill(quotes, open_ns, close_ns)
    del quotes, kept

    close_px = float(session_bars["close"].iloc[-1]) if session_bars is not None else float("nan")
    spot_at_iv = _price_at(session_bars, iv_target) if session_bars is not None else float("nan")
    iv_table = pa.concat_tables(iv_rows) if iv_rows else None
    iv = atm_iv_near_30d(iv_table, day, spot_at_iv, iv_target, settings.rate)

    statistics_error = None
    try:
        oi_table, oi_known, volume_known = _open_interest(statistics_path, filled, symbols)
    except SourceFileError as exc:  # optional data: skip the statistics, not the day
        oi_table, oi_known, volume_known = None, False, False
        statistics_error = " ".join(str(exc).split())

    summary: dict[str, Any] = {
        "underlying_source": underlying_source,
        "underlying_low": float(session_bars["low"].min()) if session_bars is not None else None,
        "underlying_high": float(session_bars["high"].max()) if session_bars is not None else None,
        "underlying_close": close_px,
        "band_low": band[0] if band else None,
        "band_high": band[1] if band else None,
        "half_day": session.half_day,
        "session_open": session.open.isoformat(),
        "session_close": session.close.isoformat(),
        "oi_known": oi_known,
        "statistics_error": statistics_error,
        "volume_known": volume_known,
        "underlying_volume_known": bool(
            session_bars is not None and underlying_source == "bars" and session_bars["volume"].notna().any()
        ),
        "rows_in": stats.rows_in,
        "rows_other_underlyings": sum(stats.other_underlyings.values()),
        "bad_symbol_example": stats.bad_symbol_examples[0] if stats.bad_symbol_examples else None,
        "last_line_cut": stats.cut_last_line,
        "rows_clean": stats.rows_out,
        "rows_streamed": rows_streamed,
        "rows_kept": rows_kept,
        "rows_out": filled.num_rows,
        "contracts": int(pc.count_distinct(filled["symbol"]).as_py()) if filled.num_rows else 0,
        "expiries": sorted({d.isoformat() for d in pc.unique(filled["expiry"]).to_pylist()}),
        **{f"dropped_{r}": int(stats.dropped.get(r, 0)) for r in DROP_REASONS},
        **iv,
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    bars_out = _bars_table(session_bars) if session_bars is not None else CATALOG_BAR_SCHEMA.empty_table()
    return DayTables(quotes=filled, bars=bars_out, oi=oi_table, summary=summary, stats=stats)


def _parity_bars(quotes: pa.Table, session: Session, rate: float) -> pd.DataFrame | None:
    from feeds.catalog.parity import derive_underlying  # only parity days need it

    if quotes.num_rows == 0:
        return None
    derived = derive_underlying(quotes.to_pandas(), rate=rate)
    return bars_in_session(derived, session)


def _open_interest(
    path: Path | None, quotes: pa.Table, symbols: SymbolMap | None
) -> tuple[pa.Table | None, bool, bool]:
    """Return (per-contract OI/volume of the kept contracts, oi_known, volume_known)."""
    if path is None:
        return None, False, False
    try:
        stats = read_statistics(path, symbols=symbols)
    except (ScalperError, pa.ArrowException, ValueError, OSError, EOFError) as exc:
        raise SourceFileError(path, exc) from exc
    oi_known = bool(len(stats) and stats["open_interest"].notna().any())
    volume_known = bool(len(stats) and stats["volume"].notna().any())
    frame = pd.DataFrame(
        {
            "symbol": stats["symbol"].astype(str),
            "open_interest": pd.to_numeric(stats["open_interest"], errors="coerce").astype(np.float64),
            "volume": pd.to_numeric(stats["volume"], errors="coerce").astype(np.float64),
            "published": pd.to_datetime(stats["published"], utc=True) if "published" in stats else pd.NaT,
        }
    )
    if quotes.num_rows:
        wanted = set(pc.unique(quotes["symbol"]).to_pylist())
        frame = frame[frame["symbol"].isin(wanted)]
    if "published" in stats:  # a figure published after the session's last quote never reaches it
        if quotes.num_rows:
            last_quote = pd.Timestamp(pc.max(quotes["ts"]).as_py())
            last_quote = last_quote.tz_localize("UTC") if last_quote.tzinfo is None else last_quote
            frame = frame[frame["published"] <= last_quote]
        oi_known = bool(frame["open_interest"].notna().any())
        volume_known = bool(frame["volume"].notna().any())
        frame = frame.sort_values(["symbol", "published"], kind="stable")
    else:
        frame = frame.drop_duplicates("symbol", keep="last").sort_values("symbol", kind="stable")
    table = pa.Table.from_pandas(frame, schema=OI_SCHEMA, preserve_index=False)
    return table, oi_known, volume_known
