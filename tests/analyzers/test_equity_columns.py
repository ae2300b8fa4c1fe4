"""Run-length per-bar equity columns: every value back bit for bit, memory by changes not by bars."""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analyzers.equity import EquityTracker, RunColumn, StepColumn

NAN, INF = float("nan"), float("inf")


def bits(values: list[float]) -> list[bytes]:
    return [struct.pack("<d", v) for v in values]


TABLES = {
    "flat": [5.0] * 7,
    "signed_zeros": [0.0, 0.0, -0.0, -0.0, 0.0],
    "nan_and_inf": [NAN, NAN, 1.0, INF, INF, -INF, NAN],
    "changing": [1.0, 1.5, 1.5, 2.25, 1.0, 1.0],
    "minutes_and_gaps": [60.0 * k for k in range(5)] + [86_400.0 + 60.0 * k for k in range(4)],
    "uneven_fractions": [0.1, 0.2, 0.30000000000000004, 0.4, 0.7, 1.0, 1.3],
    "empty": [],
}


@pytest.mark.parametrize("column", [RunColumn, StepColumn])
@pytest.mark.parametrize("name", sorted(TABLES))
def test_column_gives_back_every_appended_value_bit_for_bit(column: type, name: str) -> None:
    col = column()
    for v in TABLES[name]:
        col.append(v)
    assert len(col) == len(TABLES[name])
    assert bits(col.tolist()) == bits(TABLES[name])


@pytest.mark.parametrize("column", [RunColumn, StepColumn])
def test_column_pop_drops_exactly_the_last_value(column: type) -> None:
    values = [60.0, 120.0, 180.0, 180.0, 7.5, 7.5, 9.0]
    col, ref = column(), []
    for v in values:
        col.append(v)
        ref.append(v)
        if v in (180.0, 7.5):  # pop then re-append, as a repeated instant does
            col.pop()
            ref.pop()
            col.append(v)
            ref.append(v)
    for _ in range(len(values)):
        assert bits(col.tolist()) == bits(ref)
        col.pop()
        ref.pop()
    assert col.tolist() == [] and len(col) == 0


def test_step_column_holds_one_run_per_session_of_evenly_spaced_bar_times() -> None:
    col = StepColumn()
    for day in range(100):
        open_ = datetime(2024, 1, 2, 14, 30, tzinfo=UTC) + timedelta(days=day)
        for k in range(1, 391):
            col.append((open_ + timedelta(minutes=k)).timestamp())
    assert len(col) == 39_000 and col.stored_values() == 3 * 100


def _reference_bars(initial: float, rows: list[tuple[datetime, float, float]]) -> dict[str, list[float]]:
    """The per-bar columns as plain lists (what EquityTracker kept before the run columns)."""
    out: dict[str, list[float]] = {"value": [], "cash": [], "drawdown": [], "drawdown_pct": []}
    peak, last = initial, None
    for ts, value, cash in rows:
        if last == ts:
            for c in out.values():
                c.pop()
        last = ts
        peak = max(peak, value)
        out["value"].append(value)
        out["cash"].append(cash)
        out["drawdown"].append(peak - value)
        out["drawdown_pct"].append((peak - value) / peak if peak > 0 else 0.0)
    return out


def test_tracker_bars_equal_plain_lists_and_its_memory_grows_with_changes_not_bars() -> None:
    rng = np.random.default_rng(3)
    rows: list[tuple[datetime, float, float]] = []
    value = 100_000.0
    for day in range(60):
        open_ = datetime(2024, 3, 1, 14, 30, tzinfo=UTC) + timedelta(days=day)
        for k in range(1, 391):
            in_trade = day % 5 == 0 and 100 <= k < 110  # ten bars of an open position every fifth day
            if in_trade:
                value = round(value + float(rng.normal(0, 25)), 2)
            rows.append((open_ + timedelta(minutes=k), value, value - (500.0 if in_trade else 0.0)))
    rows.append(rows[-1])  # the same instant twice: the latest is kept
    tracker = EquityTracker(100_000.0)
    for ts, v, c in rows:
        tracker.update(ts, v, c)
    got = tracker.as_dict()["bars"]
    want = _reference_bars(100_000.0, rows)
    assert len(got["datetime"]) == 60 * 390
    assert got["datetime"][:2] == ["2024-03-01T14:31:00+00:00", "2024-03-01T14:32:00+00:00"]
    for key, column in want.items():
        assert bits(got[key]) == bits(column), key
    changes = 12 * 10  # position bars (plus their runs' ends)
    assert tracker.stored_values() <= 3 * 60 + 4 * 2 * (2 * changes + 60) < 0.1 * 5 * 60 * 390
    assert math.isclose(tracker.as_dict()["end_value"], rows[-1][1])


def test_jsonable_bars_hold_none_where_to_jsonable_would_and_equal_it_otherwise() -> None:
    from analyzers.jsonsafe import to_jsonable

    tracker = EquityTracker(100.0)
    t0 = datetime(2024, 3, 1, 14, 31, tzinfo=UTC)
    for k, v in enumerate([100.0, NAN, NAN, 101.0, INF, 99.5]):
        tracker.update(t0 + timedelta(minutes=k), v, 50.0)
    assert tracker.as_dict(jsonable_bars=True)["bars"] == to_jsonable(tracker.as_dict())["bars"]
    assert tracker.as_dict(jsonable_bars=True)["bars"]["value"][1:3] == [None, None]


def _tracker_with_gaps_and_non_finite() -> EquityTracker:
    tracker = EquityTracker(100.0)
    t0 = datetime(2024, 3, 1, 14, 31, tzinfo=UTC)
    stamps = [t0 + timedelta(minutes=k) for k in range(5)] + [
        t0 + timedelta(days=3, minutes=k) for k in range(4)
    ]
    for ts, v in zip(stamps, [100.0, NAN, NAN, 101.0, INF, 99.5, -0.0, 0.0, 102.25], strict=True):
        tracker.update(ts, v, 50.0)
    return tracker


def test_bar_columns_arrays_equal_the_lists_bit_for_bit() -> None:
    tracker = _tracker_with_gaps_and_non_finite()
    lists = tracker.as_dict()["bars"]
    arrays = tracker.bar_columns().arrays()
    for key in ("value", "cash", "drawdown", "drawdown_pct"):
        assert bits(arrays[key].tolist()) == bits(lists[key]), key
    assert [datetime.fromtimestamp(t, UTC).isoformat() for t in arrays["epoch"]] == lists["datetime"]
    assert dict(tracker.bar_columns(jsonable=True)) == tracker.as_dict(jsonable_bars=True)["bars"]
    empty = EquityTracker(1.0).bar_columns().arrays()
    assert all(a.size == 0 for a in empty.values())


def test_the_equity_chart_reads_the_same_bars_from_arrays_as_from_the_lists() -> None:
    from analyzers.plots import _bar_arrays

    tracker = _tracker_with_gaps_and_non_finite()
    from_lists = _bar_arrays(tracker.as_dict(jsonable_bars=True)["bars"])
    from_arrays = _bar_arrays(tracker.bar_columns(jsonable=True))
    assert bits(from_arrays[0].tolist()) == bits(from_lists[0].tolist())  # NaN where not finite
    assert from_arrays[1].equals(from_lists[1])
    assert bits(from_arrays[2].tolist()) == bits(from_lists[2].tolist())
