"""The column code of the criteria and the execution cost gives exactly what the per-scalp code gave.

The reference is the previous per-scalp implementation (``tests/support/reference_analyzers.py``).
Inputs: the closed scalps of real backtests of the bundled sample (both strategies; the sample
spans the 2024-11-03 DST change), then edge cases built by hand (the DST nights, UTC midnight,
a half day, no scalp, one scalp, ties, unusable metadata) and a seeded set over 2022-2025.
Equality is of the JSON text: every float bit for bit, ints stay ints, key order kept.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from analyzers import criteria, execution
from analyzers.columns import ScalpColumns
from analyzers.equity import daily_equity_map
from analyzers.execution import ExitThresholds, exit_thresholds
from app.backtest import RunRequest, build, prepare
from feeds.synthetic import sample
from options_scalper.model import ExitReason
from options_scalper.records import ClosedScalp
from strategies import registry
from tests.support import reference_analyzers as ref

THRESHOLDS = ExitThresholds(
    take_profit_pct=0.30, stop_loss_pct=0.15, max_entry_slippage_pct=0.05, source="test"
)


def same(new: Any, old: Any) -> None:
    assert json.dumps(new) == json.dumps(old)


def check_all(trades: list[ClosedScalp], daily: dict[date, float], initial: float | None, th: ExitThresholds):
    same(criteria.success_criteria(trades, daily, initial), ref.success_criteria(trades, daily, initial))
    same(
        criteria.success_criteria_by_year(trades, daily, initial),
        ref.success_criteria_by_year(trades, daily, initial),
    )
    assert criteria.catastrophic_days(trades) == ref.catastrophic_days(trades)
    same(execution.execution_cost(trades, th), ref.execution_cost(trades, th))
    columns = ScalpColumns.of(trades)  # the columns themselves, as the dashboard hands them
    same(
        criteria.criteria_analysis(columns, daily, initial)["overall"],
        ref.success_criteria(trades, daily, initial),
    )
    same(execution.execution_cost(columns, th), ref.execution_cost(trades, th))


@pytest.fixture(scope="module")
def backtests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, ...]]:
    root = tmp_path_factory.mktemp("columns-vs-reference")
    out = {}
    for strategy in ("ema_cloud", "momentum_burst"):
        request = RunRequest(
            strategy=strategy,
            data_dir=sample.ensure_sample(progress=False),
            catalog_dir=root / "catalog",
            out_dir=root / strategy,
            quiet=True,
        )
        prep = prepare(request)
        strat = build(prep, prep.params, journal_url=None, progress=False).run()[0]
        daily = daily_equity_map(strat.analyzers.equity.get_analysis())
        th = exit_thresholds(registry.load_config_class(strategy), prep.params)
        out[strategy] = (list(strat.closed_scalps), daily, request.cash, th)
    return out


@pytest.mark.parametrize("strategy", ["ema_cloud", "momentum_burst"])
def test_real_backtest_trades_give_the_reference_figures(backtests, strategy: str) -> None:
    trades, daily, initial, th = backtests[strategy]
    assert len(trades) >= 3
    check_all(trades, daily, initial, th)
    assert sorted(trades, key=lambda t: t.entry_time)[0].entry_time.date() <= date(2024, 11, 1)
    check_all(trades[::-1], daily, initial, th)  # another order: another streak, other sums


def test_real_trades_across_the_dst_change_group_by_their_eastern_day(backtests) -> None:
    trades = [
        t
        for t in backtests["momentum_burst"][0]
        if t.entry_time.date() in (date(2024, 11, 1), date(2024, 11, 4))
    ]
    assert {t.entry_time.date() for t in trades} == {date(2024, 11, 1), date(2024, 11, 4)}
    assert criteria.catastrophic_days(trades) == ref.catastrophic_days(trades)
    hours = next(r for r in criteria.success_criteria(trades) if r["key"] == "hour_distribution")
    assert hours == next(r for r in ref.success_criteria(trades) if r["key"] == "hour_distribution")


def scalp(
    entry: datetime,
    minutes: float,
    pnl: float,
    reason: str = "time_exit",
    premium: float = 1.0,
    **metadata: Any,
) -> ClosedScalp:
    return ClosedScalp(
        signal_id=f"s-{entry:%m%d%H%M%S}-{pnl}", ticker="SPY", option_symbol="SPY241104C00570000",
        option_type="call", strike=570.0, expiry=entry.date(), dte=0, direction="long_call", contracts=1,
        entry_premium=premium, exit_premium=premium + pnl / 100, entry_delta=0.4, entry_theta=-0.2,
        entry_iv=0.2, exit_reason=reason, pnl=pnl, pnl_pct=pnl / (100 * premium) if premium else 0.0,
        entry_time=entry, exit_time=entry + timedelta(minutes=minutes), commission=0.0, conviction=60,
        metadata=dict(metadata),
    )  # fmt: skip


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


EDGES = {
    "no scalp": [],
    "one scalp": [
        scalp(utc(2024, 11, 4, 15, 0), 5, 12.5, "take_profit", decision_ask=0.97, depth_limited=True)
    ],
    "one zero-P&L scalp": [scalp(utc(2024, 11, 4, 15, 0), 5, 0.0, "stop_loss")],
    "the DST nights and UTC midnight": [
        scalp(utc(2024, 11, 3, 5, 30), 10, -4.0),  # 01:30 EDT, 2024-11-03
        scalp(utc(2024, 11, 3, 6, 30), 10, -2.0),  # 01:30 EST, 2024-11-03
        scalp(utc(2024, 11, 2, 3, 59), 3, 1.0),  # 2024-11-01 23:59 EDT
        scalp(utc(2024, 11, 4, 4, 59), 3, -1.0),  # 2024-11-03 23:59 EST
        scalp(utc(2024, 11, 4, 5, 0), 3, -1.0),  # 2024-11-04 00:00 EST
        scalp(utc(2024, 3, 10, 6, 59), 2, 3.0),  # 01:59 EST
        scalp(utc(2024, 3, 10, 7, 0), 2, -3.0),  # 03:00 EDT
        scalp(utc(2024, 11, 1, 19, 59), 1, -0.5, decision_ask=1.0),  # 15:59 EDT
        scalp(utc(2024, 11, 4, 20, 59), 1, 2.0, decision_ask=0.9),  # 15:59 EST
    ],
    "a half day (2024-11-29, close 13:00)": [
        scalp(utc(2024, 11, 29, 14, 31), 4, -7.0, "stop_loss", decision_ask=1.0),
        scalp(utc(2024, 11, 29, 17, 55), 4, -1.0, "end_of_day", decision_ask=1.1),
        scalp(utc(2024, 11, 29, 17, 59), 1, 3.0, "end_of_day", depth_limited=False),
        scalp(utc(2024, 11, 27, 20, 0), 10, 9.0, "take_profit"),
    ],
    "ties in time, slippage and reason": [
        scalp(utc(2024, 11, 4, 15, 0), 5, -1.0, "stop_loss", decision_ask=0.9),
        scalp(utc(2024, 11, 4, 15, 0), 5, 2.0, "stop_loss", decision_ask=0.9),
        scalp(utc(2024, 11, 4, 15, 0), 5, -3.0, "stop_loss", decision_ask=0.9),
        scalp(utc(2024, 11, 4, 14, 0), 65, -3.0, "a_reason_of_its_own", decision_ask=0.9),
    ],
    "unusable numbers": [
        scalp(utc(2024, 11, 4, 15, 0), 5, -1.0, premium=0.0, decision_ask=0.0),
        scalp(utc(2024, 11, 4, 15, 1), 5, 2.0, decision_ask=float("nan"), depth_limited="yes"),
        scalp(utc(2024, 11, 4, 15, 2), 5, -3.0, decision_ask=-1.0),
        scalp(utc(2024, 11, 4, 15, 3), 5, 4.0, decision_ask="0.95"),
        scalp(utc(2024, 11, 4, 15, 4), 5, 4.0, decision_ask=True, depth_limited=1),
        scalp(utc(2024, 11, 4, 15, 5), 5, 4.0, decision_ask=float("inf")),
    ],
}


@pytest.mark.parametrize("case", list(EDGES))
def test_edge_cases_give_the_reference_figures(case: str) -> None:
    trades = EDGES[case]
    daily = {t.entry_time.date(): 10_000.0 + i for i, t in enumerate(trades)}
    check_all(trades, daily, 10_000.0, THRESHOLDS)
    check_all(trades, {}, None, execution.UNKNOWN_THRESHOLDS)


def seeded_trades(n: int, seed: int) -> list[ClosedScalp]:
    rng = random.Random(seed)
    reasons = [r.value for r in ExitReason]
    start = utc(2022, 1, 3, 14, 30)
    out = []
    for _ in range(n):
        entry = start + timedelta(days=rng.randrange(4 * 365 - 7), minutes=rng.randrange(-600, 420))
        ask = rng.choice([None, round(rng.uniform(0.2, 5.0), 2)])
        meta: dict[str, Any] = {} if ask is None else {"decision_ask": ask}
        if rng.random() < 0.7:
            meta["depth_limited"] = rng.random() < 0.2
        premium = round(rng.uniform(0.2, 5.0), 2)
        pnl = round(rng.gauss(8.0, 40.0), 2) if rng.random() < 0.95 else 0.0
        out.append(scalp(entry, rng.randrange(0, 40), pnl, rng.choice(reasons), premium, **meta))
    return out


def test_a_seeded_set_over_four_years_gives_the_reference_figures() -> None:
    trades = seeded_trades(3000, seed=17)
    days = sorted({t.entry_time.date() for t in trades})
    daily = {d: 10_000.0 * (1 + 0.0001 * i) for i, d in enumerate(days)}
    check_all(trades, daily, 10_000.0, THRESHOLDS)
    by_year = criteria.success_criteria_by_year(trades, daily, 10_000.0)
    assert list(by_year) == ["2022", "2023", "2024", "2025"]
    oos = next(r for r in criteria.success_criteria(trades) if r["key"] == "oos_degradation")
    assert oos["value"] is not None and "out-of-sample" in oos["detail"]
