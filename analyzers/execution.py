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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from options_scalper.model import ExitReason
from options_scalper.records import ClosedScalp

SLIPPAGE_ALERT_PCT = 0.05  # seed 003's paper checklist: fills within 5% of the expected entry
DECISION_ASK_KEY = "decision_ask"
DEPTH_LIMITED_KEY = "depth_limited"
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


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


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
        take_profit_pct=_number(getattr(rules, "profit_target_pct", None)),
        stop_loss_pct=_number(getattr(rules, "stop_loss_pct", None)),
        max_entry_slippage_pct=_number(getattr(config, "max_entry_slippage_pct", None)),
        source=f"run params over {config_cls.__name__} defaults",
    )


# ------------------------------------------------------------------ distributions


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


# ------------------------------------------------------------------ sections


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
