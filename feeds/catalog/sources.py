"""A day's plan and its sources: fingerprints compared, bars read and judged, errors made one line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import zstandard

from feeds.catalog import store
from feeds.catalog.sessions import Session, session_for
from feeds.catalog.settings import SourceFileError
from feeds.databento.bars import BarStats, read_bars
from feeds.databento.layout import SymbolFiles
from feeds.schema import BAR_DROP_REASONS
from options_scalper.model import ScalperError

# What a bad source day may raise while it is read and parsed. Anything else is a bug
# in our code and propagates.
SOURCE_ERRORS: tuple[type[BaseException], ...] = (
    ScalperError,
    pa.ArrowException,
    ValueError,
    OSError,
    EOFError,
    zstandard.ZstdError,
)


@dataclass
class DayPlan:
    symbol: str
    day: date
    files: SymbolFiles
    sources: dict[str, str] = field(default_factory=dict)  # kind -> fingerprint
    bars: pd.DataFrame | None = None
    bar_stats: BarStats | None = None


def read_bars_of(path: Path, symbol: str, files: SymbolFiles, bars_tz: str) -> tuple[pd.DataFrame, BarStats]:
    stats = BarStats()
    try:
        bars = read_bars(path, symbol=symbol, stats=stats, naive_tz=bars_tz, symbols=files.symbol_map).copy()
    except SOURCE_ERRORS as exc:
        raise SourceFileError(path, exc) from exc
    bars["ts"] = pd.to_datetime(bars["ts"], utc=True)
    return bars, stats


def bar_quality(plan: DayPlan, session: Session) -> dict[str, Any]:
    """The day's bad-bar drops by kind and its session minutes without a bar."""
    out: dict[str, Any] = {f"bars_dropped_{k}": 0 for k in BAR_DROP_REASONS}
    stats = plan.bar_stats
    for kind, ts in stats.dropped_at if stats is not None else ():
        if session.open <= pd.Timestamp(ts) < session.close:
            out[f"bars_dropped_{kind}"] += 1
    minutes = int((session.close - session.open) / pd.Timedelta(minutes=1))
    have = 0
    if plan.bars is not None and len(plan.bars):
        starts = pd.to_datetime(plan.bars["ts"], utc=True)
        have = int(((starts >= session.open) & (starts < session.close)).sum())
    out["bars_expected"] = minutes
    out["bars_present"] = have
    out["bars_in_file"] = (
        len(plan.bars) if plan.bars is not None and plan.day in plan.files.bars_days else have
    )
    return out


def same_sources(old: dict[str, str], new: dict[str, str]) -> bool:
    return old.keys() == new.keys() and all(store.same_content(old[k], new[k]) for k in new)


def source_paths(plan: DayPlan) -> dict[str, str]:
    files = plan.files
    out = {"cbbo": str(files.cbbo[plan.day])}
    if plan.day in files.statistics:
        out["statistics"] = str(files.statistics[plan.day])
    if plan.day in files.bars_days:
        out["bars"] = str(files.bars_days[plan.day])
    elif "bars" in plan.sources and files.bars_multi:
        out["bars"] = ";".join(str(p) for p in files.bars_multi)
    return out


def one_line(exc: BaseException, path: Path) -> str:
    if isinstance(exc, SourceFileError):
        exc = exc.cause
    text = " ".join(str(exc).split()) or type(exc).__name__
    if str(path) in text or path.name in text:
        return text
    if isinstance(exc, ScalperError):  # our own message already says what is wrong and what to do
        return f"{path}: {text}"
    return f"{path}: {type(exc).__name__}: {text}; the file looks corrupt or truncated, re-download it"


def fingerprint(plan: DayPlan, manifest: dict[str, Any] | None) -> None:
    """Fingerprint the day's source files: a stat each, a content hash only for a changed stat."""
    files = plan.files
    prev: dict[str, str] = (manifest or {}).get("sources", {})
    plan.sources["cbbo"] = store.file_fingerprint(files.cbbo[plan.day], prev.get("cbbo"))
    stats_path = files.statistics.get(plan.day)
    if stats_path is not None:
        plan.sources["statistics"] = store.file_fingerprint(stats_path, prev.get("statistics"))
    day_bars = files.bars_days.get(plan.day)
    if day_bars is not None:
        plan.sources["bars"] = store.file_fingerprint(day_bars, prev.get("bars"))
    elif files.bars_multi:
        old = prev.get("bars", "").split(";")
        parts = [
            store.file_fingerprint(p, old[i] if i < len(old) else None)
            for i, p in enumerate(files.bars_multi)
        ]
        plan.sources["bars"] = ";".join(parts)


def load_bars(
    plan: DayPlan,
    multi_bars: dict[Path, tuple[pd.DataFrame, BarStats] | SourceFileError],
    bars_tz: str,
) -> None:
    """Load the day's bars: its per-day file, else the first multi-day file with session bars."""
    files = plan.files
    day_bars = files.bars_days.get(plan.day)
    if day_bars is not None:
        plan.bars, plan.bar_stats = read_bars_of(day_bars, plan.symbol, files, bars_tz)
        return
    session = None
    for path in files.bars_multi:
        if path not in multi_bars:
            try:
                multi_bars[path] = read_bars_of(path, plan.symbol, files, bars_tz)
            except SOURCE_ERRORS as exc:
                multi_bars[path] = SourceFileError(path, exc)
        loaded_pair = multi_bars[path]
        if isinstance(loaded_pair, SourceFileError):
            raise loaded_pair
        loaded, plan.bar_stats = loaded_pair
        session = session or session_for(plan.day)
        ts = loaded["ts"]
        rows = loaded[(ts >= session.open) & (ts < session.close)]
        if len(rows):
            plan.bars = rows.reset_index(drop=True)
            return
