"""The data of a run: the data folder (or the bundled sample), the catalog brought up to date, the sessions."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from app.cli import one_line
from app.request import BadInput, RunFailed, RunRequest, ensure_writable_dir
from options_scalper.model import ScalperError

CATALOG_DIRNAME = ".catalog"


def _data_dir(req: RunRequest, say: Callable[[str], None]) -> Path:
    if req.data_dir is None:
        from feeds.synthetic.sample import default_sample_dir, ensure_sample, sample_is_complete

        target = default_sample_dir()
        if not sample_is_complete(target):
            say(f"building the bundled sample dataset into {target} (first run only)")
        try:
            return ensure_sample(target, progress=not req.quiet)
        except OSError as exc:
            raise RunFailed(f"cannot build the bundled sample in {target}: {one_line(exc)}") from exc
    data_dir = req.data_dir.expanduser()
    if not data_dir.is_dir():
        what = "is not a folder" if data_dir.exists() else "does not exist"
        raise BadInput(
            f"--data {data_dir}: {what}; pass the folder that holds <SYMBOL>/cbbo-1m/<date>.csv[.zst]"
        )
    return data_dir


def _ingest_window(
    found: Mapping[str, Any], start: date | None, end: date | None, warmup_days: int
) -> tuple[date | None, date | None]:
    """The source-day window to ingest: the range plus each symbol's warm-up sessions."""
    lo: date | None = None
    hi: date | None = None
    for files in found.values():
        days = sorted(files.cbbo)
        inside = [d for d in days if (start is None or d >= start) and (end is None or d <= end)]
        if not inside:
            continue
        first = days.index(inside[0])
        first_day = days[max(0, first - warmup_days)]
        lo = first_day if lo is None else min(lo, first_day)
        hi = inside[-1] if hi is None else max(hi, inside[-1])
    return lo, hi


def _source_range(found: Mapping[str, Any]) -> str:
    days = sorted({d for files in found.values() for d in files.cbbo})
    return f"{days[0]}..{days[-1]}" if days else "no days"


def prepare_catalog(
    req: RunRequest, data_dir: Path, say: Callable[[str], None]
) -> tuple[Any, list[str], list[str]]:
    """Ingest what the run needs (new or changed days only); return (catalog, symbols, notes)."""
    from feeds.catalog import Catalog, CatalogError, IngestSettings, SourceFileError
    from feeds.databento.layout import discover

    try:
        found = discover(data_dir, list(req.symbols) or None)
    except ScalperError as exc:
        raise BadInput(f"--data/--symbols: {one_line(exc)}") from exc
    start, end = _ingest_window(found, req.start, req.end, req.warmup_days)
    if start is None:
        raise BadInput(
            f"no trading days between {req.start or 'the start'} and {req.end or 'the end'} for "
            f"{', '.join(sorted(found))} in {data_dir} (the data covers {_source_range(found)}); "
            "change --start/--end"
        )
    catalog_dir = (req.catalog_dir or data_dir / CATALOG_DIRNAME).expanduser()
    ensure_writable_dir(
        catalog_dir, "--catalog" if req.catalog_dir else "--catalog (default <DATA>/.catalog)"
    )
    catalog = Catalog(catalog_dir)
    try:
        summary = catalog.ingest(
            data_dir,
            symbols=sorted(found),
            start=start,
            end=end,
            settings=IngestSettings(bars_tz=req.bars_tz),
            strict=req.strict,
            progress=not req.quiet,
        )
    except ScalperError as exc:
        if isinstance(exc, CatalogError) and not isinstance(exc, SourceFileError):
            raise BadInput(one_line(exc)) from exc
        raise RunFailed(f"{one_line(exc)} (--strict stops on the first bad file; drop it to skip)") from exc
    notes: list[str] = []
    for failure in summary.failures:
        line = f"skipped {failure.line()}"
        print(f"warning: {line}", file=sys.stderr)
        notes.append(line)
    return catalog, sorted(found), notes


def prepare_remote_catalog(req: RunRequest, say: Callable[[str], None]) -> tuple[Any, list[str]]:
    """The object-store catalog's days the run needs, copied into this machine's cache: (catalog, symbols)."""
    from app.remote_catalog import materialise, open_remote, remote_symbols
    from feeds.catalog import Catalog

    assert req.catalog_uri is not None
    fs, base = open_remote(req.catalog_uri)
    found = remote_symbols(fs, base)
    symbols = list(req.symbols) or found
    missing = [s for s in symbols if s not in found]
    if missing or not symbols:
        raise BadInput(
            f"--catalog {req.catalog_uri}: no {', '.join(missing) or 'symbol'} there "
            f"(it holds {', '.join(found) or 'nothing'}); check --symbols or the URI"
        )
    say(f"catalog {req.catalog_uri}: copying the days the run needs into the local cache")
    root = materialise(req.catalog_uri, symbols, req.start, req.end, req.warmup_days)
    return Catalog(root), symbols


def trading_sessions(
    catalog: Any, symbols: Sequence[str], start: date | None, end: date | None, warmup_days: int
) -> tuple[dict[str, list[date]], dict[str, list[date]]]:
    """Per symbol: (all streamed sessions incl. warm-up, trading sessions) from the catalog."""
    from feeds.backtest.clock import session_days

    streamed: dict[str, list[date]] = {}
    trading: dict[str, list[date]] = {}
    for sym in symbols:
        days, first = session_days(catalog, sym, start, end, warmup_days)
        streamed[sym] = days
        trading[sym] = [d for d in days if first is not None and d >= first]
    return streamed, trading


def _source_days(data_dir: Path, symbol: str, trading: list[date]) -> list[date]:
    """The source days in the trading range (so days missing from the catalog get a note)."""
    from feeds.databento.layout import discover

    try:
        files = discover(data_dir, [symbol])[symbol]
    except ScalperError:
        return trading
    lo, hi = trading[0], trading[-1]
    return sorted({d for d in files.cbbo if lo <= d <= hi} | set(trading))
