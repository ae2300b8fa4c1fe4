"""Seed 003's success criteria and backtest checklist, checked on one run: pure.

Rows (``key``: what is checked, from 003's "Success Criteria" table and its
6.2 checklist):

- ``win_rate``            win rate > 50%
- ``profit_factor``       profit factor > 1.2 (dollar P&L; ``inf`` with no losses passes)
- ``avg_pnl_pct``         average P&L per trade > 5% of premium paid
- ``winner_vs_loser``     average winner > |average loser| (dollars; passes with
                          winners and no losers)
- ``losing_streak``       fewer than 5 losing trades in a row (003's "no
                          catastrophic single-day loss")
- ``catastrophic_days``   no day on which more than 50% of the trades lost (6.2;
                          a trade belongs to the US/Eastern date of its entry)
- ``hour_distribution``   trades entered in at least 3 distinct hours (6.2
                          "signal distribution across different market hours")
- ``return_2022``         2022 (bear) return > -10% ("positive or < -10%" loss)
- ``return_2024``         2024 (bull) return > 20%
- ``oos_degradation``     out-of-sample (2024-07-01..2025-12-31) average P&L per
                          trade at most 30% worse than development (2022-2023):
                          within the run, or (``ledger_degradation_row``) across a
                          dev run and an OOS run of the same strategy and params

Each row: ``key``, ``name``, ``target``, ``value``, ``passed`` (``None`` when the
run cannot tell, e.g. no trades or the year is not in the run) and ``detail``.
Year returns are end-of-day equity over the previous session's end-of-day
equity (the initial equity for the run's first day), as fractions; a year's
target is judged only when the run covers that year's first and last weeks
(a partial year shows its return with ``passed`` None).

The functions take ``ClosedScalp`` records (a backtest) or their ``ScalpColumns`` (the
dashboard's journal read) and compute on the columns: one implementation for both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np

from analyzers.columns import ScalpColumns, Trades, as_columns, as_date, longest_losing_streak, mean
from analyzers.stats import profit_factor

WIN_RATE_MIN = 0.50
PROFIT_FACTOR_MIN = 1.2
AVG_PNL_PCT_MIN = 0.05
LOSING_STREAK_MAX = 5  # strictly fewer
CATASTROPHIC_DAY_LOSING_SHARE = 0.50  # a day with more than this share of losers
MIN_DISTINCT_HOURS = 3
MARKET_YEARS: dict[int, tuple[str, float]] = {
    2022: ("2022 bear market return", -0.10),
    2024: ("2024 bull market return", 0.20),
}
# seed 003 section 6.1: the dataset split (app.splits builds --split from these)
DEV_PERIOD = (date(2022, 1, 1), date(2023, 12, 31))
VALIDATION_PERIOD = (date(2024, 1, 1), date(2024, 6, 30))
OOS_PERIOD = (date(2024, 7, 1), date(2025, 12, 31))
OOS_MAX_DEGRADATION = 0.30
FULL_YEAR_SLACK = timedelta(days=7)  # a year is judged when the run covers its first and last weeks

DailyEquity = Mapping[date, float]


def _row(
    key: str, name: str, target: str, value: Any, passed: bool | None, detail: str = ""
) -> dict[str, Any]:
    return {"key": key, "name": name, "target": target, "value": value, "passed": passed, "detail": detail}


def _usd(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def period_return(
    daily_equity: DailyEquity, initial_equity: float | None, start: date, end: date
) -> float | None:
    """Return equity growth over the sessions in ``[start, end]`` as a fraction, or None.

    The base is the last end-of-day equity before ``start``, else ``initial_equity``.
    """
    days = sorted(daily_equity)
    inside = [d for d in days if start <= d <= end]
    if not inside:
        return None
    before = [d for d in days if d < start]
    base = daily_equity[before[-1]] if before else initial_equity
    if base is None or base <= 0:
        return None
    return daily_equity[inside[-1]] / base - 1.0


def catastrophic_days(trades: Trades) -> list[tuple[date, int, int]]:
    """Return ``(day, losers, trades)`` for each day on which more than half the trades lost."""
    c = as_columns(trades)
    days, day_of = np.unique(c.entry_day, return_inverse=True)
    counts = np.bincount(day_of, minlength=len(days))
    losers = np.bincount(day_of[~c.win], minlength=len(days))
    bad = np.flatnonzero(losers > CATASTROPHIC_DAY_LOSING_SHARE * counts)
    return [(as_date(days[i]), int(losers[i]), int(counts[i])) for i in bad]


def _trade_rows(c: ScalpColumns) -> list[dict[str, Any]]:
    n = len(c)
    win = c.win
    wins = int(win.sum())
    rows = []

    win_rate = wins / n if n else None
    rows.append(
        _row(
            "win_rate",
            "Win rate",
            "> 50%",
            win_rate,
            None if win_rate is None else win_rate > WIN_RATE_MIN,
            f"{wins} of {n} trades won",
        )
    )

    pf = profit_factor(c.pnl.tolist())
    rows.append(
        _row(
            "profit_factor",
            "Profit factor",
            "> 1.2",
            pf,
            None if pf is None else pf > PROFIT_FACTOR_MIN,
            "gross profit / gross loss, dollars net of commission",
        )
    )

    avg_pct = mean(c.pnl_pct)
    rows.append(
        _row(
            "avg_pnl_pct",
            "Avg P&L per trade",
            "> 5%",
            avg_pct,
            None if avg_pct is None else avg_pct > AVG_PNL_PCT_MIN,
            "mean of pnl_pct (of premium paid)",
        )
    )

    avg_win, avg_loss = mean(c.pnl[win]), mean(c.pnl[~win])
    if not n:
        passed: bool | None = None
    elif avg_win is None:
        passed = False
    else:
        passed = avg_loss is None or avg_win > abs(avg_loss)
    rows.append(
        _row(
            "winner_vs_loser",
            "Avg winner > |avg loser|",
            "> |avg loser|",
            avg_win,
            passed,
            f"avg winner {_usd(avg_win)}, avg loser {_usd(avg_loss)}",
        )
    )

    streak = longest_losing_streak(c)
    rows.append(
        _row(
            "losing_streak",
            "Longest losing streak",
            "< 5 in a row",
            streak,
            None if not n else streak < LOSING_STREAK_MAX,
            "consecutive losses in exit order",
        )
    )

    bad = catastrophic_days(c)
    detail = ", ".join(f"{d.isoformat()} {lost}/{tot} lost" for d, lost, tot in bad[:3])
    rows.append(
        _row(
            "catastrophic_days",
            "Days with > 50% of trades losing",
            "none",
            len(bad),
            None if not n else not bad,
            detail + (" ..." if len(bad) > 3 else ""),
        )
    )

    hours = np.unique(c.entry_hour).tolist()
    rows.append(
        _row(
            "hour_distribution",
            "Distinct entry hours (ET)",
            ">= 3",
            len(hours),
            None if not n else len(hours) >= MIN_DISTINCT_HOURS,
            " ".join(f"{h:02d}h" for h in hours),
        )
    )
    return rows


def _covers_year(days: Sequence[date], year: int) -> bool:
    """True when the sessions reach from the year's first week to its last week."""
    return (
        bool(days)
        and min(days) <= date(year, 1, 1) + FULL_YEAR_SLACK
        and max(days) >= date(year, 12, 31) - FULL_YEAR_SLACK
    )


