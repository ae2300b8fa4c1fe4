"""Write small DBN files with databento_dbn's own encoder (Metadata + record classes) and
render them to CSV with its own Transcoder, exactly as a download would look."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import databento_dbn as dbn
import pandas as pd
import zstandard

INT64_MAX = 9_223_372_036_854_775_807
UINT64_MAX = 18_446_744_073_709_551_615
PUBLIC = Path(__file__).resolve().parents[2] / "data" / "databento"


@dataclass(frozen=True)
class _Interval:
    start_date: date
    end_date: date
    symbol: str


@dataclass(frozen=True)
class _Mapping:
    raw_symbol: str
    intervals: Sequence[_Interval]


@dataclass(frozen=True)
class Quote:
    """One cbbo-1m row: ``px`` in dollars (None = undefined), ``ts`` the minute's end (UTC)."""

    symbol: str  # OSI, e.g. "SPY   240103C00470000"
    ts: str
    bid: float | None
    ask: float | None
    bid_sz: int = 10
    ask_sz: int = 12


def _px(value: float | None) -> int:
    return INT64_MAX if value is None else round(value * 1e9)


def _ns(ts: str) -> int:
    return (
        pd.Timestamp(ts).tz_convert("UTC").value
        if pd.Timestamp(ts).tzinfo
        else pd.Timestamp(ts, tz="UTC").value
    )


def instrument_ids(symbols: Iterable[str]) -> dict[str, int]:
    return {s: 1000 + i for i, s in enumerate(sorted(set(symbols)))}


def metadata(
    schema: dbn.Schema, days: Sequence[date], ids: dict[str, int], *, version: int = 3, mapped: bool = True
) -> dbn.Metadata:
    start = pd.Timestamp(days[0], tz="UTC").value
    end = pd.Timestamp(days[-1] + timedelta(days=1), tz="UTC").value
    mappings = [
        _Mapping(raw, [_Interval(d, d + timedelta(days=1), str(iid)) for d in days])
        for raw, iid in ids.items()
    ]
    return dbn.Metadata(
        "OPRA.PILLAR",
        start,
        dbn.SType.RAW_SYMBOL,
        dbn.SType.INSTRUMENT_ID,
        schema,
        symbols=sorted(ids),
        mappings=mappings if mapped else [],
        end=end,
        version=version,
    )


def cbbo_records(quotes: Sequence[Quote], ids: dict[str, int], rtype: int = 193) -> list[dbn.CBBOMsg]:
    out = []
    for q in quotes:
        level = dbn.ConsolidatedBidAskPair(
            bid_px=_px(q.bid), ask_px=_px(q.ask), bid_sz=q.bid_sz, ask_sz=q.ask_sz, bid_pb=30, ask_pb=30
        )
        ts = _ns(q.ts)
        out.append(
            dbn.CBBOMsg(
                rtype=rtype,
                publisher_id=30,
                instrument_id=ids[q.symbol],
                ts_event=ts - 1_000_000,
                price=INT64_MAX,
                size=0,
                side=dbn.Side.NONE,
                ts_recv=ts,
                flags=0,
                levels=level,
            )
        )
    return out


def encode(meta: dbn.Metadata, records: Iterable[object]) -> bytes:
    return bytes(meta) + b"".join(bytes(r) for r in records)  # type: ignore[call-overload]


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zstandard.ZstdCompressor().compress(data) if path.name.endswith(".zst") else data)
    return path


def to_csv(data: bytes, *, map_symbols: bool = True, pretty: bool = False) -> bytes:
    """Render DBN bytes as DataBento CSV with the official Transcoder."""
    out = io.BytesIO()
    transcoder = dbn.Transcoder(
        out,
        dbn.Encoding.CSV,
        dbn.Compression.NONE,
        pretty_px=pretty,
        pretty_ts=pretty,
        map_symbols=map_symbols,
    )
    transcoder.write(data)
    transcoder.flush()
    return out.getvalue()
