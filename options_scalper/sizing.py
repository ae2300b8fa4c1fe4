"""Contracts per scalp (PRD-136 ``ScalpSizer``; seed 003's percent-of-equity rule).

RISK_BUDGET (PRD-136): the stop loses ``max_loss_pct`` of the premium, and that
loss may be at most ``max_risk_per_scalp`` of equity::

    contracts = floor(equity * max_risk_per_scalp / (premium * 100 * max_loss_pct))

PERCENT_OF_EQUITY (003): ``floor(equity * position_size_pct / (premium * 100))``,
refused when the premium exceeds ``max_contract_price``.

Conviction (0-100), both modes: >= ``full_conviction`` full size;
``min_conviction`` .. ``full_conviction - 1`` half, floored, at least 1 (but
never more than the budget allows: a budget of 0 stays 0); below
``min_conviction`` nothing. ``premium`` is dollars per share (the entry price).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from options_scalper.config import SizingMode, SizingRule
from options_scalper.constants import CONTRACT_MULTIPLIER
from options_scalper.reasons import RejectReason

__all__ = ["ScalpSizer", "SizeDecision"]


@dataclass(frozen=True)
class SizeDecision:
    """How many contracts to buy; ``reason_code`` is set when ``contracts == 0``."""

    contracts: int
    reason_code: str | None
    message: str

    def __bool__(self) -> bool:
        return self.contracts > 0


class ScalpSizer:
    """Turn premium, conviction and equity into a contract count under one ``SizingRule``."""

    def __init__(self, rule: SizingRule) -> None:
        self.rule = rule

    def calculate(
        self,
        premium: float,
        conviction: int,
        equity: float,
        open_scalps: int = 0,
        worst_fill: float | None = None,
    ) -> SizeDecision:
        """Contracts for one scalp bought at ``premium`` dollars per share.

        ``worst_fill``: the highest price the entry may fill at (a marketable limit's
        cap); the budget is divided by it, so no fill inside the cap overruns it.
        """
        rule = self.rule
        if open_scalps >= rule.max_concurrent:
            return _none(
                RejectReason.MAX_CONCURRENT,
                f"{open_scalps} scalps open; max_concurrent is {rule.max_concurrent}",
            )
        if conviction < rule.min_conviction:
            return _none(
                RejectReason.LOW_CONVICTION, f"conviction {conviction} < minimum {rule.min_conviction}"
            )
        if not (math.isfinite(premium) and premium > 0):
            return _none(RejectReason.BAD_PREMIUM, f"premium {premium!r} is not a positive price")
        if not (math.isfinite(equity) and equity > 0):
            return _none(RejectReason.NO_EQUITY, f"equity {equity!r} leaves nothing to size with")
        if premium > rule.max_contract_price:
            return _none(
                RejectReason.MAX_CONTRACT_PRICE,
                f"premium {premium:.2f} > max_contract_price {rule.max_contract_price:.2f}",
            )
        contract_cost = max(premium, worst_fill or premium) * CONTRACT_MULTIPLIER
        if rule.mode is SizingMode.RISK_BUDGET:
            budget = equity * rule.max_risk_per_scalp
            full = math.floor(budget / (contract_cost * rule.max_loss_pct) + 1e-9)
            basis = f"risk ${budget:,.2f} / (${contract_cost:,.2f} x {rule.max_loss_pct:.0%} stop)"
        else:
            budget = equity * rule.position_size_pct
            full = math.floor(budget / contract_cost + 1e-9)
            basis = f"${budget:,.2f} / ${contract_cost:,.2f} per contract"
        if full < 1:
            return _none(RejectReason.RISK_BUDGET, f"one contract exceeds the budget: {basis} < 1")
        if conviction >= rule.full_conviction:
            return SizeDecision(full, None, f"{full} contracts (full size, conviction {conviction}): {basis}")
        half = max(1, full // 2)
        return SizeDecision(
            half, None, f"{half} contracts (half of {full}, conviction {conviction}): {basis}"
        )


def _none(reason: RejectReason, message: str) -> SizeDecision:
    return SizeDecision(0, reason, message)
