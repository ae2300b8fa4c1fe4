"""Map DataBento ``instrument_id``s to their raw (OSI) symbols, per day.

Sources, as DataBento writes them:

* a DBN file's own metadata (``Metadata.mappings``: raw symbol -> date intervals of ids);
* a job folder's ``symbology.json`` (``result``: symbol -> ``[{d0, d1, s}]``, the
  ``symbology.resolve`` shape; a ``mappings`` shape like the metadata's is accepted too);
* ``definition`` records (``instrument_id`` -> ``raw_symbol``, from their ``ts_recv`` day on).

Intervals are UTC dates, end exclusive, as in DataBento's files. When both sides of a
mapping are ids the stype says which one is the instrument id, as ``databento`` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from feeds.databento.textio import DataFileError

NS_PER_DAY = 86_400 * 10**9
_EPOCH = date(1970, 1, 1)
_FOREVER = 2**40
UNMAPPED_PREFIX = "instrument_id "  # the symbol text of an id no mapping knows (dropped as bad_symbol)


def day_index(day: date) -> int:
    """Days since 1970-01-01 (the UTC day of a nanosecond timestamp is ``ts // NS_PER_DAY``)."""
    return (day - _EPOCH).days


def _to_day(value: object) -> int:
    if isinstance(value, date):
        return day_index(value)
    return day_index(date.fromisoformat(str(value)[:10]))


class SymbolMap:
    """``instrument_id`` -> raw symbol per UTC day; build with the ``from_*`` constructors."""

    def __init__(self, entries: Iterable[tuple[int, int, int, str]] = (), source: str = "") -> None:
        rows = sorted(entries, key=lambda e: (e[1], e[0]))
        self.source = source
        self._ids = np.array([r[0] for r in rows], dtype=np.int64)
        self._start = np.array([r[1] for r in rows], dtype=np.int64)
        self._end = np.array([r[2] for r in rows], dtype=np.int64)
        self._symbols = np.array([r[3] for r in rows], dtype=object)
        self._days: dict[int, tuple[np.ndarray, pa.Array]] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def merged(self, other: SymbolMap) -> SymbolMap:
        """This map with ``other``'s entries added (later starts win for the same id)."""
        mine = zip(self._ids.tolist(), self._start.tolist(), self._end.tolist(), self._symbols, strict=True)
        theirs = zip(
            other._ids.tolist(), other._start.tolist(), other._end.tolist(), other._symbols, strict=True
        )
        names = " + ".join(s for s in (self.source, other.source) if s)
        return SymbolMap([*mine, *theirs], names)

    @classmethod
    def from_metadata(cls, metadata: Any, source: str = "DBN metadata") -> SymbolMap:
        """Read ``databento_dbn.Metadata.mappings`` (stype_in -> stype_out intervals)."""
        ids_in = str(getattr(metadata, "stype_in", "")) == "instrument_id"
        return cls(_intervals(metadata.mappings, ids_in, "start_date", "end_date", "symbol"), source)

    @classmethod
    def from_symbology_json(cls, path: Path) -> SymbolMap:
        """Read a job's ``symbology.json`` (``result`` with d0/d1/s, or ``mappings``)."""
        try:
            doc = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise DataFileError(
                f"{path}: not readable JSON ({exc}); re-download the job's symbology.json"
            ) from exc
        if not isinstance(doc, dict):
            raise DataFileError(f"{path}: not a DataBento symbology.json (no 'result'); re-download it")
        ids_in = str(doc.get("stype_in", "")) == "instrument_id"
        if isinstance(doc.get("result"), dict):
            entries = _intervals(doc["result"], ids_in, "d0", "d1", "s")
        elif isinstance(doc.get("mappings"), dict):
            entries = _intervals(doc["mappings"], ids_in, "start_date", "end_date", "symbol")
        else:
            raise DataFileError(f"{path}: not a DataBento symbology.json (no 'result'); re-download it")
        return cls(entries, str(path))

    @classmethod
    def from_definitions(
        cls, ids: Sequence[int], ts_recv: Sequence[int], raw: Sequence[str], source: str
    ) -> SymbolMap:
        """Build from definition records: each id maps to its raw symbol from its ``ts_recv`` day on."""
        entries = [
            (int(i), int(t) // NS_PER_DAY, _FOREVER, s.strip())
            for i, t, s in zip(ids, ts_recv, raw, strict=True)
            if s.strip()
        ]
        return cls(entries, source)

    def _for_day(self, day: int) -> tuple[np.ndarray, pa.Array]:
        """The day's ids (sorted) and their raw symbols as an Arrow string array, cached per day."""
        hit = self._days.get(day)
        if hit is None:
            live = (self._start <= day) & (day < self._end)
            ids, symbols = self._ids[live], self._symbols[live]
            # the latest interval for an id wins: keep its last row (rows are sorted by start)
            _, first = np.unique(ids[::-1], return_index=True)
            keep = len(ids) - 1 - first
            hit = (ids[keep], pa.array(symbols[keep].tolist(), pa.string()))
            self._days[day] = hit
        return hit

    def dictionary(self, ids: np.ndarray, ts: np.ndarray) -> pa.DictionaryArray:
        """Return each row's raw symbol as a dictionary array; unknown ids read ``instrument_id N``.

        ``ts`` (int64 ns, UTC) picks the day of each row; undefined ones use the chunk's first day.
        The dictionary is the day's whole symbol list (cached), so a chunk costs one
        ``searchsorted`` per row and no sort.
        """
        n = len(ids)
        if n == 0:
            return pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array([], pa.string()))
        days = ts // NS_PER_DAY
        valid = (ts > 0) & (ts < np.iinfo(np.int64).max)
        if not valid.all():
            fallback = int(days[valid][0]) if valid.any() else 0
            days = np.where(valid, days, fallback)
        codes = np.empty(n, dtype=np.int32)
        parts: list[pa.Array] = []
        offset = 0
        lo, hi = int(days.min()), int(days.max())
        for day in range(lo, hi + 1) if hi - lo < 8 else np.unique(days).tolist():
            rows = slice(None) if lo == hi else np.flatnonzero(days == day)
            day_ids = ids[rows]
            if len(day_ids) == 0:
                continue
            known_ids, known_syms = self._for_day(int(day))
            if len(known_ids):
                pos = np.minimum(np.searchsorted(known_ids, day_ids), len(known_ids) - 1)
                found = known_ids[pos] == day_ids
            else:
                pos, found = np.zeros(len(day_ids), np.int64), np.zeros(len(day_ids), bool)
            day_codes = pos.astype(np.int32) + offset
            parts.append(known_syms)
            offset += len(known_syms)
            if not found.all():
                unknown, inverse = np.unique(day_ids[~found], return_inverse=True)
                day_codes[~found] = inverse.astype(np.int32) + offset
                parts.append(pa.array([f"{UNMAPPED_PREFIX}{u}" for u in unknown.tolist()], pa.string()))
                offset += len(unknown)
            codes[rows] = day_codes
        dictionary = parts[0] if len(parts) == 1 else pa.concat_arrays(parts)
        return pa.DictionaryArray.from_arrays(pa.array(codes), dictionary)


def _intervals(
    mappings: Mapping[str, Any], ids_in: bool, start_key: str, end_key: str, symbol_key: str
) -> list[tuple[int, int, int, str]]:
    out: list[tuple[int, int, int, str]] = []
    for key, intervals in mappings.items():
        for item in intervals or ():
            try:
                start, end = _to_day(item[start_key]), _to_day(item[end_key])
                other = str(item[symbol_key])
                iid, symbol = (int(key), other) if ids_in else (int(other), str(key))
            except (KeyError, TypeError, ValueError):
                continue
            if end <= start:  # a one-day interval written with equal ends
                end = start + 1
            out.append((iid, start, end, symbol.strip()))
    return out
