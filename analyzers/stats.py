"""Scalp statistics computed from closed scalps: pure, no backtrader, no I/O.

Conventions (every figure can be recomputed by hand from the trades):

- A *win* is a scalp with a strictly positive net P&L (``ClosedScalp.is_win``);
  a zero-P&L scalp is a *loss*, so ``winning_trades + losing_trades ==
  total_trades``.
- Dollar figures (``*_pnl``, ``avg_winner``, ...) are the scalps' ``pnl``: net of
  commission, with the x100 contract multiplier already in. Percent figures
  (``*_pct``) are fractions (0.25 = 25%) averaged over the scalps' ``pnl_pct``.
- ``profit_factor`` = gross profit / gross loss on dollar P&L: ``math.inf`` when
  there is profit and no loss, ``None`` with no trades (or when both are zero),
  ``0.0`` with losses and no profit. JSON writers turn ``inf`` into ``null``.
- Averages of an empty set are ``None``, never 0.
- Streaks run in exit-time order. Trades are grouped by their *entry* time in
  US/Eastern (hour and session date).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from analyzers import columns
from options_scalper.model import ExitReason
from options_scalper.records import ClosedScalp

EASTERN = ZoneInfo("America/New_York")
CONVICTION_BUCKETS: tuple[str, ...] = ("<50", "50-74", "75+")


def profit_factor(pnls: Iterable[float]) -> float | None:
    """Return gross profit / gross loss of dollar P&Ls (see module notes for edge cases)."""
    values = list(pnls)
    if not values:
        return None
    gross_profit = sum(p for p in values if p > 0)
    gross_loss = -sum(p for p in values if p < 0)
    if gross_loss > 0:
        return gross_profit / gross_loss
    return math.inf if gross_profit > 0 else None


def conviction_bucket(conviction: int) -> str:
    """Return the PRD-136 sizing bucket of a 0-100 conviction: ``<50``, ``50-74``, ``75+``."""
    if conviction >= 75:
        return "75+"
    if conviction >= 50:
        return "50-74"
    return "<50"


def entry_hour_et(scalp: ClosedScalp) -> int:
    """Return the US/Eastern hour (0-23) in which the scalp was entered."""
    return scalp.entry_time.astimezone(EASTERN).hour


def session_date_et(scalp: ClosedScalp) -> date:
    """Return the US/Eastern date on which the scalp was entered."""
    return scalp.entry_time.astimezone(EASTERN).date()


def longest_losing_streak(trades: Iterable[ClosedScalp]) -> int:
    """Return the most consecutive losses (zero P&L counts) in exit-time order (``analyzers.columns``)."""
    return columns.longest_losing_streak(columns.ScalpColumns.of(trades))


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def exit_breakdown(trades: Iterable[ClosedScalp]) -> dict[str, int]:
    """Return exit reason -> count: every ``ExitReason`` (0 when unused), then any other reason seen."""
    counts = {reason.value: 0 for reason in ExitReason}
    for t in trades:
        counts[t.exit_reason] = counts.get(t.exit_reason, 0) + 1
    return counts


def core_figures(trades: Sequence[ClosedScalp]) -> dict[str, Any]:
    """Return the figures reported per group: trades, win_rate, total_pnl, profit_factor."""
    wins = sum(1 for t in trades if t.is_win)
    return {
        "trades": len(trades),
        "win_rate": wins / len(trades) if trades else None,
        "total_pnl": sum(t.pnl for t in trades),
        "profit_factor": profit_factor(t.pnl for t in trades),
    }


def group_by(
    trades: Iterable[ClosedScalp],
    key: Callable[[ClosedScalp], str],
    order: Callable[[str], Any] = str,
) -> dict[str, dict[str, Any]]:
    """Return key -> ``core_figures`` of the trades with that key, keys sorted by ``order``."""
    groups: dict[str, list[ClosedScalp]] = {}
    for t in trades:
        groups.setdefault(key(t), []).append(t)
    return {k: core_figures(groups[k]) for k in sorted(groups, key=order)}


def _by_conviction(trades: Sequence[ClosedScalp]) -> dict[str, dict[str, Any]]:
    grouped = group_by(trades, lambda t: conviction_bucket(t.conviction))
    return {b: grouped[b] for b in CONVICTION_BUCKETS if b in grouped}


def scalp_stats(trades: Sequence[ClosedScalp]) -> dict[str, Any]:
    """Return the statistics of a run's closed scalps (module notes give the conventions).

    Group keys are strings: ticker, entry hour ``"09"``..``"15"`` (US/Eastern),
    conviction bucket, DTE ``"0"``/``"1"``.
    """
    winners = [t for t in trades if t.is_win]
    losers = [t for t in trades if not t.is_win]
    n = len(trades)
    total_pnl = sum(t.pnl for t in trades)
    return {
        "total_trades": n,
        "winning_trades": len(winners),
        "losing_trades": len(losers),
        "win_rate": len(winners) / n if n else None,
        "profit_factor": profit_factor(t.pnl for t in trades),
        "gross_profit": sum(t.pnl for t in trades if t.pnl > 0),
        "gross_loss": -sum(t.pnl for t in trades if t.pnl < 0),
        "total_pnl": total_pnl,
        "total_commission": sum(t.commission for t in trades),
        "total_contracts": sum(t.contracts for t in trades),
        "avg_pnl": total_pnl / n if n else None,
        "avg_pnl_pct": _mean([t.pnl_pct for t in trades]),
        "avg_winner": _mean([t.pnl for t in winners]),
        "avg_winner_pct": _mean([t.pnl_pct for t in winners]),
        "avg_loser": _mean([t.pnl for t in losers]),
        "avg_loser_pct": _mean([t.pnl_pct for t in losers]),
        "largest_winner": max((t.pnl for t in winners), default=None),
        "largest_winner_pct": max((t.pnl_pct for t in winners), default=None),
        "largest_loser": min((t.pnl for t in losers), default=None),
        "largest_loser_pct": min((t.pnl_pct for t in losers), default=None),
        "avg_hold_minutes": _mean([t.hold_minutes for t in trades]),
        "longest_losing_streak": longest_losing_streak(trades),
        "exit_breakdown": exit_breakdown(trades),
        "by_ticker": group_by(trades, lambda t: t.ticker),
        "by_entry_hour": group_by(trades, lambda t: f"{entry_hour_et(t):02d}"),
        "by_conviction": _by_conviction(trades),
        "by_dte": group_by(trades, lambda t: str(t.dte), order=int),
    }
