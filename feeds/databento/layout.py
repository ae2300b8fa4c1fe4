"""Find the data files under a ``--data DIR``.

Two layouts are recognised:

* per symbol (preferred)::

      DIR/<SYMBOL>/cbbo-1m/<YYYY-MM-DD>.csv[.zst]      option quotes, one file per day
      DIR/<SYMBOL>/ohlcv-1m/<YYYY-MM-DD>.csv[.zst]     underlying bars per day, and/or
      DIR/<SYMBOL>/ohlcv-1m/<anything>.csv[.zst]       one multi-day bars file
      DIR/<SYMBOL>/statistics/<YYYY-MM-DD>.csv[.zst]   optional open interest / volume

* flat (seed 003): ``DIR/<YYYY-MM-DD>.csv[.zst]`` cbbo days of ONE symbol, optionally with
  ``DIR/ohlcv-1m/`` and ``DIR/statistics/`` beside them. The symbol is the one given, or
  the underlying of the OCC root in the first data row of the first day.

* DataBento job folders as unpacked (see ``feeds.databento.jobs``): ``DIR`` is one job
  folder or holds several (``OPRA-20241106-4APD3MDYPJ/`` with ``metadata.json``); the
  schema and dates come from the file names (``.cbbo-1m.``, ``.ohlcv-1m.``, ``.statistics.``).

Files are ``.csv``, ``.csv.zst``, ``.dbn`` or ``.dbn.zst``. A file's date is the one
``YYYY-MM-DD`` or ``YYYYMMDD`` in its name, so DataBento's own names
(``opra-pillar-20240103.cbbo-1m.csv.zst``) work too. A cbbo file named with two dates is a
range file (``opra-pillar-20240101-20240131.cbbo-1m.dbn.zst``): every weekday in it is a day
of that file. A bars file whose name holds no date or a date range is a multi-day file.
When a day has the same file twice (``x.csv`` and ``x.csv.zst``), the compressed one is used:
its frames are checked, so a truncated copy cannot pass for whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from feeds.databento.jobs import discover_jobs, is_job_layout
from feeds.databento.names import (
    BARS_DIR,
    CBBO_DIR,
    STATISTICS_DIR,
    DataLayoutError,
    SymbolFiles,
    dates_in_name,
    day_files,
    symbol_of_cbbo,
)

__all__ = ["DataLayoutError", "SymbolFiles", "dates_in_name", "discover", "symbol_of_cbbo"]

_EXPECTED = (
    "expected DIR/<SYMBOL>/cbbo-1m/<YYYY-MM-DD>.csv[.zst] (bars in DIR/<SYMBOL>/ohlcv-1m/) "
    "or a flat folder of <YYYY-MM-DD>.csv[.zst] cbbo days"
)


def _symbol_files(symbol: str, root: Path, cbbo: dict[date, Path]) -> SymbolFiles:
    multi: list[Path] = []
    bars = day_files(root / BARS_DIR, multi=multi) if (root / BARS_DIR).is_dir() else {}
    stats = day_files(root / STATISTICS_DIR) if (root / STATISTICS_DIR).is_dir() else {}
    return SymbolFiles(symbol=symbol, cbbo=cbbo, bars_days=bars, bars_multi=multi, statistics=stats)


def discover(data_dir: str | Path, symbols: Sequence[str] | None = None) -> dict[str, SymbolFiles]:
    """Find every symbol's files under ``data_dir``; keys are upper-case symbols.

    ``symbols`` restricts (and, for a flat folder, names) the symbols; each one asked for
    must be found. Raise ``DataLayoutError`` naming the folder and the expected layout.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DataLayoutError(f"{root}: no such folder; {_EXPECTED}")
    wanted = [s.strip().upper() for s in symbols] if symbols else None

    found: dict[str, SymbolFiles] = {}
    folders = sorted(p for p in root.iterdir() if p.is_dir() and (p / CBBO_DIR).is_dir())
    for sub in folders:
        name = sub.name.upper()
        if wanted is not None and name not in wanted:
            continue
        cbbo = day_files(sub / CBBO_DIR)
        if not cbbo:
            note = f"{sub / CBBO_DIR}: no <YYYY-MM-DD>.csv[.zst] day files: {name} skipped"
            found[name] = SymbolFiles(symbol=name, notes=(note,))
            continue
        found[name] = _symbol_files(name, sub, cbbo)
    if folders and found and all(f.notes and not f.cbbo for f in found.values()):
        raise DataLayoutError(f"{folders[0] / CBBO_DIR}: no <YYYY-MM-DD>.csv[.zst] day files; {_EXPECTED}")

    if not folders and is_job_layout(root):
        found = discover_jobs(root, wanted)
    elif not folders:
        flat = day_files(root)
        if flat:
            if wanted is not None and len(wanted) > 1:
                raise DataLayoutError(
                    f"{root}: a flat folder holds one symbol, not {len(wanted)} ({', '.join(wanted)}); "
                    f"use DIR/<SYMBOL>/cbbo-1m/ folders"
                )
            name = wanted[0] if wanted else symbol_of_cbbo(flat[min(flat)]).upper()
            found[name] = _symbol_files(name, root, flat)

    if wanted is not None:
        missing = [s for s in wanted if s not in found]
        if missing:
            have = ", ".join(sorted(p.name.upper() for p in folders)) or "none"
            raise DataLayoutError(
                f"{root}: no cbbo-1m data for {', '.join(missing)} (found: {have}); {_EXPECTED}"
            )
    if not found:
        raise DataLayoutError(f"{root}: no cbbo-1m day files found; {_EXPECTED}")
    return found
