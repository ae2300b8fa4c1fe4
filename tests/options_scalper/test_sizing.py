"""ScalpSizer: PRD-136 risk budget with conviction scaling, seed 003 percent of equity."""

import math

import pytest

from options_scalper.config import MomentumConfig, ScalpConfig, SizingMode, SizingRule
from options_scalper.reasons import RejectReason
from options_scalper.sizing import ScalpSizer


@pytest.fixture
def prd_sizer():
    return ScalpSizer(ScalpConfig().sizing_rule())


class TestScalpSizer:
    def test_risk_based_sizing_formula(self, prd_sizer):
        # 100k * 2% = $2,000 risk; a $2.00 premium loses $100 per contract at the 50% stop -> 20
        decision = prd_sizer.calculate(premium=2.00, conviction=80, equity=100_000)
        assert decision.contracts == 20 and decision.reason_code is None and decision

    @pytest.mark.parametrize(
        ("conviction", "contracts", "reason"),
        [
            (49, 0, "low_conviction"),
            (50, 10, None),
            (74, 10, None),
            (75, 20, None),
            (100, 20, None),
        ],
    )
    def test_conviction_buckets(self, prd_sizer, conviction, contracts, reason):
        decision = prd_sizer.calculate(premium=2.00, conviction=conviction, equity=100_000)
        assert (decision.contracts, decision.reason_code) == (contracts, reason)

    def test_half_size_is_at_least_one_contract(self, prd_sizer):
        # budget allows exactly 1 contract: $200 risk / ($4.00 * 100 * 0.5)
        assert prd_sizer.calculate(premium=4.00, conviction=75, equity=10_000).contracts == 1
        assert prd_sizer.calculate(premium=4.00, conviction=60, equity=10_000).contracts == 1

    def test_half_size_floors_odd_budgets(self, prd_sizer):
        # full = floor(2000 / (3.00 * 50)) = 13 -> half = 6
        assert prd_sizer.calculate(premium=3.00, conviction=75, equity=100_000).contracts == 13
        assert prd_sizer.calculate(premium=3.00, conviction=60, equity=100_000).contracts == 6

    def test_premium_too_large_for_one_contract_is_risk_budget(self, prd_sizer):
        # $200 risk, $5.00 premium loses $250 per contract at the stop
        for conviction in (60, 90):  # half-size "min 1" must not override a budget of 0
            decision = prd_sizer.calculate(premium=5.00, conviction=conviction, equity=10_000)
            assert (decision.contracts, decision.reason_code) == (0, RejectReason.RISK_BUDGET)
            assert not decision

    def test_max_concurrent(self, prd_sizer):
        decision = prd_sizer.calculate(premium=1.0, conviction=90, equity=100_000, open_scalps=3)
        assert (decision.contracts, decision.reason_code) == (0, "max_concurrent")
        assert prd_sizer.calculate(premium=1.0, conviction=90, equity=100_000, open_scalps=2).contracts > 0

    @pytest.mark.parametrize("premium", [0.0, -1.0, math.nan, math.inf])
    def test_bad_premium_sizes_nothing(self, prd_sizer, premium):
        assert (
            prd_sizer.calculate(premium=premium, conviction=90, equity=100_000).reason_code == "bad_premium"
        )

    def test_no_equity_sizes_nothing(self, prd_sizer):
        assert prd_sizer.calculate(premium=1.0, conviction=90, equity=0.0).reason_code == "no_equity"

    def test_float_budget_does_not_lose_a_contract_to_rounding(self):
        rule = ScalpConfig(max_risk_per_scalp=0.03).sizing_rule()
        # 10,000 * 0.03 = 300.00000000000006 or 299.99999999999994 -> must be exactly 6 at $1.00
        assert ScalpSizer(rule).calculate(premium=1.0, conviction=90, equity=10_000).contracts == 6

    def test_percent_of_equity_seed_003(self):
        sizer = ScalpSizer(MomentumConfig().sizing_rule())
        # 5% of 25k = $1,250; a $2.50 ask costs $250 -> 5 contracts, no conviction scaling
        decision = sizer.calculate(premium=2.50, conviction=0, equity=25_000)
        assert decision.contracts == 5 and decision.reason_code is None

    def test_percent_of_equity_max_contract_price(self):
        sizer = ScalpSizer(MomentumConfig().sizing_rule())
        decision = sizer.calculate(premium=5.01, conviction=90, equity=1_000_000)
        assert (decision.contracts, decision.reason_code) == (0, "max_contract_price")
        assert sizer.calculate(premium=5.00, conviction=90, equity=1_000_000).contracts == 100

    def test_percent_of_equity_too_small_account(self):
        sizer = ScalpSizer(MomentumConfig().sizing_rule())
        assert sizer.calculate(premium=3.0, conviction=90, equity=1_000).reason_code == "risk_budget"

    def test_percent_of_equity_max_concurrent_one(self):
        sizer = ScalpSizer(MomentumConfig().sizing_rule())
        assert sizer.calculate(premium=1.0, conviction=90, equity=50_000, open_scalps=1).reason_code == (
            "max_concurrent"
        )

    def test_messages_explain_the_budget(self, prd_sizer):
        message = prd_sizer.calculate(premium=2.00, conviction=60, equity=100_000).message
        assert "half" in message and "$2,000.00" in message


def test_sizing_rule_rejects_min_above_full_conviction():
    from options_scalper.config import ConfigError

    with pytest.raises(ConfigError, match="min_conviction"):
        SizingRule(SizingMode.RISK_BUDGET, 0.02, 0.5, 0.0, math.inf, 50, 75, 3)
