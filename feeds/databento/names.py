"""Data file names and what they say: encodings, dates, schemas; the per-symbol file set.

Shared by ``layout`` (the project's own folders) and ``jobs`` (DataBento job folders).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from feeds.databento.dbn import DbnFile, is_dbn
from feeds.databento.symbology import SymbolMap
from feeds.databento.textio import DataFileError, TextStream, split_header
from options_scalper.occ import InvalidSymbolError, parse_occ

CBBO_DIR = "cbbo-1m"
BARS_DIR = "ohlcv-1m"
STATISTICS_DIR = "statistics"


class DataLayoutError(DataFileError):
    """A data folder does not have a layout this toolkit can read."""


_DATE_RE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


@dataclass(frozen=True)
class SymbolFiles:
    """The files of one underlying: cbbo/bars/statistics days and multi-day bars files.

    ``range_days`` are the cbbo days that come from a range file (a non-session weekday
    in one is no error); ``symbol_map`` maps instrument ids for files without symbols;
    ``notes`` are what discovery left
    out and why (an empty ``cbbo-1m/`` folder, a multi-day statistics file).
    """

    symbol: str
    cbbo: dict[date, Path] = field(default_factory=dict)
    bars_days: dict[date, Path] = field(default_factory=dict)
    bars_multi: list[Path] = field(default_factory=list)
    statistics: dict[date, Path] = field(default_factory=dict)
    range_days: frozenset[date] = frozenset()
    symbol_map: SymbolMap | None = None
    notes: tuple[str, ...] = ()

    @property
    def days(self) -> list[date]:
        return sorted(self.cbbo)


DATA_SUFFIXES = (".csv", ".csv.zst", ".dbn", ".dbn.zst")
_PREFERENCE = (".dbn.zst", ".csv.zst", ".dbn", ".csv")  # the first one present wins for a day


def is_data_file(path: Path) -> bool:
    """True for a data file (CSV or DBN, plain or zstd); hidden files are ignored."""
    name = path.name.lower()
    return path.is_file() and not name.startswith(".") and name.endswith(DATA_SUFFIXES)


def _stem(path: Path) -> str:
    name = path.name.lower()
    for suffix in _PREFERENCE:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _rank(path: Path) -> int:
    name = path.name.lower()
    return next(i for i, suffix in enumerate(_PREFERENCE) if name.endswith(suffix))


def dates_in_name(name: str) -> list[date]:
    """Return the valid calendar dates written in a file name (``2024-01-03`` or ``20240103``)."""
    found = []
    for y, m, d in _DATE_RE.findall(name):
        try:
            found.append(date(int(y), int(m), int(d)))
        except ValueError:
            continue
    return found


def day_files(folder: Path, *, multi: list[Path] | None = None) -> dict[date, Path]:
    """Map day -> file in ``folder``; files without exactly one date go to ``multi`` (or are ignored)."""
    out: dict[date, Path] = {}
    for path in sorted(p for p in folder.iterdir() if is_data_file(p)):
        days = dates_in_name(path.name)
        if len(days) != 1:
            if multi is not None:
                multi.append(path)
            continue
        day = days[0]
        other = out.get(day)
        if other is None:
            out[day] = path
        elif same_day_twice(other, path):
            out[day] = min(other, path, key=_rank)
        else:
            raise DataLayoutError(
                f"{folder}: two files for {day}: {other.name} and {path.name}; keep one of them"
            )
    return out


def same_day_twice(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are one day in two encodings (``x.csv`` / ``x.csv.zst`` / ``x.dbn.zst``)."""
    return _stem(a) == _stem(b)


def symbol_of_cbbo(path: Path) -> str:
    """Return the underlying of the first data row's OCC symbol in a cbbo file (CSV or DBN)."""
    if is_dbn(path):
        return _symbol_of_dbn(path)
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


def _symbol_of_dbn(path: Path) -> str:
    with DbnFile(path, "cbbo-1m") as dbn:
        metadata = dbn.header.metadata
    for raw in [*metadata.symbols, *metadata.mappings]:
        try:
            return parse_occ(str(raw).strip()).underlying
        except InvalidSymbolError:
            continue
    raise DataLayoutError(
        f"{path}: no OCC symbol in the DBN metadata to infer the underlying from; pass the symbol"
    )
