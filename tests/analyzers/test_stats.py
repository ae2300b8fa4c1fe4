"""scalp_stats and success_criteria recomputed from hand-made ClosedScalps."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from analyzers.criteria import (
    catastrophic_days,
    criteria_analysis,
    period_return,
    success_criteria,
    success_criteria_by_year,
)
from analyzers.jsonsafe import to_jsonable
from analyzers.stats import conviction_bucket, longest_losing_streak, profit_factor, scalp_stats
from options_scalper.model import ExitReason
from options_scalper.records import ClosedScalp

# 14:30 UTC = 09:30 EST (winter) / 10:30 EDT (summer)
BASE = datetime(2024, 1, 10, 14, 40, tzinfo=UTC)


def scalp(
    entry: float = 1.00,
    exit_: float = 1.25,
    contracts: int = 2,
    *,
    minutes_after: float = 0,
    hold: float = 10,
    ticker: str = "SPY",
    reason: str = "take_profit",
    conviction: int = 80,
    dte: int = 0,
    commission: float = 2.60,
) -> ClosedScalp:
    """A long option round trip whose P&L follows from the premiums: (exit - entry) x 100 x contracts - fees."""
    pnl = (exit_ - entry) * 100 * contracts - commission
    t0 = BASE + timedelta(minutes=minutes_after)
    return ClosedScalp(
        signal_id=f"sig-{minutes_after}",
        ticker=ticker,
        option_symbol=f"{ticker}240110C00470000",
        option_type="call",
        strike=470.0,
        expiry=date(2024, 1, 10) + timedelta(days=dte),
        dte=dte,
        direction="long_call",
        contracts=contracts,
        entry_premium=entry,
        exit_premium=exit_,
        entry_delta=0.4,
        entry_theta=-0.3,
        entry_iv=0.2,
        exit_reason=reason,
        pnl=pnl,
        pnl_pct=pnl / (entry * 100 * contracts),
        entry_time=t0,
        exit_time=t0 + timedelta(minutes=hold),
        commission=commission,
        conviction=conviction,
    )


def win(minutes_after: float = 0, **kw) -> ClosedScalp:
    return scalp(1.00, 1.50, minutes_after=minutes_after, **kw)


def loss(minutes_after: float = 0, **kw) -> ClosedScalp:
    kw.setdefault("reason", "stop_loss")
    return scalp(1.00, 0.80, minutes_after=minutes_after, **kw)


def test_pure_modules_import_no_backtrader() -> None:
    code = (
        "import sys, analyzers.stats, analyzers.criteria, analyzers.equity, analyzers.jsonsafe, analyzers.report;"
        "assert 'backtrader' not in sys.modules, 'backtrader imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_profit_factor_no_losses_is_inf_and_null_in_json() -> None:
    stats = scalp_stats([win(0), win(30)])
    assert stats["profit_factor"] == math.inf
    assert stats["losing_trades"] == 0
    assert json.loads(json.dumps(to_jsonable(stats)))["profit_factor"] is None


def test_profit_factor_no_trades_is_none_and_everything_empty() -> None:
    stats = scalp_stats([])
    assert stats["profit_factor"] is None
    assert stats["total_trades"] == stats["winning_trades"] == stats["losing_trades"] == 0
    assert stats["win_rate"] is None and stats["avg_pnl"] is None and stats["avg_winner"] is None
    assert stats["total_pnl"] == 0
    assert sum(stats["exit_breakdown"].values()) == 0
    json.dumps(to_jsonable(stats), allow_nan=False)


@pytest.mark.parametrize(
    ("pnls", "expected"),
    [
        ([100.0, -50.0], 2.0),
        ([100.0, 50.0, -25.0, -125.0], 1.0),
        ([-10.0, -30.0], 0.0),
        ([0.0, 0.0], None),
        ([], None),
        ([5.0, 0.0], math.inf),
    ],
)
def test_profit_factor_table(pnls: list[float], expected: float | None) -> None:
    assert profit_factor(pnls) == expected


def test_pnl_includes_x100_multiplier_and_commission() -> None:
    trades = [scalp(1.00, 1.30, 3, commission=3.90), scalp(2.00, 1.50, 1, minutes_after=20, commission=1.30)]
    stats = scalp_stats(trades)
    expected = (0.30 * 100 * 3 - 3.90) + (-0.50 * 100 * 1 - 1.30)
    assert stats["total_pnl"] == pytest.approx(expected)
    assert stats["total_pnl"] == pytest.approx(86.1 - 51.3)
    assert stats["total_commission"] == pytest.approx(5.20)
    assert stats["gross_profit"] == pytest.approx(86.1)
    assert stats["gross_loss"] == pytest.approx(51.3)
    assert stats["profit_factor"] == pytest.approx(86.1 / 51.3)
    assert stats["avg_pnl"] == pytest.approx(expected / 2)
    assert stats["avg_pnl_pct"] == pytest.approx((86.1 / 300 + -51.3 / 200) / 2)
    assert stats["largest_winner"] == pytest.approx(86.1)
    assert stats["largest_loser"] == pytest.approx(-51.3)


def test_zero_pnl_trade_counts_as_loss() -> None:
    flat = scalp(1.00, 1.00, commission=0.0, reason="time_exit")
    stats = scalp_stats([win(), flat])
    assert flat.pnl == 0
    assert (stats["winning_trades"], stats["losing_trades"]) == (1, 1)
    assert stats["winning_trades"] + stats["losing_trades"] == stats["total_trades"]
    assert stats["avg_loser"] == 0.0


def test_winner_loser_averages_in_dollars_and_percent() -> None:
    trades = [scalp(1.0, 1.5, 2, commission=0), scalp(1.0, 1.3, 2, minutes_after=5, commission=0), loss(10)]
    stats = scalp_stats(trades)
    assert stats["avg_winner"] == pytest.approx((100 + 60) / 2)
    assert stats["avg_winner_pct"] == pytest.approx((0.5 + 0.3) / 2)
    assert stats["avg_loser"] == pytest.approx(-0.2 * 200 - 2.6)
    assert stats["avg_loser_pct"] == pytest.approx((-0.2 * 200 - 2.6) / 200)
    assert stats["win_rate"] == pytest.approx(2 / 3)
    assert stats["avg_hold_minutes"] == pytest.approx(10)


def test_longest_losing_streak_runs_in_exit_order() -> None:
    # listed out of order on purpose: exit order is L L W L L L W
    trades = [loss(40), win(30), loss(0), loss(10), loss(50), win(60), loss(20)]
    assert longest_losing_streak(trades) == 3
    assert scalp_stats(trades)["longest_losing_streak"] == 3
    assert longest_losing_streak([win(), win(5)]) == 0
    assert longest_losing_streak([]) == 0


def test_exit_breakdown_lists_every_reason_and_sums_to_total() -> None:
    trades = [win(0), loss(5), loss(10, reason="zero_dte_cutoff"), win(15, reason="cloud_flip")]
    breakdown = scalp_stats(trades)["exit_breakdown"]
    assert set(breakdown) == {r.value for r in ExitReason}
    assert sum(breakdown.values()) == len(trades)
    assert breakdown["take_profit"] == 1 and breakdown["stop_loss"] == 1
    assert breakdown["zero_dte_cutoff"] == 1 and breakdown["cloud_flip"] == 1 and breakdown["expiry"] == 0


def test_exit_breakdown_keeps_unknown_reasons() -> None:
    breakdown = scalp_stats([win(reason="manual")])["exit_breakdown"]
    assert breakdown["manual"] == 1 and sum(breakdown.values()) == 1


@pytest.mark.parametrize(
    ("conviction", "bucket"), [(0, "<50"), (49, "<50"), (50, "50-74"), (74, "50-74"), (75, "75+")]
)
def test_conviction_bucket_edges(conviction: int, bucket: str) -> None:
    assert conviction_bucket(conviction) == bucket


def test_groups_by_ticker_hour_conviction_dte() -> None:
    trades = [
        win(0, ticker="SPY", conviction=80, dte=0),  # 09:40 ET
        loss(30, ticker="SPY", conviction=60, dte=1),  # 10:10 ET
        win(90, ticker="QQQ", conviction=60, dte=0),  # 11:10 ET
        loss(95, ticker="QQQ", conviction=40, dte=0),  # 11:15 ET
    ]
    stats = scalp_stats(trades)
    assert list(stats["by_ticker"]) == ["QQQ", "SPY"]
    assert stats["by_ticker"]["SPY"]["trades"] == 2
    assert stats["by_ticker"]["SPY"]["win_rate"] == 0.5
    assert stats["by_ticker"]["SPY"]["total_pnl"] == pytest.approx(trades[0].pnl + trades[1].pnl)
    assert stats["by_ticker"]["SPY"]["profit_factor"] == pytest.approx(trades[0].pnl / -trades[1].pnl)
    assert {h: g["trades"] for h, g in stats["by_entry_hour"].items()} == {"09": 1, "10": 1, "11": 2}
    assert {b: g["trades"] for b, g in stats["by_conviction"].items()} == {"<50": 1, "50-74": 2, "75+": 1}
    assert list(stats["by_conviction"]) == ["<50", "50-74", "75+"]
    assert stats["by_conviction"]["75+"]["profit_factor"] == math.inf
    assert {d: g["trades"] for d, g in stats["by_dte"].items()} == {"0": 3, "1": 1}
    for group in ("by_ticker", "by_entry_hour", "by_conviction", "by_dte"):
        assert sum(g["trades"] for g in stats[group].values()) == len(trades)
        assert sum(g["total_pnl"] for g in stats[group].values()) == pytest.approx(stats["total_pnl"])


def test_entry_hour_uses_eastern_time_across_dst() -> None:
    summer = scalp(minutes_after=0)
    summer = ClosedScalp(**{**summer.__dict__, "entry_time": datetime(2024, 7, 10, 14, 40, tzinfo=UTC)})
    assert list(scalp_stats([summer])["by_entry_hour"]) == ["10"]  # 14:40 UTC = 10:40 EDT


# ---------------------------------------------------------------- success criteria


def rows_by_key(rows: list[dict]) -> dict[str, dict]:
    return {r["key"]: r for r in rows}


def test_criteria_all_pass_on_a_good_run() -> None:
    trades = [win(0), win(60), loss(120), win(180), win(240)]  # 09:40, 10:40, 11:40, 12:40, 13:40 ET
    rows = rows_by_key(success_criteria(trades))
    for key in (
        "win_rate",
        "profit_factor",
        "avg_pnl_pct",
        "winner_vs_loser",
        "losing_streak",
        "hour_distribution",
    ):
        assert rows[key]["passed"] is True, rows[key]
    assert rows["win_rate"]["value"] == pytest.approx(0.8)
    assert rows["hour_distribution"]["value"] == 5
    assert rows["catastrophic_days"]["passed"] is True and rows["catastrophic_days"]["value"] == 0
    # years and OOS are not in this run
    assert rows["return_2022"]["passed"] is None and rows["return_2024"]["passed"] is None
    assert rows["oos_degradation"]["passed"] is None


def test_criteria_fail_on_a_bad_run() -> None:
    trades = [loss(i * 3) for i in range(5)] + [win(15)]  # all within 09:40-09:55 ET
    rows = rows_by_key(success_criteria(trades))
    assert rows["win_rate"]["passed"] is False
    assert rows["profit_factor"]["passed"] is False
    assert rows["avg_pnl_pct"]["passed"] is False
    assert rows["losing_streak"]["value"] == 5 and rows["losing_streak"]["passed"] is False
    assert rows["catastrophic_days"]["value"] == 1 and rows["catastrophic_days"]["passed"] is False
    assert rows["hour_distribution"]["value"] == 1 and rows["hour_distribution"]["passed"] is False
    # avg winner $97.40 vs avg loser $-42.60: passes even on a bad run
    assert rows["winner_vs_loser"]["passed"] is True


def test_criteria_without_trades_are_not_computable() -> None:
    rows = success_criteria([])
    assert rows and all(r["passed"] is None for r in rows)
    assert {"key", "name", "target", "value", "passed", "detail"} <= set(rows[0])


def test_criteria_profit_factor_inf_passes() -> None:
    row = rows_by_key(success_criteria([win(0), win(5)]))["profit_factor"]
    assert row["value"] == math.inf and row["passed"] is True
    assert rows_by_key(success_criteria([win(0)]))["winner_vs_loser"]["passed"] is True


def test_catastrophic_day_is_more_than_half_losing() -> None:
    day2 = 24 * 60
    trades = [win(0), loss(5), win(day2), loss(day2 + 5), loss(day2 + 10)]
    assert catastrophic_days(trades) == [(date(2024, 1, 11), 2, 3)]  # 1 of 2 is not "more than half"


def test_year_returns_and_by_year() -> None:
    daily = {
        date(2022, 1, 3): 9500.0,
        date(2022, 12, 30): 9200.0,
        date(2024, 1, 2): 9300.0,
        date(2024, 12, 31): 11500.0,
    }
    assert period_return(daily, 10_000.0, date(2022, 1, 1), date(2022, 12, 31)) == pytest.approx(-0.08)
    assert period_return(daily, 10_000.0, date(2024, 1, 1), date(2024, 12, 31)) == pytest.approx(
        11500 / 9200 - 1
    )
    assert period_return(daily, None, date(2022, 1, 1), date(2022, 12, 31)) is None
    assert period_return(daily, 10_000.0, date(2023, 1, 1), date(2023, 12, 31)) is None
    rows = rows_by_key(success_criteria([], daily, 10_000.0))
    assert rows["return_2022"]["passed"] is True  # -8% is within the -10% floor
    assert rows["return_2024"]["passed"] is True  # +25%
    partial = {d: v for d, v in daily.items() if d != date(2024, 12, 31)}
    row_2024 = rows_by_key(success_criteria([], partial, 10_000.0))["return_2024"]
    assert row_2024["value"] == pytest.approx(9300 / 9200 - 1) and row_2024["passed"] is None
    assert "partial year" in row_2024["detail"]
    by_year = success_criteria_by_year([win(0)], daily, 10_000.0)
    assert list(by_year) == ["2022", "2024"]
    assert rows_by_key(by_year["2024"])["win_rate"]["value"] == 1.0
    assert rows_by_key(by_year["2022"])["win_rate"]["passed"] is None
    assert rows_by_key(by_year["2022"])["year_return"]["value"] == pytest.approx(-0.08)


def test_by_year_is_empty_within_one_year() -> None:
    assert success_criteria_by_year([win(0), loss(5)], {date(2024, 1, 10): 1.0}, 1.0) == {}
    assert criteria_analysis([win(0)])["by_year"] == {}


def test_oos_degradation_compares_avg_pnl_pct() -> None:
    def at(day: date, trade: ClosedScalp) -> ClosedScalp:
        t0 = datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)
        return ClosedScalp(**{**trade.__dict__, "entry_time": t0, "exit_time": t0 + timedelta(minutes=5)})

    dev = [at(date(2023, 3, 1), scalp(1.0, 1.2, 1, commission=0))]  # +20%
    oos = [at(date(2025, 3, 1), scalp(1.0, 1.1, 1, commission=0))]  # +10%
    row = rows_by_key(success_criteria(dev + oos))["oos_degradation"]
    assert row["value"] == pytest.approx(0.5) and row["passed"] is False
    good_oos = [at(date(2025, 3, 1), scalp(1.0, 1.18, 1, commission=0))]
    assert rows_by_key(success_criteria(dev + good_oos))["oos_degradation"]["passed"] is True


def test_criteria_json_round_trip_has_no_inf() -> None:
    text = json.dumps(to_jsonable(criteria_analysis([win(0), win(5)])), allow_nan=False)
    overall = {r["key"]: r for r in json.loads(text)["overall"]}
    assert overall["profit_factor"]["value"] is None and overall["profit_factor"]["passed"] is True
