"""The day catalog: ingest source days once, read small columnar days many times."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from feeds.catalog import parallel, store
from feeds.catalog.day import DayTables, build_day
from feeds.catalog.notes import data_notes, summary_frame
from feeds.catalog.sessions import session_for
from feeds.catalog.settings import CatalogError, DayFailure, IngestSettings, IngestSummary, SourceFileError
from feeds.catalog.sources import (
    SOURCE_ERRORS,
    DayPlan,
    bar_quality,
    fingerprint,
    load_bars,
    one_line,
    same_sources,
    source_paths,
)
from feeds.databento.bars import BarStats
from feeds.databento.cbbo import DataFileError
from feeds.databento.cbbo_days import iter_cbbo_days
from feeds.databento.cbbo_rows import ReadStats
from feeds.databento.layout import SymbolFiles, discover
from options_scalper import calendar
from options_scalper.model import ScalperError


def _ingest_alone(root: Path, plan: DayPlan, settings: IngestSettings) -> IngestSummary:
    """Ingest one day into the catalog at ``root`` in a worker process (``feeds.catalog.parallel``)."""
    summary = IngestSummary()
    Catalog(root)._ingest_day(plan, settings, False, summary, {})
    return summary


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
        workers: int = 1,
    ) -> IngestSummary:
        """Ingest every source day under ``data_dir`` that is new or changed; skip the rest.

        A day is rebuilt when its CBBO/bars/statistics file (size, mtime_ns, hash of its
        first and last 64 KiB) or ``settings`` changed. A corrupt day is reported in the
        summary and skipped; with ``strict=True`` its error is raised instead.
        ``workers`` > 1 ingests the stale days that stand alone in that many processes
        (``feeds.catalog.parallel``; not with ``strict``, which stops at the first bad day).
        """
        if workers < 1:
            raise CatalogError(f"workers={workers}; pass 1 (one process) or more")
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
            DayPlan(symbol=sym, day=day, files=files)
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
            self._drop_vanished(sym, files, start, end, summary)
        started = time.perf_counter()
        multi_bars: dict[Path, tuple[pd.DataFrame, BarStats] | SourceFileError] = {}
        bar = tqdm(total=len(plans), desc="ingest", unit="day", disable=not progress, leave=False)
        ranges_done: set[tuple[str, Path]] = set()
        in_process = plans
        if workers > 1 and not strict:
            in_process = [p for p in plans if not parallel.runs_alone(p)]
            stale = []
            for plan in (p for p in plans if parallel.runs_alone(p)):
                if self._fresh(plan, store.read_manifest(self._manifest(plan.symbol, plan.day)), settings):
                    summary.skipped += 1
                    bar.update(1)
                else:
                    stale.append(plan)
            parts = parallel.ingest_days(_ingest_alone, self.root, stale, settings, workers)
            for plan, part in zip(stale, parts, strict=True):
                bar.set_postfix_str(f"{plan.symbol} {plan.day}", refresh=False)
                parallel.merge_summary(summary, part)
                bar.update(1)
        for plan in in_process:
            bar.set_postfix_str(f"{plan.symbol} {plan.day}", refresh=False)
            source = plan.files.cbbo[plan.day]
            if plan.day not in plan.files.range_days:
                self._ingest_day(plan, settings, strict, summary, multi_bars)
            elif (plan.symbol, source) not in ranges_done:  # all its days in one pass, at its first day
                ranges_done.add((plan.symbol, source))
                group = [p for p in plans if p.symbol == plan.symbol and p.files.cbbo[p.day] == source]
                self._ingest_range(group, settings, strict, summary, multi_bars)
            bar.update(1)
        bar.close()
        summary.seconds = time.perf_counter() - started
        if progress:
            print(summary.summary_line())
        return summary

    def _ingest_day(
        self,
        plan: DayPlan,
        settings: IngestSettings,
        strict: bool,
        summary: IngestSummary,
        multi_bars: dict[Path, tuple[pd.DataFrame, BarStats] | SourceFileError],
        quotes: tuple[Iterator[pa.Table], ReadStats] | None = None,
    ) -> None:
        """Ingest one day (from its file, or from ``quotes`` streamed out of a range file) unless fresh."""
        cbbo = plan.files.cbbo[plan.day]
        manifest = store.read_manifest(self._manifest(plan.symbol, plan.day))
        try:
            if quotes is None and self._fresh(plan, manifest, settings):
                summary.skipped += 1
                return
            load_bars(plan, multi_bars, settings.bars_tz)
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
                streamed=quotes,
            )
            tables.summary.update(bar_quality(plan, session))
        except SOURCE_ERRORS as exc:
            path = exc.path if isinstance(exc, SourceFileError) else cbbo
            message = one_line(exc, path)
            if strict:
                if isinstance(exc, ScalperError):
                    raise
                raise DataFileError(message) from exc
            summary.failed += 1
            if manifest is not None:  # its source changed and no longer reads: out of the backtest, visibly
                self._remove_day(plan.symbol, plan.day)
                message += "; the catalog's old copy of the day was removed"
            summary.failures.append(DayFailure(plan.symbol, plan.day.isoformat(), str(path), message))
            return
        self._commit(plan, settings, tables)
        summary.ingested += 1
        summary.rows_in += tables.stats.rows_in
        summary.rows_out += tables.quotes.num_rows
        summary.dropped.update(tables.stats.dropped)

    def _fresh(self, plan: DayPlan, manifest: dict[str, Any] | None, settings: IngestSettings) -> bool:
        """True when the catalog's copy of the day is up to date (fingerprints ``plan``'s sources)."""
        fingerprint(plan, manifest)
        if (
            manifest is None
            or not same_sources(manifest.get("sources", {}), plan.sources)
            or manifest.get("settings") != settings.as_dict()
            or not self._files_intact(plan.symbol, plan.day, manifest)
        ):
            return False
        if manifest.get("sources") != plan.sources:  # touched, same content: remember the new stat
            store.write_manifest(self._manifest(plan.symbol, plan.day), {**manifest, "sources": plan.sources})
        return True

    def _ingest_range(
        self,
        group: list[DayPlan],
        settings: IngestSettings,
        strict: bool,
        summary: IngestSummary,
        multi_bars: dict[Path, tuple[pd.DataFrame, BarStats] | SourceFileError],
    ) -> None:
        """Ingest the stale days of one range file in a single streaming pass over it."""
        stale: dict[date, DayPlan] = {}
        for plan in group:
            if self._fresh(plan, store.read_manifest(self._manifest(plan.symbol, plan.day)), settings):
                summary.skipped += 1
            elif calendar.is_session(plan.day):
                stale[plan.day] = plan
            else:  # a range file spans holidays: no day, no error
                summary.not_sessions += 1
        if not stale:
            return
        first = group[0]
        path = first.files.cbbo[first.day]
        seen: set[date] = set()
        failed_before = len(summary.failures)
        try:
            for day, tables, stats in iter_cbbo_days(
                path, symbols=first.files.symbol_map, underlyings=[first.symbol]
            ):
                todo = stale.get(day)
                if todo is not None:
                    seen.add(day)
                    self._ingest_day(todo, settings, strict, summary, multi_bars, quotes=(tables, stats))
        except SOURCE_ERRORS as exc:
            if strict:
                raise
            reason = one_line(exc, path)
        else:
            reason = f"{path}: the range file holds no rows of {{day}}; re-download that day"
            if len(summary.failures) > failed_before:  # reading stopped at a failed day
                stopped = summary.failures[-1]
                reason = f"{path}: {{day}} not reached: reading the range file stopped at {stopped.day}; re-download it"
        for day, plan in sorted(stale.items()):
            if day not in seen:
                summary.failed += 1
                summary.failures.append(
                    DayFailure(
                        plan.symbol, day.isoformat(), str(path), reason.replace("{day}", day.isoformat())
                    )
                )

    def _commit(self, plan: DayPlan, settings: IngestSettings, tables: DayTables) -> None:
        sym, day = plan.symbol, plan.day.isoformat()
        manifest_path = self._manifest(sym, plan.day)
        store.remove_manifest(manifest_path)  # from here on the day reads as absent until the end
        files: dict[str, dict[str, Any]] = {}
        for kind, table in (("quotes", tables.quotes), ("bars", tables.bars), ("oi", tables.oi)):
            path = store.day_file(self.root, sym, kind, day)
            if table is None:
                path.unlink(missing_ok=True)
                continue
            try:
                written = store.write_parquet(path, table)
            except OSError as exc:  # disk full, read-only catalog: name the file and the day
                raise CatalogError(
                    f"cannot write {path} for {sym} {day} ({exc.strerror or exc}); free disk space or fix the "
                    f"catalog folder's permissions, then re-run ingest"
                ) from exc
            files[kind] = {**written, "rows": table.num_rows}
        entry = {
            "format": store.FORMAT_VERSION,
            "symbol": sym,
            "date": day,
            "settings": settings.as_dict(),
            "sources": plan.sources,
            "source_paths": source_paths(plan),
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
        return summary_frame(store.read_manifest(p) for p in sorted(self._manifests(symbol)))

    def data_notes(self, symbol: str, days: Iterable[date]) -> list[str]:
        """Return one line per data caveat of ``days`` (missing OI/volume, parity underlying, missing days)."""
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
        files = entry.get("files", {})
        if not isinstance(files, dict):
            return False
        return all(
            isinstance(meta, dict)
            and store.file_intact(store.day_file(self.root, symbol, kind, day.isoformat()), meta)
            for kind, meta in files.items()
        )

    def _drop_vanished(
        self, symbol: str, files: SymbolFiles, start: date | None, end: date | None, summary: IngestSummary
    ) -> None:
        """Remove catalog days (within start..end) whose source file is gone: out of the backtest, visibly."""
        for day in self.days(symbol):
            if day in files.cbbo or (start is not None and day < start) or (end is not None and day > end):
                continue
            entry = store.read_manifest(self._manifest(symbol, day)) or {}
            source = entry.get("source_paths", {}).get("cbbo", "its source file")
            self._remove_day(symbol, day)
            summary.failed += 1
            summary.failures.append(
                DayFailure(symbol, day.isoformat(), str(source),
                           f"{source}: source file is gone; the catalog's copy of the day was removed")
            )  # fmt: skip

    def _remove_day(self, symbol: str, day: date) -> None:
        store.remove_manifest(self._manifest(symbol, day))
        for kind in store.KINDS:
            store.day_file(self.root, symbol, kind, day.isoformat()).unlink(missing_ok=True)

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
