"""OptionsScalper: signal -> strike -> greeks -> size -> OrderIntent, and every pre-filter refusal."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import date

import numpy as np
import pytest

from options_scalper.config import MomentumConfig, ScalpConfig
from options_scalper.model import AccountState, Direction, OptionRight, Rejection, Signal
from options_scalper.scalper import (
    ChainMismatchError,
    OptionsScalper,
    OrderIntent,
    entry_limit_price,
    round_to_tick,
    tick_size,
)

WED, THU = date(2024, 3, 13), date(2024, 3, 14)
ACCOUNT = AccountState(equity=100_000.0, cash=100_000.0)
FINE = np.arange(490.0, 510.01, 0.5)


def signal(ts, *, ticker="SPY", direction=Direction.BULLISH, conviction=80, macro_aligned=True) -> Signal:
    return Signal(
        signal_id="sig-1",
        ticker=ticker,
        ts=ts,
        direction=direction,
        conviction=conviction,
        trigger="cloud_flip",
        macro_aligned=macro_aligned,
    )


def intent_of(result) -> OrderIntent:
    assert isinstance(result, OrderIntent), result
    return result


def rejected(result, code: str) -> Rejection:
    assert isinstance(result, Rejection), result
    assert result.reason_code == code, result
    assert result.message and " " in result.message  # a sentence, not a bare code
    return result


class TestTicks:
    @pytest.mark.parametrize(
        ("price", "ticker", "tick"),
        [
            (2.99, "TSLA", 0.01),
            (3.00, "TSLA", 0.05),
            (7.50, "NVDA", 0.05),
            (7.50, "SPY", 0.01),
            (12.0, "QQQ", 0.01),
            (2.50, "SPX", 0.05),
            (3.50, "SPXW", 0.10),
        ],
    )
    def test_tick_size_by_price_and_class(self, price, ticker, tick):
        assert tick_size(price, ticker) == tick

    @pytest.mark.parametrize(
        ("mid", "ask", "ticker", "limit"),
        [
            (1.234, 1.30, "SPY", 1.25),  # 1.254 -> 1.25
            (1.235, 1.30, "SPY", 1.26),  # 1.255 -> 1.26 (halves up)
            (3.12, 3.30, "TSLA", 3.15),  # 3.14 on a nickel grid
            (3.12, 3.30, "SPY", 3.14),  # SPY: pennies at every price
            (1.00, 1.01, "SPY", 1.01),  # never above the ask
        ],
    )
    def test_entry_limit_price_mid_plus_offset_on_tick_capped_at_ask(self, mid, ask, ticker, limit):
        assert entry_limit_price(mid, ask, 0.02, ticker) == pytest.approx(limit)

    def test_round_to_tick_is_exact_cents(self):
        assert round_to_tick(0.1 + 0.2, "SPY") == 0.30


class TestOptionsScalper:
    def test_process_signal_full_pipeline_builds_half_tranche_limit_intent(self, make_chain):
        snap = make_chain(open_interest=5000, volume=800, strikes=FINE, spread_pct=0.09)
        intent = intent_of(OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, ACCOUNT))
        sel = intent.selection
        assert (intent.expiry, intent.dte, intent.right) == (WED, 0, OptionRight.CALL)
        assert 0.30 <= sel.abs_delta <= 0.50 and sel.spread_pct <= 0.10
        assert intent.gate.approved
        expected_limit = min(sel.ask, math.floor((sel.mid + 0.02) * 100 + 0.5) / 100)
        assert intent.limit_price == pytest.approx(expected_limit)
        assert intent.limit_price < sel.ask  # the spread is wide enough for mid + 0.02
        assert intent.limit_price == pytest.approx(round(intent.limit_price, 2), abs=1e-12)  # on the penny
        # PRD-136 sizing: floor(equity * 2% / (premium * 100 * 50%)), full size at conviction 80
        total = math.floor(100_000 * 0.02 / (intent.limit_price * 100 * 0.5) + 1e-9)
        assert intent.total_quantity == total
        assert intent.quantity == math.ceil(total / 2)
        assert intent.quantity + intent.add_quantity == total
        assert intent.order_type == "limit"
        assert (intent.signal_id, intent.ticker, intent.conviction) == ("sig-1", "SPY", 80)
        assert intent.created == snap.ts and intent.direction is Direction.BULLISH
        assert intent.option_symbol == sel.option_symbol and intent.strike == sel.strike

    def test_process_signal_bearish_buys_a_put(self, make_chain):
        snap = make_chain(strikes=FINE)
        cfg = ScalpConfig(min_open_interest=0, min_volume=0)
        intent = intent_of(
            OptionsScalper(cfg).process_signal(signal(snap.ts, direction=Direction.BEARISH), snap, ACCOUNT)
        )
        assert intent.right is OptionRight.PUT and intent.selection.delta < 0

    def test_process_signal_medium_conviction_halves_size(self, make_chain):
        snap = make_chain(strikes=FINE)
        scalper = OptionsScalper(ScalpConfig())
        full = intent_of(scalper.process_signal(signal(snap.ts, conviction=90), snap, ACCOUNT))
        half = intent_of(scalper.process_signal(signal(snap.ts, conviction=60), snap, ACCOUNT))
        assert half.total_quantity == max(1, full.total_quantity // 2)

    def test_process_signal_momentum_pays_the_ask_all_at_once(self, make_chain):
        snap = make_chain(strikes=FINE)
        intent = intent_of(
            OptionsScalper(MomentumConfig()).process_signal(signal(snap.ts, conviction=10), snap, ACCOUNT)
        )
        assert intent.order_type == "ask"
        ask = intent.selection.ask  # a marketable limit: the ask plus at most 5%, on a tick
        assert ask <= intent.limit_price <= ask * 1.05 and intent.limit_price == round(intent.limit_price, 2)
        assert intent.quantity == intent.total_quantity and intent.add_quantity == 0
        assert intent.total_quantity == math.floor(
            100_000 * 0.05 / (intent.limit_price * 100) + 1e-9
        )  # at the cap
        assert 0.25 <= intent.selection.abs_delta <= 0.45

    def test_process_signal_same_inputs_same_intent(self, make_chain):
        snap = make_chain(strikes=FINE)
        a = OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, ACCOUNT)
        b = OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, ACCOUNT)
        assert isinstance(a, OrderIntent) and a == b

    # -- pre-filter ------------------------------------------------------------------------

    def test_low_conviction_rejected(self, make_chain):
        snap = make_chain()
        rejected(
            OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts, conviction=49), snap, ACCOUNT),
            "low_conviction",
        )

    def test_macro_misaligned_rejected(self, make_chain):
        snap = make_chain()
        result = OptionsScalper(ScalpConfig()).process_signal(
            signal(snap.ts, macro_aligned=False), snap, ACCOUNT
        )
        rejected(result, "macro_misaligned")
        off = OptionsScalper(ScalpConfig(require_macro_alignment=False, min_open_interest=0, min_volume=0))
        assert isinstance(
            off.process_signal(signal(snap.ts, macro_aligned=False), make_chain(strikes=FINE), ACCOUNT),
            OrderIntent,
        )

    def test_before_start_rejected(self, make_chain, et):
        snap = make_chain(ts=et(2024, 3, 13, 9, 32))
        rejected(OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, ACCOUNT), "before_start")

    @pytest.mark.parametrize("when", [(2024, 3, 13, 16, 30), (2024, 3, 16, 10, 30), (2024, 3, 29, 10, 30)])
    def test_market_closed_rejected(self, make_chain, et, when):
        snap = make_chain(ts=et(*when), expiries=(date(*when[:3]),))
        rejected(
            OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, ACCOUNT), "market_closed"
        )

    def test_after_0dte_cutoff_with_only_0dte_rejected(self, make_chain, et):
        snap = make_chain(ts=et(2024, 3, 13, 14, 30), expiries=(WED,))
        rej = rejected(
            OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, ACCOUNT), "after_cutoff"
        )
        assert "zero_dte_cutoff" in rej.message

    def test_after_0dte_cutoff_only_1dte_remains(self, make_chain, et):
        snap = make_chain(ts=et(2024, 3, 13, 14, 30), strikes=FINE)
        # PRD-136's 5 % theta-burn limit vetoes an ordinary 1DTE contract ...
        rej = rejected(
            OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, ACCOUNT), "theta_burn"
        )
        assert "SPY240314C" in rej.message
        # ... so loosen it to see the 1DTE intent go through
        cfg = ScalpConfig(max_theta_burn_pct=1.0, max_gamma=1.0)
        intent = intent_of(OptionsScalper(cfg).process_signal(signal(snap.ts), snap, ACCOUNT))
        assert (intent.expiry, intent.dte) == (THU, 1)
        assert "iv_rank" in intent.gate.skipped_checks  # no IV history given

    def test_after_1dte_cutoff_rejected(self, make_chain, et):
        snap = make_chain(ts=et(2024, 3, 13, 15, 31))
        rejected(OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, ACCOUNT), "after_cutoff")

    def test_half_day_cutoff_applies(self, make_chain, et):
        snap = make_chain(
            ts=et(2024, 11, 29, 12, 40), expiries=(date(2024, 11, 29), date(2024, 12, 2)), half_day=True
        )
        rej = rejected(
            OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, ACCOUNT), "after_cutoff"
        )
        assert "half day" in rej.message

    def test_fomc_blackout_rejected(self, make_chain, et):
        snap = make_chain(ts=et(2024, 3, 20, 13, 45), expiries=(date(2024, 3, 20), date(2024, 3, 21)))
        rejected(
            OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, ACCOUNT), "fomc_blackout"
        )

    def test_fomc_blackout_is_checked_at_the_fill_minute_too(self, make_chain, et):
        # 2024-03-20: statement at 14:00 ET, blackout 13:30-14:30; a 13:29 decision fills at 13:30
        snap = make_chain(ts=et(2024, 3, 20, 13, 29), expiries=(date(2024, 3, 20), date(2024, 3, 21)))
        rej = rejected(
            OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, ACCOUNT), "fomc_blackout"
        )
        assert "could fill at 13:30 ET" in rej.message
        early = make_chain(ts=et(2024, 3, 20, 13, 28), expiries=(date(2024, 3, 20), date(2024, 3, 21)))
        result = OptionsScalper(ScalpConfig()).process_signal(signal(early.ts), early, ACCOUNT)
        assert getattr(result, "reason_code", None) != "fomc_blackout"  # fills by 13:29: outside

    def test_max_concurrent_rejected(self, make_chain):
        snap = make_chain()
        busy = AccountState(equity=100_000.0, cash=100_000.0, open_scalps=3)
        rejected(OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, busy), "max_concurrent")
        one = AccountState(equity=100_000.0, cash=100_000.0, open_scalps=1)
        rejected(
            OptionsScalper(MomentumConfig()).process_signal(signal(snap.ts), snap, one), "max_concurrent"
        )

    def test_daily_limit_rejected_for_momentum(self, make_chain):
        snap = make_chain()
        tired = AccountState(equity=100_000.0, cash=100_000.0, scalps_today=10)
        rejected(OptionsScalper(MomentumConfig()).process_signal(signal(snap.ts), snap, tired), "daily_limit")

    def test_ticker_not_allowed_rejected(self, make_chain):
        iwm = make_chain(underlying="IWM")
        rejected(
            OptionsScalper(ScalpConfig()).process_signal(signal(iwm.ts, ticker="IWM"), iwm, ACCOUNT),
            "ticker_not_allowed",
        )

    def test_spx_needs_allow_spx(self, make_chain):
        spx = make_chain(underlying="SPX", root="SPXW", spot=5000.0, strikes=np.arange(4950.0, 5050.1, 5.0))
        cfg = ScalpConfig(min_open_interest=0, min_volume=0)
        no = ScalpConfig(allow_spx=False)
        rej = rejected(
            OptionsScalper(no).process_signal(signal(spx.ts, ticker="SPX"), spx, ACCOUNT),
            "ticker_not_allowed",
        )
        assert "allow_spx" in rej.message
        intent = intent_of(OptionsScalper(cfg).process_signal(signal(spx.ts, ticker="SPX"), spx, ACCOUNT))
        assert intent.option_symbol.startswith("SPXW")
        assert (
            round(intent.limit_price / 0.05) * 0.05 == pytest.approx(intent.limit_price)
            or intent.limit_price == intent.selection.ask
        )

    # -- stage codes pass through ----------------------------------------------------------

    def test_selection_rejection_passes_through(self, make_chain):
        snap = make_chain(quote_age_min=10.0)
        rejected(OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts), snap, ACCOUNT), "stale_quotes")

    def test_gate_rejection_passes_through(self, make_chain):
        snap = make_chain(strikes=FINE, expiries=(THU,))
        cfg = ScalpConfig(max_theta_burn_pct=1.0, max_gamma=1.0)
        history = [0.05 + 0.001 * i for i in range(30)]  # today's 20 % is above every day
        result = OptionsScalper(cfg).process_signal(signal(snap.ts), snap, ACCOUNT, iv_history=history)
        rejected(result, "iv_rank_high")

    def test_sizing_rejection_passes_through(self, make_chain):
        snap = make_chain(strikes=FINE)
        poor = AccountState(equity=500.0, cash=500.0)
        rej = rejected(
            OptionsScalper(ScalpConfig(min_open_interest=0, min_volume=0)).process_signal(
                signal(snap.ts), snap, poor
            ),
            "risk_budget",
        )
        assert "SPY240313C" in rej.message

    def test_chain_of_another_underlying_raises(self, make_chain):
        snap = make_chain(underlying="QQQ")
        with pytest.raises(ChainMismatchError, match="QQQ"):
            OptionsScalper(ScalpConfig()).process_signal(signal(snap.ts, ticker="SPY"), snap, ACCOUNT)


def test_import_options_scalper_leaves_backtrader_out():
    code = (
        "import sys, options_scalper\n"
        "from options_scalper import OptionsScalper, StrikeSelector, GreeksGate, ScalpPosition, ScalpConfig\n"
        "from options_scalper import MomentumConfig, StrikeSelection, GreeksDecision, OrderIntent\n"
        "import options_scalper.scalper, options_scalper.selection, options_scalper.gates\n"
        "assert 'backtrader' not in sys.modules, 'backtrader imported'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