def _year_row(year: int, daily_equity: DailyEquity, initial_equity: float | None, key: str) -> dict[str, Any]:
    name, floor = MARKET_YEARS.get(year, (f"{year} return", None))
    ret = period_return(daily_equity, initial_equity, date(year, 1, 1), date(year, 12, 31))
    covered = sorted(d for d in daily_equity if d.year == year)
    full = _covers_year(covered, year)
    if not covered:
        detail = f"{year} not in run"
    else:
        detail = f"sessions {covered[0].isoformat()}..{covered[-1].isoformat()}"
        if not full and floor is not None:
            detail += ": partial year, not judged"
    target = "n/a" if floor is None else f"> {floor:+.0%}"
    passed = None if ret is None or floor is None or not full else ret > floor
    return _row(key, name, target, ret, passed, detail)


def _degradation(dev: float | None, oos: float | None, source: str) -> tuple[float | None, bool | None, str]:
    """``(value, passed, detail)`` of the dev-vs-OOS comparison of average P&L per trade."""
    if dev is None or oos is None:
        return None, None, f"needs trades in both 2022-2023 (dev) and 2024-07..2025 (out-of-sample){source}"
    if dev <= 0:
        return None, None, f"dev avg P&L {dev:.1%} is not positive: degradation undefined{source}"
    value = (dev - oos) / dev
    return (
        value,
        value < OOS_MAX_DEGRADATION,
        f"avg P&L per trade: dev {dev:.1%}, out-of-sample {oos:.1%}{source}",
    )


