"""GreeksGate: approve or veto a selected contract on its greeks (PRD-136).

A pipeline stage: a ``StrikeSelection`` and a small ``GateContext`` go in, a
frozen ``GreeksDecision`` comes out. Pure numbers, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from options_scalper.config import GateCriteria
from options_scalper.reasons import RejectReason
from options_scalper.selection import SPREAD_TOLERANCE, StrikeSelection

# Reason codes (machine-readable), in the order the checks run.
IV_RANK_HIGH = RejectReason.IV_RANK_HIGH
THETA_BURN = RejectReason.THETA_BURN
SPREAD_WIDE = RejectReason.SPREAD_TOO_WIDE
DELTA_OUT_OF_RANGE = RejectReason.DELTA_OUT_OF_RANGE
GAMMA_EXTREME = RejectReason.GAMMA_EXTREME

# Names of the checks, as listed in ``GreeksDecision.skipped_checks``.
CHECK_IV_RANK = "iv_rank"
CHECK_THETA_BURN = "theta_burn"
CHECK_SPREAD = "spread"
CHECK_DELTA = "delta"
CHECK_GAMMA = "gamma"


@dataclass(frozen=True)
class GateContext:
    """What the gate needs besides the selection.

    ``iv_history``: daily ATM implied volatilities (fractions) of the days before
    today, e.g. from the catalog's day summaries. ``current_iv``: today's IV to rank
    (default: the selected contract's IV). ``is_0dte``: default from the selection's DTE.
    """

    iv_history: Sequence[float] = ()
    is_0dte: bool | None = None
    current_iv: float | None = None


@dataclass(frozen=True)
class GreeksDecision:
    """The gate's verdict.

    ``reason_code`` / ``reason`` name the first failed check (``None`` when
    approved); ``failed`` lists every failed check's code. ``skipped_checks`` names
    checks not applied (disabled, not for this DTE, or too little IV history), and
    ``notes`` says why. ``adjustments`` carries advisory, machine-readable extras
    (``{"skipped_checks": [...], "notes": [...]}`` when anything was skipped), else None.
    ``metrics`` holds the values checked (``iv_rank``, ``theta_burn_pct``, ...).
    """

    approved: bool
    reason: str | None
    adjustments: dict[str, Any] | None
    reason_code: str | None = None
    failed: tuple[str, ...] = ()
    skipped_checks: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)


def iv_percentile(current_iv: float, history: Sequence[float]) -> float:
    """Percentile (fraction 0-1) of ``current_iv`` within ``history``: what PRD-136's "IV rank" checks.

    Share of finite history values below ``current_iv``, ties counting half. PRD-136
    writes "IV rank < 80th percentile" (``max_iv_rank`` = 0.80, "80th percentile IV
    rank"), so the gate compares this percentile with ``max_iv_rank``; it is NOT the
    min-max IV rank ``(iv - min) / (max - min)``, which one extreme day in the history
    would skew. NaN when the history holds no finite value or ``current_iv`` is not finite.
    """
    values = [float(v) for v in history if math.isfinite(v)]
    if not values or not math.isfinite(current_iv):
        return math.nan
    below = sum(1 for v in values if v < current_iv)
    equal = sum(1 for v in values if v == current_iv)
    return (below + 0.5 * equal) / len(values)


class GreeksGate:
    """Check a selection's greeks against ``GateCriteria``; ``None`` in a criterion disables it.

    Checks (PRD-136), in order; the first failure names the decision:

    1. IV percentile (``iv_percentile``) < ``max_iv_rank`` (``iv_rank_high``): not for 0DTE;
       skipped, and said so, with fewer than ``min_iv_history_days`` days of history.
    2. |theta_per_day| / mid < ``max_theta_burn_pct`` (``theta_burn``): 1DTE+ only.
    3. spread_pct < ``max_spread_pct`` (``spread_too_wide``), the selector's own bound
       (PRD-136: below 10%, so exactly at the limit is refused).
    4. ``delta_min`` <= |delta| <= ``delta_max`` (``delta_out_of_range``).
    5. gamma <= ``max_gamma`` (``gamma_extreme``) unless 0DTE.
    """

    def __init__(self, criteria: GateCriteria) -> None:
        self.criteria = criteria

    def validate(self, selection: StrikeSelection, context: GateContext | None = None) -> GreeksDecision:
        """Return the verdict on ``selection`` given the IV history and DTE in ``context``."""
        c = self.criteria
        ctx = context if context is not None else GateContext()
        is_0dte = selection.dte == 0 if ctx.is_0dte is None else ctx.is_0dte
        failures: list[tuple[str, str]] = []
        skipped: list[str] = []
        notes: list[str] = []
        metrics: dict[str, float] = {}
        sym = selection.option_symbol

        # 1. IV rank
        if c.max_iv_rank is None:
            skipped.append(CHECK_IV_RANK)
            notes.append("iv_rank: disabled")
        elif is_0dte:
            skipped.append(CHECK_IV_RANK)
            notes.append("iv_rank: not applied to 0DTE (theta dominates)")
        else:
            history = [v for v in ctx.iv_history if math.isfinite(v)]
            if len(history) < c.min_iv_history_days or not history:
                skipped.append(CHECK_IV_RANK)
                notes.append(
                    f"iv_rank: skipped, {len(history)} day(s) of IV history, "
                    f"need {max(c.min_iv_history_days, 1)}"
                )
            else:
                today = selection.iv if ctx.current_iv is None else ctx.current_iv
                rank = iv_percentile(today, history)
                metrics["iv_percentile"] = rank
                if not rank < c.max_iv_rank:
                    failures.append(
                        (
                            IV_RANK_HIGH,
                            f"{sym}: IV {today:.1%} ranks {rank:.0%} of {len(history)} days, "
                            f"not below the {c.max_iv_rank:.0%} limit (IV crush risk)",
                        )
                    )

        # 2. theta burn, 1DTE+
        if c.max_theta_burn_pct is None:
            skipped.append(CHECK_THETA_BURN)
            notes.append("theta_burn: disabled")
        elif is_0dte:
            skipped.append(CHECK_THETA_BURN)
            notes.append("theta_burn: checked for 1DTE+ only")
        else:
            burn = abs(selection.theta_per_day) / selection.mid if selection.mid > 0 else math.inf
            metrics["theta_burn_pct"] = burn
            if not burn < c.max_theta_burn_pct:
                failures.append(
                    (
                        THETA_BURN,
                        f"{sym}: theta burns {burn:.1%} of the ${selection.mid:.2f} premium a day, "
                        f"not below {c.max_theta_burn_pct:.1%}",
                    )
                )

        # 3. spread
        metrics["spread_pct"] = selection.spread_pct
        if not selection.spread_pct < c.max_spread_pct - SPREAD_TOLERANCE:
            failures.append(
                (
                    SPREAD_WIDE,
                    f"{sym}: spread {selection.spread_pct:.1%} of mid is not below {c.max_spread_pct:.1%}",
                )
            )

        # 4. delta
        abs_delta = abs(selection.delta)
        metrics["abs_delta"] = abs_delta
        if not c.delta_min <= abs_delta <= c.delta_max:
            failures.append(
                (
                    DELTA_OUT_OF_RANGE,
                    f"{sym}: |delta| {abs_delta:.3f} outside {c.delta_min:.2f}-{c.delta_max:.2f}",
                )
            )

        # 5. gamma, unless 0DTE
        metrics["gamma"] = selection.gamma
        if c.max_gamma is None:
            skipped.append(CHECK_GAMMA)
            notes.append("gamma: disabled")
        elif is_0dte:
            skipped.append(CHECK_GAMMA)
            notes.append("gamma: not applied to 0DTE")
        elif not selection.gamma <= c.max_gamma:
            failures.append(
                (GAMMA_EXTREME, f"{sym}: gamma {selection.gamma:.3f} above the {c.max_gamma:.3f} limit")
            )

        adjustments = {"skipped_checks": list(skipped), "notes": list(notes)} if skipped else None
        if failures:
            code, reason = failures[0]
            return GreeksDecision(
                approved=False,
                reason=reason,
                adjustments=adjustments,
                reason_code=code,
                failed=tuple(f[0] for f in failures),
                skipped_checks=tuple(skipped),
                notes=tuple(notes),
                metrics=metrics,
            )
        return GreeksDecision(
            approved=True,
            reason=None,
            adjustments=adjustments,
            reason_code=None,
            skipped_checks=tuple(skipped),
            notes=tuple(notes),
            metrics=metrics,
        )
