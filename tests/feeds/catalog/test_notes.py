"""Data notes of the report: parity days, bars without volume, signals decided without volume."""

from __future__ import annotations

from datetime import date

from feeds.catalog.notes import data_notes, volume_skipped_notes

D1, D2, D3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)


def entry(**summary: object) -> dict[str, object]:
    base = {"oi_known": True, "volume_known": True, "rows_out": 10, "underlying_source": "bars"}
    return {"summary": {**base, **summary}}


def test_parity_days_note_says_volume_rules_are_skipped():
    notes = data_notes(
        "SPY", {D1: entry(), D2: entry(underlying_source="parity", underlying_volume_known=False)}
    )
    assert notes == [
        "SPY 2024-01-03: underlying derived from put-call parity (no ohlcv-1m bars): "
        "underlying volume rules skipped"
    ]


def test_bars_without_volume_get_their_own_note():
    notes = data_notes(
        "SPY", {D1: entry(underlying_volume_known=False), D2: entry(underlying_volume_known=True)}
    )
    assert notes == ["SPY 2024-01-02: underlying bars carry no volume: underlying volume rules skipped"]


def test_older_manifests_without_the_flag_get_no_volume_note():
    assert data_notes("SPY", {D1: entry()}) == []


def test_volume_skipped_notes_one_line_per_symbol_with_days_and_total():
    counts = {("SPY", D2): 3, ("SPY", D1): 2, ("TSLA", D3): 0, ("QQQ", D3): 1}
    assert volume_skipped_notes(counts) == [
        "QQQ 2024-01-04: 1 signal(s) decided without underlying volume: volume rules skipped",
        "SPY 2024-01-02, 2024-01-03: 5 signal(s) decided without underlying volume: volume rules skipped",
    ]
    assert volume_skipped_notes({}) == []
