"""Data caveats of a set of catalog days, one line each, for the backtest report."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

MAX_LISTED_DAYS = 5


def _days_text(days: list[date]) -> str:
    shown = ", ".join(d.isoformat() for d in days[:MAX_LISTED_DAYS])
    more = len(days) - MAX_LISTED_DAYS
    return f"{shown} (+{more} more)" if more > 0 else shown


def data_notes(symbol: str, entries: Mapping[date, dict[str, Any] | None]) -> list[str]:
    """Return the caveats of ``entries`` (day -> manifest entry, None when the day is missing)."""
    notes: list[str] = []
    missing = sorted(d for d, e in entries.items() if e is None)
    present = {d: e["summary"] for d, e in sorted(entries.items()) if e is not None}
    if missing:
        notes.append(
            f"{symbol} {_days_text(missing)}: not in the catalog (no source file or not ingested): day(s) skipped"
        )
    if not present:
        return notes

    no_oi = [d for d, s in present.items() if not s.get("oi_known")]
    no_vol = [d for d, s in present.items() if not s.get("volume_known")]
    if len(no_oi) == len(present) and len(no_vol) == len(present):
        notes.append(
            f"{symbol}: open interest/volume unavailable (no statistics files): OI/volume filters skipped"
        )
    else:
        if no_oi:
            notes.append(
                f"{symbol} {_days_text(no_oi)}: open interest unavailable (no statistics file): OI filter skipped"
            )
        if no_vol:
            notes.append(f"{symbol} {_days_text(no_vol)}: option volume unavailable: volume filter skipped")

    parity = [d for d, s in present.items() if s.get("underlying_source") == "parity"]
    if parity:
        notes.append(
            f"{symbol} {_days_text(parity)}: underlying derived from put-call parity (no ohlcv-1m bars): "
            f"underlying volume rules skipped"
        )
    no_bar_volume = [
        d
        for d, s in present.items()
        if s.get("underlying_source") == "bars" and s.get("underlying_volume_known") is False
    ]
    if no_bar_volume:
        notes.append(
            f"{symbol} {_days_text(no_bar_volume)}: underlying bars carry no volume: "
            f"underlying volume rules skipped"
        )
    empty = [d for d, s in present.items() if not s.get("rows_out")]
    if empty:
        notes.append(
            f"{symbol} {_days_text(empty)}: no tradable quotes within the DTE and strike band filters"
        )
    return notes


def volume_skipped_notes(counts: Mapping[tuple[str, date], int]) -> list[str]:
    """One line per symbol: how many signals were decided with the volume rules skipped, on which days.

    ``counts`` maps (symbol, session) to the number of signals (triggers) that
    fired while the underlying's volume was unknown (strategies'
    ``volume_rules_skipped``); zero counts are left out.
    """
    by_symbol: dict[str, dict[date, int]] = {}
    for (symbol, day), n in counts.items():
        if n > 0:
            per_day = by_symbol.setdefault(symbol, {})
            per_day[day] = per_day.get(day, 0) + int(n)
    notes = []
    for symbol, days in sorted(by_symbol.items()):
        total = sum(days.values())
        notes.append(
            f"{symbol} {_days_text(sorted(days))}: {total} signal(s) decided without underlying volume: "
            f"volume rules skipped"
        )
    return notes
