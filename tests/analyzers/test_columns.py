"""The columns the criteria and the execution cost compute on: US/Eastern dates and hours, streaks, sums."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from analyzers.columns import (
    UNKNOWN_FLAG,
    ScalpColumns,
    eastern_dates,
    eastern_hours,
    longest_losing_streak,
    longest_run,
    total,
    utc_datetime,
)
from options_scalper.eastern import ET, NaiveDatetimeError, session_date
from options_scalper.records import ClosedScalp


def ns(t: datetime) -> int:
    return (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


# around the 2024-03-10 and 2024-11-03 changes, UTC midnight (still the day before in New York), a half day
INSTANTS = [
    datetime(2024, 3, 10, 6, 59, tzinfo=UTC),  # 01:59 EST
    datetime(2024, 3, 10, 7, 0, tzinfo=UTC),  # 03:00 EDT
    datetime(2024, 11, 3, 5, 30, tzinfo=UTC),  # 01:30 EDT (the first one)
    datetime(2024, 11, 3, 6, 30, tzinfo=UTC),  # 01:30 EST (the second one)
    datetime(2024, 11, 2, 3, 59, tzinfo=UTC),  # 2024-11-01 23:59 EDT
    datetime(2024, 11, 4, 4, 59, tzinfo=UTC),  # 2024-11-03 23:59 EST
    datetime(2024, 11, 4, 5, 0, tzinfo=UTC),  # 2024-11-04 00:00 EST
    datetime(2024, 11, 29, 17, 59, tzinfo=UTC),  # half day, 12:59 EST
    datetime(1969, 12, 31, 23, 0, tzinfo=UTC),  # before the epoch: floor division
]


def test_eastern_dates_and_hours_are_zoneinfos_across_both_dst_changes() -> None:
    rng = random.Random(5)
    start = datetime(2022, 1, 1, tzinfo=UTC)
    instants = INSTANTS + [start + timedelta(minutes=rng.randrange(4 * 366 * 1440)) for _ in range(5000)]
    values = np.array([ns(t) for t in instants], dtype=np.int64)
    assert eastern_dates(values).tolist() == [session_date(t) for t in instants]
    assert eastern_hours(values).tolist() == [t.astimezone(ET).hour for t in instants]
    assert eastern_dates(np.array([], dtype=np.int64)).tolist() == []


def test_utc_datetime_gives_back_the_instant() -> None:
    t = datetime(2024, 11, 3, 6, 30, 15, 123456, tzinfo=UTC)
    assert utc_datetime(ns(t)) == t and utc_datetime(ns(t)).isoformat() == t.isoformat()


@pytest.mark.parametrize(
    ("flags", "longest"),
    [([], 0), ([False], 0), ([True], 1), ([True, False, True, True], 2), ([False, True, True, True], 3)],
)
def test_longest_run(flags: list[bool], longest: int) -> None:
    assert longest_run(np.array(flags, dtype=bool)) == longest


def test_total_is_the_left_to_right_sum_bit_for_bit() -> None:
    rng = random.Random(3)
    values = [rng.uniform(-1e6, 1e6) * 10 ** rng.randrange(-8, 8) for _ in range(10_000)]
    assert total(np.array(values)) == sum(values)
    assert math.copysign(1.0, total(np.array([-0.0]))) == math.copysign(1.0, sum([-0.0]))


def scalp(entry: datetime, minutes: float, pnl: float, **metadata: object) -> ClosedScalp:
    return ClosedScalp(
        signal_id=f"s{entry:%H%M}", ticker="SPY", option_symbol="SPY241104C00570000", option_type="call",
        strike=570.0, expiry=date(2024, 11, 4), dte=0, direction="long_call", contracts=1, entry_premium=1.0,
        exit_premium=1.0 + pnl / 100, entry_delta=0.4, entry_theta=-0.2, entry_iv=0.2, exit_reason="time_exit",
        pnl=pnl, pnl_pct=pnl / 100, entry_time=entry, exit_time=entry + timedelta(minutes=minutes),
        commission=0.0, conviction=60, metadata=dict(metadata),
    )  # fmt: skip


def test_the_losing_streak_runs_in_exit_order_with_zero_as_a_loss() -> None:
    t0 = datetime(2024, 11, 4, 15, 0, tzinfo=UTC)
    # entered in this order, exited: win(0) loss(2) zero(4) loss(5) win(9)
    trades = [scalp(t0, 9, 5.0), scalp(t0, 5, -1.0), scalp(t0, 4, 0.0), scalp(t0, 2, -3.0), scalp(t0, 0, 1.0)]
    assert longest_losing_streak(ScalpColumns.of(trades)) == 3
    assert longest_losing_streak(ScalpColumns.of([])) == 0


def test_records_and_their_frame_give_the_same_columns() -> None:
    t0 = datetime(2024, 11, 4, 15, 0, tzinfo=UTC)
    trades = [
        scalp(t0, 3, 5.0, decision_ask=0.98, depth_limited=True),
        scalp(t0 + timedelta(minutes=1), 3, -2.0, decision_ask=float("inf"), depth_limited="yes"),
        scalp(t0 + timedelta(minutes=2), 3, 1.0, decision_ask=True),
        scalp(t0 + timedelta(minutes=3), 3, 1.0, depth_limited=False),
    ]
    records = ScalpColumns.of(trades)
    assert records.decision_ask[0] == 0.98 and np.isnan(records.decision_ask[1:3]).all()
    assert records.depth_limited.tolist() == [1, UNKNOWN_FLAG, UNKNOWN_FLAG, 0]
    frame = pd.DataFrame(
        {
            "entry_time": pd.to_datetime([t.entry_time for t in trades], utc=True).as_unit("us"),
            "exit_time": pd.to_datetime([t.exit_time for t in trades], utc=True).as_unit("s"),
            **{
                k: [getattr(t, k) for t in trades]
                for k in ("pnl", "pnl_pct", "entry_premium", "exit_premium")
            },
            **{k: [getattr(t, k) for t in trades] for k in ("exit_reason", "signal_id", "option_symbol")},
            "decision_ask": [0.98, np.nan, np.nan, np.nan],
            "depth_limited": pd.Series([True, None, None, False], dtype=object),
        }
    )
    from_frame = ScalpColumns.from_frame(frame)
    for name in ("entry_ns", "exit_ns", "pnl", "decision_ask", "depth_limited", "exit_reason", "entry_day"):
        np.testing.assert_array_equal(getattr(from_frame, name), getattr(records, name), err_msg=name)
    with pytest.raises(ValueError, match="no column decision_ask"):
        ScalpColumns.from_frame(frame.drop(columns=["decision_ask"]))


def test_a_naive_time_is_refused_by_name() -> None:
    naive = scalp(datetime(2024, 11, 4, 15, 0), 3, 1.0)
    with pytest.raises(NaiveDatetimeError, match="naive datetime 2024-11-04T15:00:00"):
        ScalpColumns.of([naive])
