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

A file's date is the one ``YYYY-MM-DD`` or ``YYYYMMDD`` in its name, so DataBento's own
names (``opra-pillar-20240103.cbbo-1m.csv.zst``) work too. A bars file whose name holds no
date or a date range is a multi-day file. When a day has both ``.csv`` and ``.csv.zst``,
the ``.csv`` is used (no decompression).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from feeds.databento.textio import DataFileError, TextStream, split_header
from options_scalper.occ import InvalidSymbolError, parse_occ

CBBO_DIR = "cbbo-1m"
BARS_DIR = "ohlcv-1m"
STATISTICS_DIR = "statistics"
_EXPECTED = (
    "expected DIR/<SYMBOL>/cbbo-1m/<YYYY-MM-DD>.csv[.zst] (bars in DIR/<SYMBOL>/ohlcv-1m/) "
    "or a flat folder of <YYYY-MM-DD>.csv[.zst] cbbo days"
)
_DATE_RE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


class DataLayoutError(DataFileError):
    """A data folder does not have a layout this toolkit can read."""


@dataclass(frozen=True)
class SymbolFiles:
    """The files of one underlying: cbbo/bars/statistics days and multi-day bars files."""

    symbol: str
    cbbo: dict[date, Path] = field(default_factory=dict)
    bars_days: dict[date, Path] = field(default_factory=dict)
    bars_multi: list[Path] = field(default_factory=list)
    statistics: dict[date, Path] = field(default_factory=dict)

    @property
    def days(self) -> list[date]:
        return sorted(self.cbbo)


def _is_csv(path: Path) -> bool:
    name = path.name.lower()
    return (
        path.is_file() and not name.startswith(".") and (name.endswith(".csv") or name.endswith(".csv.zst"))
    )


def dates_in_name(name: str) -> list[date]:
    """Return the valid calendar dates written in a file name (``2024-01-03`` or ``20240103``)."""
    found = []
    for y, m, d in _DATE_RE.findall(name):
        try:
            found.append(date(int(y), int(m), int(d)))
        except ValueError:
            continue
    return found


def _day_files(folder: Path, *, multi: list[Path] | None = None) -> dict[date, Path]:
    """Map day -> file in ``folder``; files without exactly one date go to ``multi`` (or are ignored)."""
    out: dict[date, Path] = {}
    for path in sorted(p for p in folder.iterdir() if _is_csv(p)):
        days = dates_in_name(path.name)
        if len(days) != 1:
            if multi is not None:
                multi.append(path)
            continue
        day = days[0]
        other = out.get(day)
        if other is None:
            out[day] = path
        elif _same_day_twice(other, path):
            out[day] = min(other, path, key=lambda p: p.name.endswith(".zst"))
        else:
            raise DataLayoutError(
                f"{folder}: two files for {day}: {other.name} and {path.name}; keep one of them"
            )
    return out


def _same_day_twice(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are the same file, compressed and not (``x.csv`` / ``x.csv.zst``)."""
    strip = {a.name.removesuffix(".zst"), b.name.removesuffix(".zst")}
    return len(strip) == 1


def symbol_of_cbbo(path: Path) -> str:
    """Return the underlying of the first data row's OCC symbol in a cbbo file."""
    with TextStream(path) as stream:
        head = stream.peek(1 << 16)
    header, rows = split_header(path, head, whole=len(head) < (1 << 16))
    if "symbol" not in header:
        raise DataLayoutError(f"{path}: no 'symbol' column to infer the underlying from; pass the symbol")
    col = header.index("symbol")
    for row in rows:
        if len(row) == len(header):
            try:
                return parse_occ(row[col].strip()).underlying
            except InvalidSymbolError:
                continue
    raise DataLayoutError(
        f"{path}: no OCC symbol in the first rows to infer the underlying from; pass the symbol"
    )


def _symbol_files(symbol: str, root: Path, cbbo: dict[date, Path]) -> SymbolFiles:
    multi: list[Path] = []
    bars = _day_files(root / BARS_DIR, multi=multi) if (root / BARS_DIR).is_dir() else {}
    stats = _day_files(root / STATISTICS_DIR) if (root / STATISTICS_DIR).is_dir() else {}
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
        cbbo = _day_files(sub / CBBO_DIR)
        if not cbbo:
            raise DataLayoutError(f"{sub / CBBO_DIR}: no <YYYY-MM-DD>.csv[.zst] day files; {_EXPECTED}")
        found[name] = _symbol_files(name, sub, cbbo)

    if not folders:
        flat = _day_files(root)
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
