"""Ingest settings, the ingest summary and the catalog's error type."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeds.schema import DROP_REASONS
from options_scalper.model import ScalperError


class CatalogError(ScalperError):
    """The catalog cannot do what was asked (missing day, bad folder, bad setting)."""


class SourceFileError(CatalogError):
    """A source file other than the day's CBBO file (bars, statistics) could not be read."""

    def __init__(self, path: Path, cause: BaseException) -> None:
        super().__init__(f"{path}: {' '.join(str(cause).split()) or type(cause).__name__}")
        self.path = path
        self.cause = cause


# 2: statistics rows carry their publication time (no look-ahead on open interest / volume)
CATALOG_FORMAT = 2


@dataclass(frozen=True)
class IngestSettings:
    """What an ingest keeps of each source day.

    ``max_dte``: keep expiries at most this many calendar days after the session
    date. ``strike_band_pct``: keep strikes within [low * (1 - b), high * (1 + b)]
    of the underlying's regular-session range (0.10 = 10%). ``rate``: risk-free
    rate (annual, continuous) for put-call parity and the ATM implied volatility.
    ``bars_tz``: the zone of a vendor bar file's naive times (DataBento files are UTC).
    """

    max_dte: int = 5
    strike_band_pct: float = 0.10
    rate: float = 0.05
    bars_tz: str = "America/New_York"

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_dte, bool)
            or not isinstance(self.max_dte, int)
            or not 0 <= self.max_dte <= 366
        ):
            raise CatalogError(f"max_dte must be a whole number of days in 0..366, got {self.max_dte!r}")
        band = self.strike_band_pct
        if not isinstance(band, int | float) or not math.isfinite(band) or not 0 < band < 1:
            raise CatalogError(f"strike_band_pct must be a fraction in (0, 1) (0.10 = 10%), got {band!r}")
        if not isinstance(self.rate, int | float) or not math.isfinite(self.rate) or not -0.1 < self.rate < 1:
            raise CatalogError(f"rate must be an annual fraction in (-0.1, 1) (0.05 = 5%), got {self.rate!r}")
        try:
            ZoneInfo(self.bars_tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise CatalogError(
                f"bars_tz must be an IANA time zone such as America/New_York or UTC, got {self.bars_tz!r}"
            ) from None

    def as_dict(self) -> dict[str, Any]:
        values = {k: (float(v) if isinstance(v, float) else v) for k, v in asdict(self).items()}
        return {**values, "catalog_format": CATALOG_FORMAT}


@dataclass
class DayFailure:
    """One source day that could not be ingested."""

    symbol: str
    day: str
    path: str
    message: str

    def line(self) -> str:
        return f"{self.symbol} {self.day}: {self.message}"


@dataclass
class IngestSummary:
    """What one ``Catalog.ingest`` call did."""

    ingested: int = 0
    skipped: int = 0
    failed: int = 0
    not_sessions: int = 0  # weekdays of range files that are no NYSE session (holidays)
    rows_in: int = 0
    rows_out: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    failures: list[DayFailure] = field(default_factory=list)

    def summary_line(self) -> str:
        drops = ", ".join(f"{r} {self.dropped[r]:,}" for r in DROP_REASONS if self.dropped.get(r))
        line = (
            f"catalog: {self.ingested} day(s) ingested, {self.skipped} skipped (up to date), "
            f"{self.failed} failed; rows in {self.rows_in:,}, rows out {self.rows_out:,}; "
            f"dropped: {drops or 'none'}; {self.seconds:.1f} s"
        )
        return line
