"""What execution cost: exit thresholds vs realised P&L, entry slippage, depth-limited fills. Pure.

Every figure comes from the closed scalps (the rows of trades.csv, plus two keys
of their ``metadata`` that the journal keeps in ``metadata_json``):

- ``pnl_pct`` is the trades.csv column: net P&L over the dollars paid at entry
  (commission in). ``premium_move_pct`` is ``exit_premium / entry_premium - 1``,
  the gross move the target and stop rules compare with their threshold.
- Entry slippage of one scalp is ``(entry_premium - decision_ask) / decision_ask``
  with ``metadata["decision_ask"]``, the ask of the chosen contract in the decision
  minute (``entry_premium`` averages every entry fill, tranches included).
- ``metadata["depth_limited"]`` (bool) says some fill of the scalp was cut to the
  displayed size.

A scalp without such a key (or with a value that is not a usable number / bool)
counts as *unknown*: it is left out of that figure, the counts say how many, and
with none known the figure is ``None`` and a note says why. Nothing is invented.
Fractions throughout (0.05 = 5 %). ``p90`` interpolates linearly between the two
nearest ranks (numpy's default); an empty set has no mean, median or p90.

The sections take ``ClosedScalp`` records (a backtest) or their ``ScalpColumns`` (the
dashboard's journal read) and compute on the columns (``analyzers.columns``); the
per-scalp helpers (``premium_move_pct`` ...) are the same array code on one scalp.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analyzers.columns import (
    DECISION_ASK_KEY,
    DEPTH_LIMITED_KEY,
    UNKNOWN_FLAG,
    ScalpColumns,
    Trades,
    as_columns,
    finite_number,
    total,
    utc_datetime,
)
from options_scalper.model import ExitReason
from options_scalper.records import ClosedScalp

SLIPPAGE_ALERT_PCT = 0.05  # seed 003's paper checklist: fills within 5% of the expected entry
WORST_ENTRIES = 5


@dataclass(frozen=True)
class ExitThresholds:
    """The run's exit thresholds as positive fractions of the entry premium (None: unknown)."""

    take_profit_pct: float | None
    stop_loss_pct: float | None
    max_entry_slippage_pct: float | None = None
    source: str = "unknown"

    def for_reason(self, reason: str) -> float | None:
        """The signed threshold of an exit reason (+target, -stop), None for rules without one."""
        if reason == ExitReason.TAKE_PROFIT.value and self.take_profit_pct is not None:
            return self.take_profit_pct
        if reason == ExitReason.STOP_LOSS.value and self.stop_loss_pct is not None:
            return -self.stop_loss_pct
        return None


UNKNOWN_THRESHOLDS = ExitThresholds(None, None)


def exit_thresholds(config_cls: type | None, params: Mapping[str, Any]) -> ExitThresholds:
    """Return the thresholds of ``config_cls`` built from its defaults with ``params`` on top.

    ``config_cls`` is a strategy's config dataclass (``ScalpConfig``-like: ``field_names``,
    ``with_overrides``, ``exit_rules``); params that are not its fields are ignored.
    A class without those, or params it refuses, give unknown thresholds.
    """
    if config_cls is None:
        return UNKNOWN_THRESHOLDS
    try:
        names = set(config_cls.field_names())  # type: ignore[attr-defined]
        config = config_cls().with_overrides(**{k: v for k, v in params.items() if k in names})
        rules = config.exit_rules()
    except (AttributeError, TypeError, ValueError):  # ConfigError is a ValueError
        return UNKNOWN_THRESHOLDS
    return ExitThresholds(
        take_profit_pct=finite_number(getattr(rules, "profit_target_pct", None)),
        stop_loss_pct=finite_number(getattr(rules, "stop_loss_pct", None)),
        max_entry_slippage_pct=finite_number(getattr(config, "max_entry_slippage_pct", None)),
        source=f"run params over {config_cls.__name__} defaults",
    )


# ------------------------------------------------------------------ distributions


def percentile(values: Sequence[float] | np.ndarray, q: float) -> float | None:
    """Return the ``q`` quantile (0..1) by linear interpolation between the nearest ranks."""
    if not len(values):
        return None
    xs = np.sort(np.asarray(values, dtype=np.float64), kind="stable").tolist()
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def distribution(values: Sequence[float] | np.ndarray) -> dict[str, float | None]:
    """Return mean, median, worst (min) and best (max) of ``values`` (None when empty)."""
    xs = np.asarray(values, dtype=np.float64)
    return {
        "mean": total(xs) / len(xs) if len(xs) else None,
        "median": percentile(xs, 0.5),
        "worst": min(xs.tolist(), default=None),
        "best": max(xs.tolist(), default=None),
    }


def premium_moves(trades: Trades) -> np.ndarray:
    """Per scalp ``exit_premium / entry_premium - 1``; NaN without a positive entry premium."""
    c = as_columns(trades)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        move = c.exit_premium / c.entry_premium - 1.0
    return np.where((c.entry_premium > 0) & np.isfinite(move), move, np.nan)