def _oos_row(c: ScalpColumns) -> dict[str, Any]:
    def avg_in(period: tuple[date, date]) -> float | None:
        start, end = np.datetime64(period[0], "D"), np.datetime64(period[1], "D")
        return mean(c.pnl_pct[(c.entry_day >= start) & (c.entry_day <= end)])

    value, passed, detail = _degradation(avg_in(DEV_PERIOD), avg_in(OOS_PERIOD), "")
    return _row("oos_degradation", "Out-of-sample degradation", "< 30% worse than dev", value, passed, detail)


def ledger_degradation_row(dev: Mapping[str, Any], oos: Mapping[str, Any]) -> dict[str, Any]:
    """The ``oos_degradation`` row from two runs of the same strategy and params (the split ledger).

    ``dev`` / ``oos``: ``avg_pnl_pct`` (of the run's trades inside the split), ``trades``,
    ``total_pnl``, ``run_id``, ``start``, ``end``; kept on the row (``source`` ``ledger``).
    """
    runs = f" (dev run {dev.get('run_id')}, out-of-sample run {oos.get('run_id')}, same params)"
    value, passed, detail = _degradation(dev.get("avg_pnl_pct"), oos.get("avg_pnl_pct"), runs)
    row = _row("oos_degradation", "Out-of-sample degradation", "< 30% worse than dev", value, passed, detail)
    row.update({"source": "ledger", "dev": dict(dev), "oos": dict(oos)})
    return row


def success_criteria(
    trades: Trades,
    daily_equity: DailyEquity | None = None,
    initial_equity: float | None = None,
) -> list[dict[str, Any]]:
    """Return the 003 criteria rows for a whole run (see the module notes)."""
    c = as_columns(trades)
    daily = daily_equity or {}
    rows = _trade_rows(c)
    rows += [_year_row(year, daily, initial_equity, f"return_{year}") for year in MARKET_YEARS]
    rows.append(_oos_row(c))
    return rows


def success_criteria_by_year(
    trades: Trades,
    daily_equity: DailyEquity | None = None,
    initial_equity: float | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Return year -> criteria rows of that year's trades plus the year's return; ``{}`` within one year."""
    c = as_columns(trades)
    daily = daily_equity or {}
    trade_years = c.entry_day.astype("datetime64[Y]").astype(np.int64) + 1970
    years = sorted(set(np.unique(trade_years).tolist()) | {d.year for d in daily})
    if len(years) < 2:
        return {}
    out = {}
    for year in years:
        year_trades = c.take(trade_years == year)
        out[str(year)] = [*_trade_rows(year_trades), _year_row(year, daily, initial_equity, "year_return")]
    return out


def criteria_analysis(
    trades: Trades,
    daily_equity: DailyEquity | None = None,
    initial_equity: float | None = None,
) -> dict[str, Any]:
    """Return ``{"overall": rows, "by_year": {year: rows}}``: what ``SuccessCriteria`` reports."""
    c = as_columns(trades)
    return {
        "overall": success_criteria(c, daily_equity, initial_equity),
        "by_year": success_criteria_by_year(c, daily_equity, initial_equity),
    }
