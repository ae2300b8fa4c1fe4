"""The per-scalp success criteria and execution cost as they were before the analyzers computed on columns.

A slow reference (one Python call per scalp, every time through
``datetime.astimezone``): ``tests/analyzers/test_columns_vs_reference.py`` checks that
``analyzers.criteria`` and ``analyzers.execution`` give exactly what this code gives.
The rows' wording, the constants and the year rows (end-of-day equity, not per
scalp) are the product's own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from analyzers.criteria import (
    AVG_PNL_PCT_MIN,
    CATASTROPHIC_DAY_LOSING_SHARE,
    DEV_PERIOD,
    LOSING_STREAK_MAX,
    MARKET_YEARS,
    MIN_DISTINCT_HOURS,
    OOS_PERIOD,
    PROFIT_FACTOR_MIN,
    WIN_RATE_MIN,
    DailyEquity,
    _degradation,
    _row,
    _usd,
    _year_row,
)
from analyzers.execution import (
    DECISION_ASK_KEY,
    DEPTH_LIMITED_KEY,
    SLIPPAGE_ALERT_PCT,
    UNKNOWN_THRESHOLDS,
    WORST_ENTRIES,
    ExitThresholds,
)
from analyzers.stats import entry_hour_et, profit_factor, session_date_et
from options_scalper.model import ExitReason
from options_scalper.records import ClosedScalp


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def longest_losing_streak(trades: Iterable[ClosedScalp]) -> int:
    longest = current = 0
    for t in sorted(trades, key=lambda t: (t.exit_time, t.entry_time)):
        current = 0 if t.is_win else current + 1
        longest = max(longest, current)
    return longest


# ------------------------------------------------------------------ criteria


def _avg(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def catastrophic_days(trades: Sequence[ClosedScalp]) -> list[tuple[date, int, int]]:
    """Return ``(day, losers, trades)`` for each day on which more than half the trades lost."""
    per_day: dict[date, list[ClosedScalp]] = {}
    for t in trades:
        per_day.setdefault(session_date_et(t), []).append(t)
    out = []
    for day in sorted(per_day):
        losers = sum(1 for t in per_day[day] if not t.is_win)
        if losers > CATASTROPHIC_DAY_LOSING_SHARE * len(per_day[day]):
            out.append((day, losers, len(per_day[day])))
    return out


def _trade_rows(trades: Sequence[ClosedScalp]) -> list[dict[str, Any]]:
    n = len(trades)
    wins = [t for t in trades if t.is_win]
    losses = [t for t in trades if not t.is_win]
    rows = []

    win_rate = len(wins) / n if n else None
    rows.append(
        _row(
            "win_rate",
            "Win rate",
            "> 50%",
            win_rate,
            None if win_rate is None else win_rate > WIN_RATE_MIN,
            f"{len(wins)} of {n} trades won",
        )
    )

    pf = profit_factor(t.pnl for t in trades)
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

    avg_pct = _avg([t.pnl_pct for t in trades])
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

    avg_win, avg_loss = _avg([t.pnl for t in wins]), _avg([t.pnl for t in losses])
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

    streak = longest_losing_streak(trades)
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

    bad = catastrophic_days(trades)
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

    hours = sorted({entry_hour_et(t) for t in trades})
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


def _oos_row(trades: Sequence[ClosedScalp]) -> dict[str, Any]:
    def avg_in(period: tuple[date, date]) -> float | None:
        return _avg([t.pnl_pct for t in trades if period[0] <= session_date_et(t) <= period[1]])

    value, passed, detail = _degradation(avg_in(DEV_PERIOD), avg_in(OOS_PERIOD), "")
    return _row("oos_degradation", "Out-of-sample degradation", "< 30% worse than dev", value, passed, detail)


def success_criteria(
    trades: Sequence[ClosedScalp],
    daily_equity: DailyEquity | None = None,
    initial_equity: float | None = None,
) -> list[dict[str, Any]]:
    """Return the 003 criteria rows for a whole run (see the module notes)."""
    daily = daily_equity or {}
    rows = _trade_rows(trades)
    rows += [_year_row(year, daily, initial_equity, f"return_{year}") for year in MARKET_YEARS]
    rows.append(_oos_row(trades))
    return rows


def success_criteria_by_year(
    trades: Sequence[ClosedScalp],
    daily_equity: DailyEquity | None = None,
    initial_equity: float | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Return year -> criteria rows of that year's trades plus the year's return; ``{}`` within one year."""
    daily = daily_equity or {}
    years = sorted({session_date_et(t).year for t in trades} | {d.year for d in daily})
    if len(years) < 2:
        return {}
    out = {}
    for year in years:
        year_trades = [t for t in trades if session_date_et(t).year == year]
        out[str(year)] = [*_trade_rows(year_trades), _year_row(year, daily, initial_equity, "year_return")]
    return out


# ------------------------------------------------------------------ execution cost


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the ``q`` quantile (0..1) by linear interpolation between the nearest ranks."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def distribution(values: Sequence[float]) -> dict[str, float | None]:
    """Return mean, median, worst (min) and best (max) of ``values`` (None when empty)."""
    return {
        "mean": sum(values) / len(values) if values else None,
        "median": percentile(values, 0.5),
        "worst": min(values, default=None),
        "best": max(values, default=None),
    }


def premium_move_pct(scalp: ClosedScalp) -> float | None:
    """Return ``exit_premium / entry_premium - 1`` (None without a positive entry premium)."""
    if not scalp.entry_premium > 0:
        return None
    return _number(scalp.exit_premium / scalp.entry_premium - 1.0)


