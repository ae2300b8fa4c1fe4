"""StrikeSelector on hand-made Black-Scholes chains (see conftest.py)."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest

from options_scalper.config import MomentumConfig, ScalpConfig, SelectionCriteria
from options_scalper.greeks import MIN_T_YEARS, iv_and_greeks, time_to_expiry_years
from options_scalper.model import Direction, OptionRight, Rejection
from options_scalper.selection import StrikeSelection, StrikeSelector, trading_dte

WED, THU, FRI, MON = date(2024, 3, 13), date(2024, 3, 14), date(2024, 3, 15), date(2024, 3, 18)


def prd_criteria(**changes) -> SelectionCriteria:
    return dataclasses.replace(ScalpConfig().selection_criteria(), **changes)


def momentum_criteria(**changes) -> SelectionCriteria:
    return dataclasses.replace(MomentumConfig().selection_criteria(), **changes)


def pick(criteria: SelectionCriteria, snap, direction=Direction.BULLISH, now=None):
    return StrikeSelector(criteria).select(snap, direction, now or snap.ts)


def assert_selected(result) -> StrikeSelection:
    assert isinstance(result, StrikeSelection), result
    return result


def assert_rejected(result, code: str) -> Rejection:
    assert isinstance(result, Rejection), result
    assert result.reason_code == code, result
    return result


def reference_in_range(snap, criteria: SelectionCriteria, direction: Direction, dte_keep: set[int]):
    """Slow reference: IV + greeks for the WHOLE chain, then every filter; returns row indices."""
    np.seterr(invalid="ignore", divide="ignore")
    t = time_to_expiry_years(snap.ts, snap.expiry)
    mid = snap.mid
    iv, g = iv_and_greeks(
        mid,
        snap.underlying_price,
        snap.strike,
        t,
        criteria.risk_free_rate,
        criteria.dividend_yield,
        snap.is_call,
    )
    session = snap.session_date
    dte = np.array([trading_dte(session, e.astype(date)) for e in snap.expiry])
    spread = (snap.ask - snap.bid) / mid
    ok = (
        (snap.is_call == (direction is Direction.BULLISH))
        & np.isin(dte, list(dte_keep))
        & (snap.quote_age_min <= criteria.max_quote_age_minutes)
        & (snap.bid > 0)
        & (snap.ask > snap.bid)
        & (spread <= criteria.max_spread_pct)
        & (snap.ask <= criteria.max_contract_price)
        & np.isfinite(iv)
        & (np.abs(g.delta) >= criteria.delta_min)
        & (np.abs(g.delta) <= criteria.delta_max)
    )
    return np.flatnonzero(ok), g.delta


class TestStrikeSelector:
    # -- delta ---------------------------------------------------------------------------

    @pytest.mark.parametrize("direction", list(Direction))
    def test_select_default_chain_delta_in_prd_range(self, make_chain, direction):
        sel = assert_selected(pick(prd_criteria(), make_chain(), direction))
        assert 0.30 <= sel.abs_delta <= 0.50
        assert sel.right is direction.right
        assert sel.option_type == direction.right.word
        assert (sel.delta > 0) == (direction is Direction.BULLISH)
        assert sel.iv == pytest.approx(0.20, abs=1e-6)  # the chain was priced at 20 % vol
        assert sel.theta == sel.theta_per_day < 0
        assert sel.gamma > 0 and sel.vega > 0

    @pytest.mark.parametrize(
        ("sigma", "skew", "expiries"),
        [(0.12, 0.0, (WED, THU)), (0.60, 0.0, (WED, THU)), (0.25, 3.0, (THU, FRI)), (0.9, 1.0, (WED, THU))],
    )
    def test_select_moneyness_band_loses_no_in_range_contract(self, make_chain, sigma, skew, expiries):
        snap = make_chain(sigma=sigma, skew=skew, expiries=expiries, strikes=np.arange(440.0, 561.0, 1.0))
        crit = prd_criteria()
        session = snap.session_date
        for direction in Direction:
            sel = assert_selected(pick(crit, snap, direction))
            rows, delta = reference_in_range(snap, crit, direction, {0, 1})
            # every in-range contract of the whole chain reached the scorer
            assert sel.candidates_considered == rows.size
            dte = np.array([trading_dte(session, e.astype(date)) for e in snap.expiry[rows]])
            nearest = rows[dte == dte.min()]
            assert sel.dte == dte.min()
            best_ref = nearest[np.argmin(np.abs(np.abs(delta[nearest]) - crit.delta_target))]
            assert sel.option_symbol == snap.symbol[best_ref]

    def test_select_narrow_delta_window_picks_closest_to_target(self, make_chain):
        crit = prd_criteria(delta_min=0.20, delta_max=0.30, delta_target=0.25)
        sel = assert_selected(pick(crit, make_chain(strikes=np.arange(480.0, 520.5, 0.5))))
        assert 0.20 <= sel.abs_delta <= 0.30
        assert sel.strike > 500.0  # OTM call

    def test_select_no_delta_in_range_rejects_delta_out_of_range(self, make_chain):
        far_otm = make_chain(strikes=np.arange(530.0, 541.0, 1.0))
        rej = assert_rejected(pick(prd_criteria(), far_otm), "delta_out_of_range")
        assert "moneyness band" in rej.message
        # inside the band but no delta in range: the greeks stage says so
        near = make_chain(strikes=np.arange(499.0, 502.0, 1.0))
        crit = prd_criteria(delta_min=0.45, delta_max=0.46, delta_target=0.455)
        rej = assert_rejected(pick(crit, near), "delta_out_of_range")
        assert "0 |delta| 0.45-0.46" in rej.message

    # -- liquidity -----------------------------------------------------------------------

    def test_select_oi_and_volume_unknown_skips_filters_and_says_so(self, make_chain):
        sel = assert_selected(pick(prd_criteria(), make_chain()))
        assert sel.skipped_filters == ("open_interest", "volume")
        assert sel.open_interest is None and sel.volume is None

    def test_select_oi_and_volume_known_applies_filters(self, make_chain, edit_chain):
        snap = make_chain(open_interest=5000, volume=800)
        best = assert_selected(pick(prd_criteria(), snap))
        assert best.skipped_filters == ()
        assert (best.open_interest, best.volume) == (5000, 800)
        low_oi = edit_chain(snap, snap.symbol == best.option_symbol, open_interest=999)
        second = assert_selected(pick(prd_criteria(), low_oi))
        assert second.option_symbol != best.option_symbol
        low_vol = edit_chain(snap, snap.symbol == best.option_symbol, volume=499)
        assert assert_selected(pick(prd_criteria(), low_vol)).option_symbol != best.option_symbol

    def test_select_known_but_missing_oi_fails_the_filter(self, make_chain, edit_chain):
        snap = make_chain(open_interest=5000, volume=800)
        assert_rejected(
            pick(prd_criteria(), edit_chain(snap, None, open_interest=np.nan)), "low_open_interest"
        )

    def test_select_all_oi_low_rejects_low_open_interest(self, make_chain):
        rej = assert_rejected(
            pick(prd_criteria(), make_chain(open_interest=10, volume=800)), "low_open_interest"
        )
        assert "OI >= 1000" in rej.message

    def test_select_all_volume_low_rejects_low_volume(self, make_chain):
        assert_rejected(pick(prd_criteria(), make_chain(open_interest=5000, volume=10)), "low_volume")

    def test_select_spreads_too_wide_rejects(self, make_chain):
        assert_rejected(pick(prd_criteria(), make_chain(spread_pct=0.25)), "spread_too_wide")

    def test_select_spread_exactly_at_the_limit_is_refused(self, make_chain, edit_chain):
        at_limit = edit_chain(make_chain(), bid=9.5, ask=10.5)  # (10.5 - 9.5) / 10.0 == 0.10 exactly
        assert_rejected(pick(prd_criteria(), at_limit), "spread_too_wide")

    def test_select_momentum_price_cap_rejects_too_expensive(self, make_chain):
        near = make_chain(strikes=np.arange(498.0, 503.0, 1.0))
        assert_rejected(pick(momentum_criteria(max_contract_price=0.25), near), "too_expensive")

    # -- scoring -------------------------------------------------------------------------

    def test_select_score_matches_documented_formula(self, make_chain):
        crit = prd_criteria()
        sel = assert_selected(pick(crit, make_chain(size=10.0)))
        half = max(crit.delta_target - crit.delta_min, crit.delta_max - crit.delta_target)
        expected = (
            10 * (crit.max_dte - sel.dte)
            + 4 * (1 - abs(sel.abs_delta - crit.delta_target) / half)
            + 3 * (1 - sel.spread_pct / crit.max_spread_pct)
            + 1 * (1 - 0.0)
            + 1 * 10 / (10 + 10)
        )
        assert sel.score == pytest.approx(expected)

    def test_select_tighter_spread_beats_slightly_better_delta(self, make_chain, edit_chain):
        snap = make_chain(strikes=np.arange(480.0, 520.5, 0.5))
        best = assert_selected(pick(prd_criteria(), snap))
        widened = edit_chain(
            snap,
            snap.symbol == best.option_symbol,
            bid=best.mid * (1 - 0.095),
            ask=best.mid * (1 + 0.095),
        )
        other = assert_selected(pick(prd_criteria(), widened))
        assert other.option_symbol != best.option_symbol
        assert other.spread_pct < 0.19

    def test_select_same_inputs_same_result(self, make_chain):
        snap = make_chain()
        assert pick(prd_criteria(), snap) == pick(prd_criteria(), snap)

    def test_select_exact_tie_broken_by_symbol(self, make_chain, edit_chain):
        # the same contract listed twice (an adjusted root beside the standard one)
        snap = make_chain(strikes=[501.0, 501.0], expiries=(WED,))
        first_call = np.flatnonzero(snap.is_call)[0]
        mask = np.zeros(len(snap), dtype=bool)
        mask[first_call] = True
        twin = edit_chain(snap, mask, symbol="SPY7240313C00501000")
        for _ in range(3):
            assert assert_selected(pick(prd_criteria(), twin)).option_symbol == "SPY240313C00501000"

    # -- expiry --------------------------------------------------------------------------

    def test_select_prefers_0dte_over_1dte(self, make_chain):
        sel = assert_selected(pick(prd_criteria(), make_chain(expiries=(WED, THU))))
        assert sel.dte == 0 and sel.expiry == WED and sel.is_0dte

    def test_select_no_0dte_in_chain_takes_1dte(self, make_chain):
        sel = assert_selected(pick(prd_criteria(), make_chain(expiries=(THU, FRI))))
        assert sel.dte == 1 and sel.expiry == THU

    def test_select_after_0dte_cutoff_takes_1dte(self, make_chain, et):
        at = et(2024, 3, 13, 14, 0)  # the 14:00 cutoff itself
        fine = np.arange(490.0, 510.01, 0.25)
        sel = assert_selected(pick(prd_criteria(), make_chain(ts=at, strikes=fine)))
        assert sel.expiry == THU and sel.dte == 1
        before = assert_selected(pick(prd_criteria(), make_chain(ts=et(2024, 3, 13, 13, 59), strikes=fine)))
        assert before.expiry == WED

    def test_select_half_day_cutoff_moves_to_1100(self, make_chain, et):
        half, next_day = date(2024, 11, 29), date(2024, 12, 2)
        fine = np.arange(490.0, 510.01, 0.25)
        early = make_chain(
            ts=et(2024, 11, 29, 10, 50), expiries=(half, next_day), half_day=True, strikes=fine
        )
        assert assert_selected(pick(prd_criteria(), early)).expiry == half
        late = make_chain(ts=et(2024, 11, 29, 11, 0), expiries=(half, next_day), half_day=True, strikes=fine)
        sel = assert_selected(pick(prd_criteria(), late))
        assert sel.expiry == next_day and sel.dte == 1  # Friday -> Monday is one session

    def test_select_only_0dte_after_cutoff_rejects_no_expiry(self, make_chain, et):
        snap = make_chain(ts=et(2024, 3, 13, 14, 30), expiries=(WED,))
        rej = assert_rejected(pick(prd_criteria(), snap), "no_expiry")
        assert "cutoff" in rej.message

    def test_select_friday_1dte_is_monday(self, make_chain, et):
        snap = make_chain(ts=et(2024, 3, 15, 14, 30), expiries=(FRI, MON, date(2024, 3, 19)))
        sel = assert_selected(pick(prd_criteria(), snap))
        assert (sel.expiry, sel.dte) == (MON, 1)

    def test_select_max_dte_excludes_later_expiries(self, make_chain):
        assert_rejected(pick(prd_criteria(max_dte=1), make_chain(expiries=(FRI,))), "no_expiry")
        assert assert_selected(pick(prd_criteria(max_dte=2), make_chain(expiries=(FRI,)))).dte == 2

    def test_select_prefer_0dte_false_lets_delta_decide(self, make_chain):
        crit = momentum_criteria(prefer_0dte=False)
        sel = assert_selected(pick(crit, make_chain(strikes=np.arange(480.0, 520.5, 1.0))))
        assert sel.dte in (0, 1)  # no bonus; the closest delta wins
        with_bonus = assert_selected(pick(momentum_criteria(), make_chain()))
        assert with_bonus.dte == 0

    def test_select_0dte_last_minute_has_floored_time_and_finite_greeks(self, make_chain, et):
        at = et(2024, 3, 13, 15, 59)
        snap = make_chain(ts=at, expiries=(WED,), strikes=np.arange(499.0, 501.01, 0.05))
        sel = assert_selected(pick(momentum_criteria(), snap))  # momentum: no 0DTE cutoff
        assert sel.dte == 0
        assert sel.time_to_expiry_years == pytest.approx(MIN_T_YEARS)
        assert np.isfinite([sel.delta, sel.gamma, sel.theta_per_day, sel.vega, sel.iv]).all()
        assert 0.25 <= sel.abs_delta <= 0.45

    def test_select_after_close_0dte_is_not_tradable(self, make_chain, et):
        snap = make_chain(ts=et(2024, 3, 13, 16, 5), expiries=(WED,))
        assert_rejected(pick(momentum_criteria(), snap), "no_expiry")

    def test_select_allowed_expiries_restricts(self, make_chain):
        snap = make_chain()
        sel = StrikeSelector(prd_criteria()).select(snap, Direction.BEARISH, snap.ts, allowed_expiries={THU})
        assert isinstance(sel, StrikeSelection) and sel.expiry == THU and sel.right is OptionRight.PUT

    # -- bad quotes ----------------------------------------------------------------------

    def test_select_stale_quote_never_selected(self, make_chain, edit_chain):
        snap = make_chain()
        best = assert_selected(pick(prd_criteria(), snap))
        stale = edit_chain(snap, snap.symbol == best.option_symbol, quote_age_min=2.5)
        sel = assert_selected(pick(prd_criteria(), stale))
        assert sel.option_symbol != best.option_symbol
        assert sel.quote_age_min <= 2.0

    def test_select_all_stale_rejects_stale_quotes(self, make_chain):
        rej = assert_rejected(pick(prd_criteria(), make_chain(quote_age_min=5.0)), "stale_quotes")
        assert "stale" in rej.message

    def test_select_nan_age_is_stale(self, make_chain):
        assert_rejected(pick(prd_criteria(), make_chain(quote_age_min=np.nan)), "stale_quotes")

    def test_select_empty_chain_rejects(self, no_chain):
        assert_rejected(pick(prd_criteria(), no_chain()), "empty_chain")

    def test_select_chain_without_puts_rejects_empty_chain(self, make_chain, edit_chain):
        snap = make_chain()
        calls_only = edit_chain(snap, None, is_call=True)
        rej = assert_rejected(pick(prd_criteria(), calls_only, Direction.BEARISH), "empty_chain")
        assert "puts" in rej.message

    def test_select_no_underlying_price_rejects(self, make_chain, edit_chain):
        snap = edit_chain(make_chain(), None, underlying_price=float("nan"))
        assert_rejected(pick(prd_criteria(), snap), "no_underlying_price")

    @pytest.mark.parametrize(
        "change",
        [
            {"bid": 0.0},  # zero bid
            {"bid": np.nan},  # one-sided: no bid
            {"ask": np.nan},  # one-sided: no ask
            {"bid": 9.0, "ask": 8.0},  # crossed
            {"bid": 8.0, "ask": 8.0},  # locked
        ],
    )
    def test_select_untradable_quote_never_selected(self, make_chain, edit_chain, change):
        snap = make_chain()
        best = assert_selected(pick(prd_criteria(), snap))
        bad = edit_chain(snap, snap.symbol == best.option_symbol, **change)
        assert assert_selected(pick(prd_criteria(), bad)).option_symbol != best.option_symbol
        all_bad = edit_chain(snap, None, **change)
        rej = assert_rejected(pick(prd_criteria(), all_bad), "no_two_sided_quotes")
        assert "two-sided" in rej.message

    def test_select_price_above_arbitrage_bound_is_iv_unsolved(self, make_chain, edit_chain):
        snap = edit_chain(make_chain(strikes=np.arange(495.0, 506.0, 1.0)), None, bid=600.0, ask=601.0)
        assert_rejected(pick(prd_criteria(), snap), "iv_unsolved")

    def test_select_unsolvable_best_is_dropped_not_selected(self, make_chain, edit_chain):
        snap = make_chain()
        best = assert_selected(pick(prd_criteria(), snap))
        # a call quoted below intrinsic has no IV
        row = snap.symbol == best.option_symbol
        below = edit_chain(snap, row, bid=0.001, ask=0.00105)
        sel = assert_selected(pick(prd_criteria(max_spread_pct=0.10), below))
        assert sel.option_symbol != best.option_symbol

    def test_select_rejection_message_counts_each_stage(self, make_chain):
        snap = make_chain(quote_age_min=9.0)
        rej = assert_rejected(pick(prd_criteria(), snap), "stale_quotes")
        n = len(snap)
        assert (
            f"{n} contracts -> {n // 2} calls -> {n // 2} with 0-1 DTE -> 0 quoted within 2 min"
            in rej.message
        )


def test_a_carried_forward_quote_is_priced_with_the_underlying_of_its_own_minute(make_chain, edit_chain):
    """The quotes were made when the underlying was 500; it is 503 now and they have not changed."""
    old = make_chain(spot=500.0)
    stale = edit_chain(old, quote_age_min=2.0, underlying_price=503.0)
    with_minutes = edit_chain(stale, underlying_by_age=np.array([503.0, 501.5, 500.0]))
    truth = assert_selected(pick(prd_criteria(), old))
    assert assert_selected(pick(prd_criteria(), with_minutes)).delta == pytest.approx(truth.delta)
    # priced with the current underlying instead, the same quotes give another delta
    assert assert_selected(pick(prd_criteria(), stale)).delta != pytest.approx(truth.delta)
