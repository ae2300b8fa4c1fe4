"""DataBento batch-job folders as unpacked: which file holds which schema, days and underlyings.

A job folder (``OPRA-20241106-4APD3MDYPJ/``) holds data files named
``<dataset-slug>-<YYYYMMDD>[-<YYYYMMDD>].<schema>.<csv|dbn>[.zst]`` beside ``metadata.json``,
``symbology.json``, ``condition.json`` and ``manifest.json``. ``--data`` may point at one job
folder or at a folder holding several (the OPRA quotes job, an XNAS/EQUS bars job, a
statistics job): every file is classified by the schema in its name, so quotes, bars and
statistics of one day are never "two files for a day".

* underlyings: ``--symbols`` when given, else the jobs' ``metadata.json`` query symbols
  (``SPY.OPT`` -> SPY, ``SPXW.OPT`` -> SPX), else the first OCC symbol of the first quote file.
  A merged file (SPY and QQQ chains) is every underlying's file; the reader keeps each
  one's own contracts.
* bars: ``ohlcv-1m`` files of an equities dataset (``xnas-``, ``equs-``, ...) are the
  underlyings' bars; OPRA's own ``ohlcv-1m`` (option bars) are not, and are left out.
* symbols for files written without them: every job's ``symbology.json``, else the
  ``definition`` files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from feeds.databento.dbn_tables import definition_symbols
from feeds.databento.names import (
    DataLayoutError,
    SymbolFiles,
    dates_in_name,
    is_data_file,
    same_day_twice,
    symbol_of_cbbo,
)
from feeds.databento.symbology import SymbolMap
from feeds.databento.textio import DataFileError
from options_scalper.occ import underlying_of_root

METADATA_JSON = "metadata.json"
SYMBOLOGY_JSON = "symbology.json"
_SCHEMA_RE = re.compile(r"\.([a-z]+(?:-[0-9a-z]+)?)\.(?:csv|dbn)(?:\.zst)?$")
_OPTION_DATASETS = ("opra",)  # dataset slugs whose ohlcv files are option bars, not the underlying's


def schema_of_name(name: str) -> str | None:
    """The schema a DataBento file name carries (``cbbo-1m`` of ``opra-pillar-20240103.cbbo-1m.dbn.zst``)."""
    m = _SCHEMA_RE.search(name.lower())
    return m.group(1) if m else None


def _job_dirs(root: Path) -> list[Path]:
    def is_job(folder: Path) -> bool:
        if (folder / METADATA_JSON).is_file():
            return True
        return any(is_data_file(p) and schema_of_name(p.name) for p in folder.iterdir())

    subs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [d for d in [root, *subs] if is_job(d)]


def is_job_layout(root: Path) -> bool:
    """True when ``root`` is a job folder or holds job folders."""
    return bool(_job_dirs(root))


def _days_of(path: Path) -> tuple[list[date], bool]:
    """(days, is_range): one date in the name -> that day; two -> every weekday between them."""
    found = dates_in_name(path.name)
    if len(found) == 1:
        return found, False
    if len(found) == 2 and found[0] <= found[1]:
        span = (found[1] - found[0]).days + 1
        days = [found[0] + timedelta(days=i) for i in range(span)]
        return [d for d in days if d.weekday() < 5], True
    raise DataLayoutError(
        f"{path}: no date (or date range) in the file name; keep DataBento's names, "
        f"e.g. opra-pillar-20240103.cbbo-1m.dbn.zst"
    )


def _query_symbols(job: Path) -> list[str]:
    path = job / METADATA_JSON
    if not path.is_file():
        return []
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise DataLayoutError(f"{path}: not readable JSON ({exc}); re-download the job") from exc
    query: Any = doc.get("query", doc) if isinstance(doc, dict) else {}
    symbols = query.get("symbols", []) if isinstance(query, dict) else []
    if isinstance(symbols, str):
        symbols = symbols.split(",")
    out = []
    for sym in symbols:
        root = str(sym).strip().upper().split(".")[0]
        if root and root != "ALL_SYMBOLS":
            out.append(underlying_of_root(root))
    return out


def _symbol_map(jobs: Sequence[Path], definitions: Iterable[Path]) -> SymbolMap | None:
    mapping: SymbolMap | None = None
    for job in jobs:
        if (job / SYMBOLOGY_JSON).is_file():
            one = SymbolMap.from_symbology_json(job / SYMBOLOGY_JSON)
            mapping = one if mapping is None else mapping.merged(one)
    if mapping is None:
        for path in definitions:
            one = definition_symbols(path)
            mapping = one if mapping is None else mapping.merged(one)
    return mapping


def _by_day(paths: Iterable[Path], ranges: set[date] | None = None) -> dict[date, Path]:
    out: dict[date, Path] = {}
    for path in sorted(paths):
        days, is_range = _days_of(path)
        for day in days:
            other = out.get(day)
            if other is not None and not same_day_twice(other, path):
                raise DataLayoutError(
                    f"{path.parent}: two files for {day}: {other.name} and {path.name}; keep one"
                )
            if other is None or path.name.endswith(".zst"):
                out[day] = path
            if is_range and ranges is not None:
                ranges.add(day)
    return out


def discover_jobs(root: Path, wanted: Sequence[str] | None) -> dict[str, SymbolFiles]:
    """Find every underlying's files in the job folder(s) under ``root``."""
    jobs = _job_dirs(root)
    by_schema: dict[str, list[Path]] = {}
    for job in jobs:
        for path in sorted(p for p in job.iterdir() if is_data_file(p)):
            by_schema.setdefault(schema_of_name(path.name) or "", []).append(path)
    quotes = by_schema.get("cbbo-1m", [])
    if not quotes:
        other = sorted(k for k in by_schema if k)
        hint = " (cbbo-1s is 1-second data, not 1-minute)" if "cbbo-1s" in other else ""
        raise DataLayoutError(
            f"{root}: job folder(s) hold no cbbo-1m files (found: {', '.join(other) or 'none'}){hint}; "
            f"download the cbbo-1m schema"
        )
    ranges: set[date] = set()
    cbbo = _by_day(quotes, ranges)
    all_bars = by_schema.get("ohlcv-1m", [])
    bar_files = [p for p in all_bars if not p.name.lower().startswith(_OPTION_DATASETS)]
    option_bars = [p for p in all_bars if p not in bar_files]
    bars_days = _by_day(p for p in bar_files if len(dates_in_name(p.name)) == 1)
    bars_multi = [p for p in bar_files if len(dates_in_name(p.name)) != 1]
    stat_files = by_schema.get("statistics", [])
    statistics = _by_day(p for p in stat_files if len(dates_in_name(p.name)) == 1)
    notes = tuple(
        f"{p}: a statistics file spanning several days cannot say which day's open interest is which: "
        f"left out; download statistics with split_duration=day"
        for p in stat_files
        if len(dates_in_name(p.name)) != 1
    )
    if option_bars:
        notes += (
            f"{option_bars[0].parent}: {len(option_bars)} OPRA ohlcv-1m file(s) are option bars, not the "
            f"underlying's: left out (the underlying's bars come from an equities job, e.g. XNAS.ITCH)",
        )
    try:
        symbol_map = _symbol_map(jobs, by_schema.get("definition", []))
    except DataFileError as exc:
        raise DataLayoutError(str(exc)) from exc
    underlyings = list(wanted) if wanted else sorted({u for job in jobs for u in _query_symbols(job)})
    if not underlyings:
        underlyings = [symbol_of_cbbo(cbbo[min(cbbo)]).upper()]
    return {
        sym: SymbolFiles(
            symbol=sym,
            cbbo=dict(cbbo),
            bars_days=dict(bars_days),
            bars_multi=list(bars_multi),
            statistics=dict(statistics),
            range_days=frozenset(ranges),
            symbol_map=symbol_map,
            notes=notes,
        )
        for sym in underlyings
    }