def entry_slippage_pct(scalp: ClosedScalp) -> float | None:
    """Return ``(entry_premium - decision_ask) / decision_ask``; None when the decision ask is unknown."""
    ask = _number(scalp.metadata.get(DECISION_ASK_KEY))
    if ask is None or ask <= 0:
        return None
    return _number((scalp.entry_premium - ask) / ask)


def depth_limited(scalp: ClosedScalp) -> bool | None:
    """Return ``metadata["depth_limited"]``; None when the scalp does not say."""
    value = scalp.metadata.get(DEPTH_LIMITED_KEY)
    return value if isinstance(value, bool) else None


def by_exit_reason(trades: Sequence[ClosedScalp], thresholds: ExitThresholds) -> dict[str, dict[str, Any]]:
    """Per exit reason seen (``ExitReason`` order, then others): threshold vs realised P&L and move."""
    rank = {r.value: i for i, r in enumerate(ExitReason)}
    reasons = sorted({t.exit_reason for t in trades}, key=lambda r: (rank.get(r, len(rank)), r))
    out: dict[str, dict[str, Any]] = {}
    for reason in reasons:
        group = [t for t in trades if t.exit_reason == reason]
        pnl = [v for v in (_number(t.pnl_pct) for t in group) if v is not None]
        moves = [v for v in (premium_move_pct(t) for t in group) if v is not None]
        threshold = thresholds.for_reason(reason)
        pnl_stats = distribution(pnl)
        move_stats = distribution(moves)
        out[reason] = {
            "trades": len(group),
            "threshold_pct": threshold,
            "pnl_pct": pnl_stats,
            "premium_move_pct": move_stats,
            "mean_move_past_threshold_pct": (
                None if threshold is None or move_stats["mean"] is None else move_stats["mean"] - threshold
            ),
        }
    return out


def _entry_row(scalp: ClosedScalp, slippage: float) -> dict[str, Any]:
    return {
        "signal_id": scalp.signal_id,
        "option_symbol": scalp.option_symbol,
        "entry_time": scalp.entry_time.isoformat(),
        "decision_ask": scalp.metadata.get(DECISION_ASK_KEY),
        "entry_premium": scalp.entry_premium,
        "slippage_pct": slippage,
    }


def entry_slippage(trades: Sequence[ClosedScalp], thresholds: ExitThresholds) -> dict[str, Any]:
    """Entry fill vs decision-minute ask: distribution, count above 5 %, the worst entries."""
    known = [(t, s) for t in trades if (s := entry_slippage_pct(t)) is not None]
    values = [s for _, s in known]
    worst = sorted(known, key=lambda ts: (-ts[1], ts[0].entry_time))[:WORST_ENTRIES]
    return {
        "trades": len(trades),
        "known": len(known),
        "unknown": len(trades) - len(known),
        "mean": sum(values) / len(values) if values else None,
        "median": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "max": max(values, default=None),
        "alert_pct": SLIPPAGE_ALERT_PCT,
        "above_alert": sum(1 for v in values if v > SLIPPAGE_ALERT_PCT),
        "cap_pct": thresholds.max_entry_slippage_pct,
        "worst_entries": [_entry_row(t, s) for t, s in worst],
    }


def depth_limited_fills(trades: Sequence[ClosedScalp]) -> dict[str, Any]:
    """How many scalps had a fill cut to the displayed size, of those that say."""
    flags = [f for f in (depth_limited(t) for t in trades) if f is not None]
    hit = sum(flags)
    return {
        "trades": len(trades),
        "known": len(flags),
        "unknown": len(trades) - len(flags),
        "depth_limited": hit,
        "share": hit / len(flags) if flags else None,
    }


def _notes(
    trades: Sequence[ClosedScalp],
    slip: Mapping[str, Any],
    depth: Mapping[str, Any],
    thresholds: ExitThresholds,
) -> list[str]:
    notes: list[str] = []
    if not trades:
        return ["no closed scalps: nothing to measure"]
    if thresholds.take_profit_pct is None and thresholds.stop_loss_pct is None:
        notes.append("exit thresholds unknown: the strategy's config has no exit_rules()")
    if slip["unknown"]:
        notes.append(
            f"entry slippage unknown for {slip['unknown']} of {slip['trades']} scalp(s): "
            f"no metadata {DECISION_ASK_KEY!r} (the strategy did not record the decision-minute ask)"
        )
    if depth["unknown"]:
        notes.append(
            f"depth limit unknown for {depth['unknown']} of {depth['trades']} scalp(s): "
            f"no metadata {DEPTH_LIMITED_KEY!r}"
        )
    return notes


def execution_cost(
    trades: Iterable[ClosedScalp], thresholds: ExitThresholds = UNKNOWN_THRESHOLDS
) -> dict[str, Any]:
    """Return the report's ``execution_cost`` section (plain JSON values; module notes give the rules)."""
    scalps = list(trades)
    slip = entry_slippage(scalps, thresholds)
    depth = depth_limited_fills(scalps)
    return {
        "thresholds": {
            "take_profit_pct": thresholds.take_profit_pct,
            "stop_loss_pct": thresholds.stop_loss_pct,
            "source": thresholds.source,
        },
        "by_exit_reason": by_exit_reason(scalps, thresholds),
        "entry_slippage": slip,
        "depth_limited": depth,
        "notes": _notes(scalps, slip, depth, thresholds),
    }