def entry_slippages(trades: Trades) -> np.ndarray:
    """Per scalp ``(entry_premium - decision_ask) / decision_ask``; NaN when the decision ask is unknown."""
    c = as_columns(trades)
    ask = c.decision_ask
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slip = (c.entry_premium - ask) / ask
    return np.where((ask > 0) & np.isfinite(slip), slip, np.nan)


def _one(values: np.ndarray) -> float | None:
    return None if np.isnan(values[0]) else float(values[0])


def premium_move_pct(scalp: ClosedScalp) -> float | None:
    """``premium_moves`` of one scalp (None without a positive entry premium)."""
    return _one(premium_moves([scalp]))


def entry_slippage_pct(scalp: ClosedScalp) -> float | None:
    """``entry_slippages`` of one scalp (None when the decision ask is unknown)."""
    return _one(entry_slippages([scalp]))


def depth_limited(scalp: ClosedScalp) -> bool | None:
    """Return ``metadata["depth_limited"]``; None when the scalp does not say."""
    flag = int(ScalpColumns.of([scalp]).depth_limited[0])
    return None if flag == UNKNOWN_FLAG else bool(flag)


# ------------------------------------------------------------------ sections


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def by_exit_reason(trades: Trades, thresholds: ExitThresholds) -> dict[str, dict[str, Any]]:
    """Per exit reason seen (``ExitReason`` order, then others): threshold vs realised P&L and move."""
    c = as_columns(trades)
    rank = {r.value: i for i, r in enumerate(ExitReason)}
    codes, distinct = pd.factorize(c.exit_reason, use_na_sentinel=False)
    seen: list[str] = distinct.tolist()
    moves = premium_moves(c)
    out: dict[str, dict[str, Any]] = {}
    for code, reason in sorted(enumerate(seen), key=lambda cr: (rank.get(cr[1], len(rank)), cr[1])):
        rows = codes == code
        threshold = thresholds.for_reason(reason)
        pnl_stats = distribution(_finite(c.pnl_pct[rows]))
        move_stats = distribution(_finite(moves[rows]))
        out[reason] = {
            "trades": int(rows.sum()),
            "threshold_pct": threshold,
            "pnl_pct": pnl_stats,
            "premium_move_pct": move_stats,
            "mean_move_past_threshold_pct": (
                None if threshold is None or move_stats["mean"] is None else move_stats["mean"] - threshold
            ),
        }
    return out


def _entry_row(c: ScalpColumns, row: int, slippage: float) -> dict[str, Any]:
    return {
        "signal_id": c.signal_id[row],
        "option_symbol": c.option_symbol[row],
        "entry_time": utc_datetime(c.entry_ns[row]).isoformat(),
        "decision_ask": float(c.decision_ask[row]),
        "entry_premium": float(c.entry_premium[row]),
        "slippage_pct": slippage,
    }


def entry_slippage(trades: Trades, thresholds: ExitThresholds) -> dict[str, Any]:
    """Entry fill vs decision-minute ask: distribution, count above 5 %, the worst entries."""
    c = as_columns(trades)
    slips = entry_slippages(c)
    known = np.flatnonzero(~np.isnan(slips))
    values = slips[known]
    worst = known[np.lexsort((c.entry_ns[known], -values))[:WORST_ENTRIES]]
    return {
        "trades": len(c),
        "known": len(known),
        "unknown": len(c) - len(known),
        "mean": total(values) / len(values) if len(values) else None,
        "median": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "max": max(values.tolist(), default=None),
        "alert_pct": SLIPPAGE_ALERT_PCT,
        "above_alert": int((values > SLIPPAGE_ALERT_PCT).sum()),
        "cap_pct": thresholds.max_entry_slippage_pct,
        "worst_entries": [_entry_row(c, int(i), float(slips[i])) for i in worst],
    }


def depth_limited_fills(trades: Trades) -> dict[str, Any]:
    """How many scalps had a fill cut to the displayed size, of those that say."""
    c = as_columns(trades)
    known = int((c.depth_limited != UNKNOWN_FLAG).sum())
    hit = int((c.depth_limited == 1).sum())
    return {
        "trades": len(c),
        "known": known,
        "unknown": len(c) - known,
        "depth_limited": hit,
        "share": hit / known if known else None,
    }


def _notes(
    trades: ScalpColumns,
    slip: Mapping[str, Any],
    depth: Mapping[str, Any],
    thresholds: ExitThresholds,
) -> list[str]:
    notes: list[str] = []
    if not len(trades):
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


def execution_cost(trades: Trades, thresholds: ExitThresholds = UNKNOWN_THRESHOLDS) -> dict[str, Any]:
    """Return the report's ``execution_cost`` section (plain JSON values; module notes give the rules)."""
    scalps = as_columns(trades)
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
