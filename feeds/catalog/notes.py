"""Data caveats of a set of catalog days, one line each, for the backtest report; the day-summary table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import pandas as pd

from feeds.schema import BAR_DROP_REASONS, DROP_REASONS

MAX_LISTED_DAYS = 5
NOTE_DROP_SHARE = 0.01  # quote drops above this share of the rows get a line (per-day counts: day_summary)
DIRTY_SHARE = 0.20  # a day with more crossed rows than this share of its input is "mostly dirty"
MIN_BAR_SHARE = 0.90  # fewer session bars than this share of the minutes is "bars missing"


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
    notes.extend(_quality_notes(symbol, present))
    empty = [d for d, s in present.items() if not s.get("rows_out")]
    if empty:
        notes.append(
            f"{symbol} {_days_text(empty)}: no tradable quotes within the DTE and strike band filters"
        )
    return notes


def _quality_notes(symbol: str, present: Mapping[date, Mapping[str, Any]]) -> list[str]:
    """Quote drops by kind, dirty days, bad or missing underlying bars, unreadable statistics."""
    notes: list[str] = []
    rows_in = sum(int(s.get("rows_in") or 0) for s in present.values())
    drops = {r: sum(int(s.get(f"dropped_{r}") or 0) for s in present.values()) for r in DROP_REASONS}
    if rows_in and sum(drops.values()) > NOTE_DROP_SHARE * rows_in:
        kinds = ", ".join(f"{r} {n:,}" for r, n in drops.items() if n)
        notes.append(f"{symbol}: quote rows in {rows_in:,}, dropped {sum(drops.values()):,} ({kinds})")
    bad_symbols = {d: int(s.get("dropped_bad_symbol") or 0) for d, s in present.items()}
    if any(bad_symbols.values()):
        days = sorted(d for d, n in bad_symbols.items() if n)
        example = next(
            (present[d].get("bad_symbol_example") for d in days if present[d].get("bad_symbol_example")), "?"
        )
        notes.append(
            f"{symbol} {_days_text(days)}: {sum(bad_symbols.values()):,} rows with malformed option symbols "
            f"dropped, e.g. {example!r}"
        )
    dirty = [
        d
        for d, s in present.items()
        if int(s.get("rows_in") or 0) and int(s.get("dropped_crossed") or 0) > DIRTY_SHARE * int(s["rows_in"])
    ]
    if dirty:
        notes.append(
            f"{symbol} {_days_text(dirty)}: mostly dirty quotes (more than {DIRTY_SHARE:.0%} of rows crossed): "
            f"check the source before trusting these days"
        )
    bad_bars: dict[date, int] = {
        d: n
        for d, s in present.items()
        if (n := sum(int(s.get(f"bars_dropped_{k}") or 0) for k in BAR_DROP_REASONS))
    }
    if bad_bars:
        notes.append(
            f"{symbol} {_days_text(sorted(bad_bars))}: {sum(bad_bars.values())} bad underlying bar(s) dropped "
            f"(NaN, zero/negative or high < low): those days trade on without them"
        )
    short = [
        d
        for d, s in present.items()
        if s.get("underlying_source") == "bars"
        and s.get("bars_expected")
        and int(s.get("bars_present") or 0) < MIN_BAR_SHARE * int(s["bars_expected"])
    ]
    if short:
        worst = min(int(present[d]["bars_present"]) for d in short)
        notes.append(
            f"{symbol} {_days_text(short)}: underlying bars missing for more than {1 - MIN_BAR_SHARE:.0%} of the "
            f"session minutes (as few as {worst}): signals on those days see gaps"
        )
    shifted = [
        d
        for d, s in present.items()
        if s.get("bars_expected")
        and int(s.get("bars_present") or 0) < 0.5 * int(s["bars_expected"])
        and int(s.get("bars_in_file") or 0) >= 0.5 * int(s["bars_expected"])
    ]
    if shifted:
        notes.append(
            f"{symbol} {_days_text(shifted)}: most underlying bars fall outside the 09:30-16:00 ET session after "
            f"reading their times: pass --bars-tz with the bar file's time zone"
        )
    cut = [d for d, s in present.items() if s.get("last_line_cut")]
    if cut:
        notes.append(
            f"{symbol} {_days_text(cut)}: the quote file's last line is cut (no final newline): the download "
            f"looks truncated, rows may be missing; re-download it"
        )
    stats_bad = [d for d, s in present.items() if s.get("statistics_error")]
    if stats_bad:
        first = present[stats_bad[0]]["statistics_error"]
        notes.append(
            f"{symbol} {_days_text(stats_bad)}: statistics file unreadable, open interest skipped ({first})"
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


def summary_frame(entries: Iterable[dict[str, Any] | None]) -> pd.DataFrame:
    """One row per manifest entry: ATM IV, underlying source, OI flags, row and drop counts, ..."""
    rows = []
    for entry in entries:
        if entry is None:
            continue
        row = {"date": date.fromisoformat(entry["date"]), "symbol": entry["symbol"], **entry["summary"]}
        row["source_fingerprint"] = "|".join(f"{k}={v}" for k, v in sorted(entry["sources"].items()))
        row["settings"] = ",".join(f"{k}={v}" for k, v in sorted(entry["settings"].items()))
        row["quotes_bytes"] = entry["files"].get("quotes", {}).get("size", 0)
        row["ingested_at"] = entry["ingested_at"]
        rows.append(row)
    columns = [
        "date",
        "symbol",
        "atm_iv_30d",
        "underlying_source",
        "oi_known",
        "volume_known",
        "rows_in",
        "rows_out",
        *(f"dropped_{r}" for r in DROP_REASONS),
        "source_fingerprint",
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    rest = [c for c in frame.columns if c not in columns]
    return frame[[*columns, *rest]].sort_values("date").reset_index(drop=True)
