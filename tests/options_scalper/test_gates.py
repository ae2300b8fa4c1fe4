"""GreeksGate: PRD-136's five checks and their 0DTE exceptions."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from options_scalper.config import GateCriteria, MomentumConfig, ScalpConfig
from options_scalper.gates import GateContext, GreeksGate, iv_percentile
from options_scalper.model import OptionRight
from options_scalper.selection import StrikeSelection

BASE = StrikeSelection(
    strike=502.0,
    expiry=date(2024, 3, 14),
    option_type="call",
    option_symbol="SPY240314C00502000",
    delta=0.40,
    gamma=0.08,
    theta=-0.05,
    iv=0.20,
    bid=2.00,
    ask=2.10,
    mid=2.05,
    spread_pct=0.10 / 2.05,
    open_interest=None,
    volume=None,
    score=8.0,
    dte=1,
    right=OptionRight.CALL,
    quote_age_min=0.0,
    bid_size=50.0,
    ask_size=50.0,
    underlying_price=500.0,
    time_to_expiry_years=1.2 / 365,
    vega=0.15,
    theta_per_day=-0.05,
)
HISTORY = [0.10 + 0.01 * i for i in range(30)]  # 0.10 .. 0.39


def sel(**changes) -> StrikeSelection:
    if "theta_per_day" in changes:
        changes["theta"] = changes["theta_per_day"]
    return dataclasses.replace(BASE, **changes)


def prd_gate(**changes) -> GreeksGate:
    return GreeksGate(dataclasses.replace(ScalpConfig().gate_criteria(), **changes))


class TestGreeksGate:
    def test_validate_healthy_1dte_approved(self):
        decision = prd_gate().validate(sel(), GateContext(iv_history=HISTORY))
        assert decision.approved and decision.reason is None and decision.reason_code is None
        assert decision.skipped_checks == () and decision.adjustments is None
        assert decision.metrics["iv_percentile"] == pytest.approx(10.5 / 30)  # 0.20 ties one day
        assert decision.metrics["theta_burn_pct"] == pytest.approx(0.05 / 2.05)

    # -- 1. IV rank ----------------------------------------------------------------------

    def test_iv_rank_is_percentile_with_half_ties(self):
        assert iv_percentile(0.05, HISTORY) == 0.0
        assert iv_percentile(0.50, HISTORY) == 1.0
        assert iv_percentile(0.20, [0.1, 0.2, 0.3, 0.4]) == pytest.approx(1.5 / 4)
        assert iv_percentile(0.2, [float("nan")]) != iv_percentile(0.2, [float("nan")])  # NaN

    def test_validate_iv_rank_high_on_1dte_rejects(self):
        decision = prd_gate().validate(sel(iv=0.45), GateContext(iv_history=HISTORY))
        assert not decision.approved
        assert decision.reason_code == "iv_rank_high"
        assert "100%" in (decision.reason or "")

    def test_validate_iv_rank_uses_context_current_iv(self):
        ctx = GateContext(iv_history=HISTORY, current_iv=0.12)
        assert prd_gate().validate(sel(iv=0.45), ctx).approved

    def test_validate_iv_rank_not_applied_to_0dte(self):
        decision = prd_gate().validate(sel(iv=0.45, dte=0), GateContext(iv_history=HISTORY, is_0dte=True))
        assert decision.approved
        assert "iv_rank" in decision.skipped_checks

    def test_validate_too_little_history_skips_iv_rank_and_says_so(self):
        decision = prd_gate().validate(sel(iv=0.45), GateContext(iv_history=HISTORY[:5]))
        assert decision.approved
        assert decision.skipped_checks == ("iv_rank",)
        assert decision.adjustments is not None
        assert decision.adjustments["skipped_checks"] == ["iv_rank"]
        assert "5 day(s) of IV history, need 20" in decision.adjustments["notes"][0]

    def test_validate_no_history_skips_iv_rank(self):
        decision = prd_gate(min_iv_history_days=0).validate(sel(iv=0.45), GateContext())
        assert decision.approved and "iv_rank" in decision.skipped_checks

    # -- 2. theta burn -------------------------------------------------------------------

    def test_validate_theta_burn_on_1dte_rejects(self):
        decision = prd_gate().validate(sel(theta_per_day=-0.15), GateContext(iv_history=HISTORY))
        assert (decision.approved, decision.reason_code) == (False, "theta_burn")
        assert decision.metrics["theta_burn_pct"] == pytest.approx(0.15 / 2.05)

    def test_validate_theta_burn_not_checked_for_0dte(self):
        decision = prd_gate().validate(sel(theta_per_day=-1.5, dte=0, gamma=0.05), GateContext(is_0dte=True))
        assert decision.approved
        assert "theta_burn" in decision.skipped_checks

    # -- 3. spread, 4. delta -------------------------------------------------------------

    def test_validate_spread_wide_rejects(self):
        decision = prd_gate().validate(sel(spread_pct=0.12), GateContext(iv_history=HISTORY))
        assert decision.reason_code == "spread_too_wide"

    @pytest.mark.parametrize(
        ("delta", "ok"), [(0.30, True), (0.50, True), (0.29, False), (0.55, False), (-0.40, True)]
    )
    def test_validate_delta_range_on_abs_delta(self, delta, ok):
        right = OptionRight.PUT if delta < 0 else OptionRight.CALL
        decision = prd_gate().validate(sel(delta=delta, right=right), GateContext(iv_history=HISTORY))
        assert decision.approved is ok
        if not ok:
            assert decision.reason_code == "delta_out_of_range"

    # -- 5. gamma ------------------------------------------------------------------------

    def test_validate_extreme_gamma_on_1dte_rejects(self):
        decision = prd_gate().validate(sel(gamma=0.20), GateContext(iv_history=HISTORY))
        assert decision.reason_code == "gamma_extreme"

    def test_validate_extreme_gamma_allowed_on_0dte(self):
        decision = prd_gate().validate(sel(gamma=0.40, dte=0), GateContext())
        assert decision.approved
        assert set(decision.skipped_checks) == {"iv_rank", "theta_burn", "gamma"}

    def test_validate_is_0dte_defaults_to_selection_dte(self):
        assert prd_gate().validate(sel(gamma=0.40, dte=0)).approved
        assert not prd_gate().validate(sel(gamma=0.40, dte=1)).approved

    # -- combinations and disabled checks -------------------------------------------------

    def test_validate_several_failures_first_names_decision_all_listed(self):
        decision = prd_gate().validate(
            sel(iv=0.5, theta_per_day=-0.5, spread_pct=0.2, delta=0.7, gamma=0.3),
            GateContext(iv_history=HISTORY),
        )
        assert decision.reason_code == "iv_rank_high"
        assert decision.failed == (
            "iv_rank_high",
            "theta_burn",
            "spread_too_wide",
            "delta_out_of_range",
            "gamma_extreme",
        )

    def test_validate_none_criteria_disable_checks(self):
        criteria: GateCriteria = MomentumConfig().gate_criteria()
        decision = GreeksGate(criteria).validate(
            sel(iv=0.9, theta_per_day=-1.0, gamma=0.9, delta=0.35, spread_pct=0.05),
            GateContext(iv_history=HISTORY),
        )
        assert decision.approved
        assert decision.skipped_checks == ("iv_rank", "theta_burn", "gamma")
        assert all("disabled" in note for note in decision.notes)


@pytest.mark.parametrize(("spread", "ok"), [(0.0999, True), (0.10, False), (0.1000000000001, False)])
def test_gate_spread_must_be_below_the_limit_not_at_it(spread, ok):
    decision = prd_gate().validate(sel(spread_pct=spread), GateContext(iv_history=HISTORY))
    assert (decision.reason_code != "spread_too_wide") is ok
