"""Seed 003's dataset split as a feature: ``--split dev|validation|oos`` and a project file that moves it.

The default split is seed 003 section 6.1 (``analyzers.criteria``): development
2022-01-01..2023-12-31, validation 2024-01-01..2024-06-30, out-of-sample
2024-07-01..2025-12-31 (touched once). A project file ``scalper.toml`` in the
current folder (else beside the data) may move any of them::

    [splits]
    dev = { start = 2021-01-01, end = 2022-12-31 }
    oos = { start = "2024-07-01", end = "2025-06-30" }

Dates are TOML dates or ``YYYY-MM-DD`` strings; unknown keys are refused. A split
given with ``--start``/``--end`` runs on their intersection.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from analyzers.criteria import DEV_PERIOD, OOS_PERIOD, VALIDATION_PERIOD
from app.cli import one_line
from app.request import BadInput

PROJECT_FILENAME = "scalper.toml"
DEV = "dev"
OOS = "oos"
SPLIT_NAMES = (DEV, "validation", OOS)


@dataclass(frozen=True)
class Split:
    """One named date range of the dataset split (both ends inclusive)."""

    name: str
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise BadInput(f"split {self.name}: start {self.start} is after end {self.end}; swap them")

    def overlap(self, start: date | None, end: date | None) -> tuple[date, date] | None:
        """The part of ``[start, end]`` (None: open) inside this split, or None."""
        lo = self.start if start is None else max(self.start, start)
        hi = self.end if end is None else min(self.end, end)
        return (lo, hi) if lo <= hi else None

    def text(self) -> str:
        return f"{self.start}..{self.end}"


@dataclass(frozen=True)
class SplitTable:
    """The three splits of a project; ``source``: the project file they came from (None: seed 003)."""

    splits: tuple[Split, ...]
    source: Path | None = None

    def get(self, name: str) -> Split:
        for s in self.splits:
            if s.name == name:
                return s
        raise BadInput(f"--split {name!r}: not a split; use one of {', '.join(SPLIT_NAMES)}")

    def touched(self, start: date, end: date) -> tuple[tuple[Split, date, date], ...]:
        """Each split that ``[start, end]`` overlaps, with the overlapping range."""
        out = []
        for s in self.splits:
            part = s.overlap(start, end)
            if part is not None:
                out.append((s, *part))
        return tuple(out)


DEFAULT_SPLITS = SplitTable(
    (
        Split(DEV, *DEV_PERIOD),
        Split("validation", *VALIDATION_PERIOD),
        Split(OOS, *OOS_PERIOD),
    )
)


def find_project_file(data_dir: Path | None, cwd: Path | None = None) -> Path | None:
    """``./scalper.toml`` if present, else ``<data_dir>/scalper.toml``, else None."""
    for folder in (cwd or Path.cwd(), data_dir):
        if folder is not None and (folder / PROJECT_FILENAME).is_file():
            return folder / PROJECT_FILENAME
    return None


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadInput(f"{where} = {value!r}: not a date; write YYYY-MM-DD") from None


def splits_from_mapping(table: Mapping[str, Any], source: Path | None) -> SplitTable:
    """The default split with the entries of a ``[splits]`` table over it."""
    where = str(source or PROJECT_FILENAME)
    unknown = sorted(set(table) - set(SPLIT_NAMES))
    if unknown:
        raise BadInput(f"{where}: [splits] {unknown[0]!r} is not a split; use {', '.join(SPLIT_NAMES)}")
    splits = []
    for base in DEFAULT_SPLITS.splits:
        entry = table.get(base.name)
        if entry is None:
            splits.append(base)
            continue
        if not isinstance(entry, Mapping) or set(entry) - {"start", "end"}:
            raise BadInput(
                f"{where}: [splits] {base.name} must be {{ start = YYYY-MM-DD, end = YYYY-MM-DD }}"
            )
        start = _date(entry["start"], f"{where}: {base.name}.start") if "start" in entry else base.start
        end = _date(entry["end"], f"{where}: {base.name}.end") if "end" in entry else base.end
        try:
            splits.append(Split(base.name, start, end))
        except BadInput as exc:
            raise BadInput(f"{where}: {exc}") from None
    ordered = sorted(splits, key=lambda s: s.start)
    for a, b in itertools.pairwise(ordered):
        if b.start <= a.end:
            raise BadInput(
                f"{where}: splits {a.name} ({a.text()}) and {b.name} ({b.text()}) overlap; fix one"
            )
    return SplitTable(tuple(splits), source)


def load_splits(path: Path | None) -> SplitTable:
    """The split of the project file at ``path`` (None: seed 003's)."""
    if path is None:
        return DEFAULT_SPLITS
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read the project file ({one_line(exc)}); fix or remove it") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: not valid TOML ({one_line(exc)}); fix or remove it") from None
    table = document.get("splits", {})
    if not isinstance(table, Mapping):
        raise BadInput(f"{path}: 'splits' must be a table ([splits]); fix or remove it")
    return splits_from_mapping(table, path)


def split_range(table: SplitTable, name: str, start: date | None, end: date | None) -> tuple[date, date]:
    """The dates a ``--split name`` run covers: the split intersected with ``--start``/``--end``."""
    split = table.get(name)
    part = split.overlap(start, end)
    if part is None:
        asked = f"{start or 'the start'}..{end or 'the end'}"
        raise BadInput(
            f"--split {name} is {split.text()} but --start/--end ask for {asked}: they do not overlap; "
            "drop --start/--end or change them"
        )
    return part


def with_split(req: Any, table: SplitTable) -> Any:
    """``req`` (a ``RunRequest``) with its dates narrowed to its ``--split`` (unchanged without one)."""
    if req.split is None:
        return req
    start, end = split_range(table, req.split, req.start, req.end)
    return replace(req, start=start, end=end)
