"""The day catalog: ingest source days once, read small columnar days many times."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from tqdm import tqdm

from feeds.catalog import store
from feeds.catalog.day import DayTables, build_day
from feeds.catalog.sessions import Session, session_for
from feeds.catalog.settings import CatalogError, DayFailure, IngestSettings, IngestSummary, SourceFileError
from feeds.databento.bars import BarStats
from feeds.databento.cbbo import DataFileError, read_bars
from feeds.databento.layout import SymbolFiles, discover
from feeds.schema import BAR_COLUMNS, BAR_DROP_REASONS, DROP_REASONS
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
class _DayPlan:
    symbol: str
    day: date
    files: SymbolFiles
    sources: dict[str, str] = field(default_factory=dict)  # kind -> fingerprint
    bars: pd.DataFrame | None = None
    bar_stats: BarStats | None = None


class Catalog:
    """A folder of ingested days; see :mod:`feeds.catalog.store` for the layout.

    Build it with :meth:`ingest`, read it with :meth:`read_quotes`, :meth:`read_bars`,
    :meth:`read_open_interest`, :meth:`day_summary` and :meth:`data_notes`. Two
    ingests must not run at the same time on the same catalog.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ ingest

    def ingest(
        self,
        data_dir: Path | str,
        *,
        symbols: Iterable[str] | None = None,
        start: date | None = None,
        end: date | None = None,
        settings: IngestSettings | None = None,
        strict: bool = False,
        progress: bool = True,
    ) -> IngestSummary:
        """Ingest every source day under ``data_dir`` that is new or changed; skip the rest.

        A day is rebuilt when its CBBO/bars/statistics file (size, mtime_ns, hash of its
        first and last 64 KiB) or ``settings`` changed. A corrupt day is reported in the
        summary and skipped; with ``strict=True`` its error is raised instead.
        """
        settings = settings or IngestSettings()
        data_dir = Path(data_dir)
        if not data_dir.is_dir():
            raise CatalogError(
                f"data folder {data_dir} does not exist; pass the folder that holds <SYMBOL>/cbbo-1m/"
            )
        if start is not None and end is not None and start > end:
            raise CatalogError(f"start {start} is after end {end}; swap them")
        wanted = [s.upper() for s in symbols] if symbols else None
        try:
            found = discover(data_dir, wanted)
        except ScalperError as exc:  # a layout problem is bad input, not a bad day
            raise CatalogError(" ".join(str(exc).split())) from exc
        plans = [
            _DayPlan(symbol=sym, day=day, files=files)
            for sym, files in sorted(found.items())
            for day in sorted(files.cbbo)
            if (start is None or day >= start) and (end is None or day <= end)
        ]
        for sym in found:
            store.remove_stale_temps(self.root / sym)

        summary = IngestSummary()
        for sym, files in sorted(found.items()):
            for note in files.notes:
                summary.failures.append(DayFailure(sym, "(all days)", "", note))
        started = time.perf_counter()
        multi_bars: dict[Path, tuple[pd.DataFrame, BarStats] | SourceFileError] = {}
        bar = tqdm(plans, desc="ingest", unit="day", disable=not progress, leave=False)
        for plan in bar:
            bar.set_postfix_str(f"{plan.symbol} {plan.day}", refresh=False)
            self._ingest_day(plan, settings, strict, summary, multi_bars)
        bar.close()
        summary.seconds = time.perf_counter() - started
        if progress:
            print(summary.summary_line())
        return summary

    def _ingest_day(
        self,
        plan: _DayPlan,
        settings: IngestSettings,
        strict: bool,
        summary: IngestSummary,
        multi_bars: dict[Path, tuple[pd.DataFrame, BarStats] | SourceFileError],
    ) -> None:
        cbbo = plan.files.cbbo[plan.day]
        try:
            self._resolve_sources(plan, multi_bars)
            manifest = store.read_manifest(self._manifest(plan.symbol, plan.day))
            if (
                manifest is not None
                and manifest.get("sources") == plan.sources
                and manifest.get("settings") == settings.as_dict()
                and self._files_intact(plan.symbol, plan.day, manifest)
            ):
                summary.skipped += 1
                return
            try:
                session = session_for(plan.day)
            except CatalogError as exc:
                if plan.day in plan.files.range_days:  # a range file spans holidays: no day, no error
                    summary.not_sessions += 1
                    return
                raise SourceFileError(cbbo, exc) from exc
            stats_path = plan.files.statistics.get(plan.day)
            tables = build_day(
                cbbo,
                plan.day,
                session,
                settings,
                bars=plan.bars,
                statistics_path=stats_path,
                underlying=plan.symbol,
                symbols=plan.files.symbol_map,
                range_file=plan.day in plan.files.range_days,
            )
            tables.summary.update(_bar_quality(plan, session))
        except SOURCE_ERRORS as exc:
            path = exc.path if isinstance(exc, SourceFileError) else cbbo
            message = _one_line(exc, path)
            if strict:
                if isinstance(exc, ScalperError):
                    raise
                raise DataFileError(message) from exc
            summary.failed += 1
            summary.failures.append(DayFailure(plan.symbol, plan.day.isoformat(), str(path), message))
            return
        self._commit(plan, settings, tables)
        summary.ingested += 1
        summary.rows_in += tables.stats.rows_in
        summary.rows_out += tables.quotes.num_rows
        summary.dropped.update(tables.stats.dropped)

    def _resolve_sources(
        self, plan: _DayPlan, multi_bars: dict[Path, tuple[pd.DataFrame, BarStats] | SourceFileError]
    ) -> None:
        """Fingerprint the day's source files and load its bars (per-day file, else multi-day)."""
        files = plan.files
        plan.sources["cbbo"] = store.file_fingerprint(files.cbbo[plan.day])
        stats_path = files.statistics.get(plan.day)
        if stats_path is not None:
            plan.sources["statistics"] = store.file_fingerprint(stats_path)
        day_bars = files.bars_days.get(plan.day)
        if day_bars is not None:
            plan.sources["bars"] = store.file_fingerprint(day_bars)
            plan.bars, plan.bar_stats = _read_bars(day_bars, plan.symbol, files)
            return
        session = None
        for path in files.bars_multi:
            if path not in multi_bars:
                try:
                    multi_bars[path] = _read_bars(path, plan.symbol, files)
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
                values = rows[list(BAR_COLUMNS)].to_numpy(dtype="float64", na_value=float("nan"))
                ts_ns = rows["ts"].astype("int64").to_numpy()
                plan.sources["bars"] = store.bytes_fingerprint(ts_ns.tobytes() + values.tobytes())
                plan.bars = rows.reset_index(drop=True)
                return

    def _commit(self, plan: _DayPlan, settings: IngestSettings, tables: DayTables) -> None:
        sym, day = plan.symbol, plan.day.isoformat()
        manifest_path = self._manifest(sym, plan.day)
        store.remove_manifest(manifest_path)  # from here on the day reads as absent until the end
        files: dict[str, dict[str, Any]] = {}
        for kind, table in (("quotes", tables.quotes), ("bars", tables.bars), ("oi", tables.oi)):
            path = store.day_file(self.root, sym, kind, day)
            if table is None:
                path.unlink(missing_ok=True)
                continue
            size = store.write_parquet(path, table)
            files[kind] = {"size": size, "rows": table.num_rows}
        entry = {
            "format": store.FORMAT_VERSION,
            "symbol": sym,
            "date": day,
            "settings": settings.as_dict(),
            "sources": plan.sources,
            "source_paths": _source_paths(plan),
            "files": files,
            "summary": tables.summary,
            "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        store.write_manifest(manifest_path, entry)

    # ------------------------------------------------------------------ read

    def symbols(self) -> list[str]:
        """Return the symbols that have at least one complete day."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and any(self._manifests(p.name)))

    def days(self, symbol: str) -> list[date]:
        """Return the complete days of ``symbol``, oldest first."""
        return sorted(date.fromisoformat(p.stem) for p in self._manifests(symbol))

    def read_quotes(self, symbol: str, day: date) -> pd.DataFrame:
        """Return the day's forward-filled quotes (CATALOG_QUOTE_SCHEMA columns), sorted by ts, symbol."""
        return self._read(symbol, day, "quotes")

    def read_bars(self, symbol: str, day: date) -> pd.DataFrame:
        """Return the day's regular-session underlying bars (BAR_COLUMNS; ts = bar start UTC)."""
        return self._read(symbol, day, "bars")

    def read_quotes_arrow(
        self,
        symbol: str,
        day: date,
        columns: Sequence[str] | None = None,
        dictionary_columns: Sequence[str] = (),
    ) -> pa.Table:
        """Return :meth:`read_quotes` as an Arrow table (no pandas), for numpy consumers.

        ``columns`` selects columns (default all); ``dictionary_columns`` are read
        dictionary-encoded, straight from the file's dictionary pages.
        """
        return self._read_table(symbol, day, "quotes", columns=columns, dictionary_columns=dictionary_columns)

    def read_bars_arrow(self, symbol: str, day: date) -> pa.Table:
        """Return :meth:`read_bars` as the Arrow table on disk (no pandas), for numpy consumers."""
        return self._read_table(symbol, day, "bars")

    def read_open_interest(self, symbol: str, day: date) -> pd.DataFrame | None:
        """Return per-contract ``symbol, open_interest, volume``; None when the day had no statistics."""
        entry = self._entry(symbol, day)
        if "oi" not in entry["files"]:
            return None
        return self._read(symbol, day, "oi", entry)

    def read_open_interest_arrow(self, symbol: str, day: date) -> pa.Table | None:
        """Return :meth:`read_open_interest` as an Arrow table (no pandas); None without statistics."""
        entry = self._entry(symbol, day)
        if "oi" not in entry["files"]:
            return None
        return self._read_table(symbol, day, "oi", entry)

    def day_summary(self, symbol: str) -> pd.DataFrame:
        """Return one row per complete day: ATM IV, underlying source, OI flags, row and drop counts, ..."""
        rows = []
        for path in sorted(self._manifests(symbol)):
            entry = store.read_manifest(path)
            if entry is None:
                continue
            row = {"date": date.fromisoformat(entry["date"]), "symbol": entry["symbol"], **entry["summary"]}
            row["source_fingerprint"] = "|".join(f"{k}={v}" for k, v in sorted(entry["sources"].items()))
            row["settings"] = ",".join(f"{k}={v}" for k, v in sorted(entry["settings"].items()))
            row["quotes_bytes"] = entry["files"].get("quotes", {}).get("size", 0)
            row["ingested_at"] = entry["ingested_at"]
            rows.append(row)
        columns = [
            "date",
            "symbol",
            "atm_iv_30d",
            "underlying_source",
            "oi_known",
            "volume_known",
            "rows_in",
            "rows_out",
            *(f"dropped_{r}" for r in DROP_REASONS),
            "source_fingerprint",
        ]
        if not rows:
            return pd.DataFrame(columns=columns)
        frame = pd.DataFrame(rows)
        rest = [c for c in frame.columns if c not in columns]
        return frame[[*columns, *rest]].sort_values("date").reset_index(drop=True)

    def data_notes(self, symbol: str, days: Iterable[date]) -> list[str]:
        """Return one line per data caveat of ``days`` (missing OI/volume, parity underlying, missing days)."""
        from feeds.catalog.notes import data_notes

        entries: dict[date, dict[str, Any] | None] = {}
        for day in days:
            entries[day] = store.read_manifest(self._manifest(symbol, day))
        return data_notes(symbol, entries)

    # ------------------------------------------------------------------ helpers

    def _manifest(self, symbol: str, day: date) -> Path:
        return store.manifest_file(self.root, symbol, day.isoformat())

    def _manifests(self, symbol: str) -> Iterator[Path]:
        folder = self.root / symbol / "days"
        if not folder.is_dir():
            return iter(())
        return (p for p in folder.glob("*.json") if not p.name.startswith("."))

    def _entry(self, symbol: str, day: date) -> dict[str, Any]:
        entry = store.read_manifest(self._manifest(symbol, day))
        if entry is None:
            raise CatalogError(
                f"{symbol} {day} is not in the catalog {self.root}; run "
                f"'python -m feeds.catalog ingest --data DIR --catalog {self.root}'"
            )
        return entry

    def _files_intact(self, symbol: str, day: date, entry: dict[str, Any]) -> bool:
        for kind, meta in entry.get("files", {}).items():
            path = store.day_file(self.root, symbol, kind, day.isoformat())
            try:
                if path.stat().st_size != meta["size"]:
                    return False
            except (OSError, KeyError, TypeError):
                return False
        return True

    def _read(self, symbol: str, day: date, kind: str, entry: dict[str, Any] | None = None) -> pd.DataFrame:
        return self._read_table(symbol, day, kind, entry).to_pandas()

    def _read_table(
        self,
        symbol: str,
        day: date,
        kind: str,
        entry: dict[str, Any] | None = None,
        columns: Sequence[str] | None = None,
        dictionary_columns: Sequence[str] = (),
    ) -> pa.Table:
        entry = entry or self._entry(symbol, day)
        path = store.day_file(self.root, symbol, kind, day.isoformat())
        meta = entry["files"].get(kind)
        try:
            if meta is None or path.stat().st_size != meta["size"]:
                raise OSError("size differs from the manifest")
            # one file: no dataset discovery (read_table's)
            with pq.ParquetFile(path, read_dictionary=list(dictionary_columns) or None) as parquet:
                table = parquet.read(columns=None if columns is None else list(columns), use_threads=False)
        except (OSError, pa.ArrowException) as exc:
            raise CatalogError(
                f"catalog file {path} is missing or damaged ({exc}); re-run ingest to rebuild {symbol} {day}"
            ) from exc
        return table


def _read_bars(path: Path, symbol: str, files: SymbolFiles) -> tuple[pd.DataFrame, BarStats]:
    stats = BarStats()
    try:
        bars = read_bars(
            path, symbol=symbol, stats=stats, naive_tz=files.bars_tz, symbols=files.symbol_map
        ).copy()
    except SOURCE_ERRORS as exc:
        raise SourceFileError(path, exc) from exc
    bars["ts"] = pd.to_datetime(bars["ts"], utc=True)
    return bars, stats


def _bar_quality(plan: _DayPlan, session: Session) -> dict[str, Any]:
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
    return out


def _source_paths(plan: _DayPlan) -> dict[str, str]:
    files = plan.files
    out = {"cbbo": str(files.cbbo[plan.day])}
    if plan.day in files.statistics:
        out["statistics"] = str(files.statistics[plan.day])
    if plan.day in files.bars_days:
        out["bars"] = str(files.bars_days[plan.day])
    elif "bars" in plan.sources and files.bars_multi:
        out["bars"] = ";".join(str(p) for p in files.bars_multi)
    return out


def _one_line(exc: BaseException, path: Path) -> str:
    if isinstance(exc, SourceFileError):
        exc = exc.cause
    text = " ".join(str(exc).split()) or type(exc).__name__
    if str(path) in text or path.name in text:
        return text
    return f"{path}: {type(exc).__name__}: {text}; the file looks corrupt or truncated, re-download it"
