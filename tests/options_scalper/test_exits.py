"""Exit rules: each fires and stays silent; precedence in evaluate_exits."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from options_scalper import exits
from options_scalper.config import MomentumConfig, ScalpConfig
from options_scalper.exits import ExitState, evaluate_exits
from options_scalper.model import Direction, ExitReason, OptionRight
from options_scalper.position import ScalpPosition

ET = ZoneInfo("America/New_York")
DAY = date(2024, 1, 10)


def et(hh, mm, day=DAY):
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=ET).astimezone(UTC)


def position(right=OptionRight.CALL, expiry=DAY, entry=2.00, at=None):
    return ScalpPosition.open(
        ticker="SPY",
        option_symbol="SPY240110C00470000",
        right=right,
        strike=470.0,
        expiry=expiry,
        contracts=2,
        entry_price=entry,
        entry_time=at or et(10, 0, DAY if expiry >= DAY else expiry),
        signal_id="s",
    )


Candles = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def bullish_run(n: int = 3, touch_last: bool = False) -> Candles:
    """n green candles closing above a rising fast cloud, lows clear of it."""
    closes = np.array([100.0, 100.5, 101.0, 101.5, 102.0])[-n - 1 :]
    opens = closes - 0.3
    lows = opens - 0.05
    highs = closes + 0.05
    ema_fast = closes - 0.8
    ema_slow = closes - 1.0
    if touch_last:
        lows[-1] = ema_fast[-1] - 0.01
    return closes, opens, highs, lows, ema_fast, ema_slow


class TestExitLogic:
    rules = ScalpConfig().exit_rules()

    # -- price --------------------------------------------------------------------------
    def test_take_profit_fires_at_25_percent(self):
        assert exits.take_profit(2.00, 2.50, 0.25) is ExitReason.TAKE_PROFIT
        assert exits.take_profit(2.00, 2.49, 0.25) is None

    def test_take_profit_uses_bar_bid_high(self):
        assert exits.take_profit(2.00, 2.30, 0.25, bid_high=2.55) is ExitReason.TAKE_PROFIT

    def test_stop_loss_fires_at_50_percent_on_bid(self):
        assert exits.stop_loss(2.00, 1.00, 0.50) is ExitReason.STOP_LOSS
        assert exits.stop_loss(2.00, 1.01, 0.50) is None
        assert exits.stop_loss(2.00, 1.20, 0.50, bid_low=0.95) is ExitReason.STOP_LOSS
        assert exits.stop_loss(2.00, float("nan"), 0.50) is None

    def test_stop_wins_when_one_bar_touches_both(self):
        state = ExitState(now=et(10, 5), bid=2.00, bid_high=2.60, bid_low=0.90)
        assert evaluate_exits(position(), state, self.rules) is ExitReason.STOP_LOSS

    def test_stop_is_on_the_bid_not_the_mid(self):
        # mid 1.10 would be above the stop; the executable bid 0.95 is below it
        state = ExitState(now=et(10, 5), bid=0.95, ask=1.25)
        assert evaluate_exits(position(), state, self.rules) is ExitReason.STOP_LOSS

    # -- signal -------------------------------------------------------------------------
    def test_momentum_exhaustion_three_clean_candles(self):
        assert exits.momentum_exhaustion(*bullish_run(3), Direction.BULLISH) is ExitReason.MOMENTUM_EXHAUSTION

    def test_momentum_exhaustion_silent_on_wick_touch_colour_or_short_run(self):
        assert exits.momentum_exhaustion(*bullish_run(3, touch_last=True), Direction.BULLISH) is None
        c, o, h, lo, f, s = bullish_run(3)
        o2 = o.copy()
        o2[-2] = c[-2] + 0.1  # a red candle in the run
        h2 = np.maximum(h, o2)
        assert exits.momentum_exhaustion(c, o2, h2, lo, f, s, Direction.BULLISH) is None
        c, o, h, lo, f, s = (a[-2:] for a in bullish_run(3))
        assert exits.momentum_exhaustion(c, o, h, lo, f, s, Direction.BULLISH) is None
        assert exits.momentum_exhaustion(*bullish_run(3), Direction.BEARISH) is None

    def test_momentum_exhaustion_bearish_mirror(self):
        c, o, h, lo, f, s = bullish_run(3)
        # mirror prices around 200: red candles closing below a falling cloud
        mc, mo, mh, ml, mf, ms = 200 - c, 200 - o, 200 - lo, 200 - h, 200 - f, 200 - s
        assert (
            exits.momentum_exhaustion(mc, mo, mh, ml, mf, ms, Direction.BEARISH)
            is ExitReason.MOMENTUM_EXHAUSTION
        )

    def test_momentum_exhaustion_via_evaluate(self):
        c, o, h, lo, f, s = bullish_run(3)
        state = ExitState(
            now=et(10, 5), bid=2.10, closes=c, opens=o, highs=h, lows=lo, ema_fast=f, ema_slow=s
        )
        assert evaluate_exits(position(), state, self.rules) is ExitReason.MOMENTUM_EXHAUSTION
        # momentum config has no exhaustion rule
        assert evaluate_exits(position(), state, MomentumConfig().exit_rules()) is None

    def test_cloud_flip_against_position(self):
        assert exits.cloud_flip_against(Direction.BULLISH, False) is ExitReason.CLOUD_FLIP
        assert exits.cloud_flip_against(Direction.BULLISH, True) is None
        assert exits.cloud_flip_against(Direction.BEARISH, True) is ExitReason.CLOUD_FLIP
        assert exits.cloud_flip_against(Direction.BEARISH, False) is None

    def test_cloud_flip_from_ema_arrays(self):
        state = ExitState(
            now=et(10, 5), bid=2.10, ema_fast=np.array([101.0, 99.0]), ema_slow=np.array([100.0, 100.0])
        )
        assert evaluate_exits(position(), state, self.rules) is ExitReason.CLOUD_FLIP
        assert evaluate_exits(position(OptionRight.PUT), state, self.rules) is None

    # -- time ---------------------------------------------------------------------------
    def test_zero_dte_cutoff_at_1400_et(self):
        assert evaluate_exits(position(), ExitState(now=et(13, 59), bid=2.10), self.rules) is None
        assert evaluate_exits(position(), ExitState(now=et(14, 0), bid=2.10), self.rules) is (
            ExitReason.ZERO_DTE_CUTOFF
        )

    def test_one_dte_cutoff_at_1530_et(self):
        pos = position(expiry=date(2024, 1, 11))
        assert evaluate_exits(pos, ExitState(now=et(15, 29), bid=2.10), self.rules) is None
        assert (
            evaluate_exits(pos, ExitState(now=et(15, 30), bid=2.10), self.rules) is ExitReason.ONE_DTE_CUTOFF
        )

    def test_half_day_cutoff_moves_with_early_close(self):
        half = date(2024, 11, 29)
        pos = position(expiry=half, at=et(9, 45, half))
        assert evaluate_exits(pos, ExitState(now=et(10, 59, half), bid=2.1), self.rules) is None
        assert (
            evaluate_exits(pos, ExitState(now=et(11, 0, half), bid=2.1), self.rules)
            is ExitReason.ZERO_DTE_CUTOFF
        )
        assert (
            exits.dte_cutoff(et(12, 30, half), date(2024, 12, 2), None, time(15, 30))
            is ExitReason.ONE_DTE_CUTOFF
        )

    def test_max_hold_time_exit(self):
        rules = MomentumConfig().exit_rules()
        pos = position(expiry=date(2024, 1, 11))
        assert evaluate_exits(pos, ExitState(now=et(10, 14), bid=2.10), rules) is None
        assert evaluate_exits(pos, ExitState(now=et(10, 15), bid=2.10), rules) is ExitReason.TIME_EXIT
        assert exits.max_hold(et(10, 0), et(23, 0), None) is None

    def test_end_of_day_session_exit(self):
        rules = MomentumConfig().exit_rules()
        pos = position(expiry=date(2024, 1, 11), at=et(15, 40))
        assert evaluate_exits(pos, ExitState(now=et(15, 49), bid=2.10), rules) is None
        assert evaluate_exits(pos, ExitState(now=et(15, 50), bid=2.10), rules) is ExitReason.END_OF_DAY

    def test_end_of_day_at_session_close(self):
        close = et(16, 0)
        assert exits.end_of_day(et(15, 59), None, close) is None
        assert exits.end_of_day(close, None, close) is ExitReason.END_OF_DAY

    def test_expiry_settles_after_close(self):
        assert exits.expiry_exit(et(15, 59), DAY) is None
        assert exits.expiry_exit(et(16, 0), DAY) is ExitReason.EXPIRY
        # expiry comes before price rules: no market to sell into any more
        state = ExitState(now=et(16, 0), bid=0.50)
        assert evaluate_exits(position(at=et(13, 0)), state, self.rules) is ExitReason.EXPIRY

    # -- precedence ---------------------------------------------------------------------
    def test_precedence_take_profit_before_time_cutoff(self):
        state = ExitState(now=et(14, 0), bid=2.60)
        assert evaluate_exits(position(), state, self.rules) is ExitReason.TAKE_PROFIT

    def test_precedence_cutoff_before_cloud_flip_and_exhaustion(self):
        c, o, h, lo, f, s = bullish_run(3)
        state = ExitState(
            now=et(14, 0),
            bid=2.10,
            closes=c,
            opens=o,
            highs=h,
            lows=lo,
            ema_fast=f,
            ema_slow=s,
            fast_cloud_bullish=False,
        )
        assert evaluate_exits(position(), state, self.rules) is ExitReason.ZERO_DTE_CUTOFF
        earlier = ExitState(**{**state.__dict__, "now": et(11, 0)})
        assert evaluate_exits(position(), earlier, self.rules) is ExitReason.CLOUD_FLIP

    def test_silent_when_nothing_applies(self):
        c, o, h, lo, f, s = bullish_run(3, touch_last=True)
        state = ExitState(
            now=et(11, 0), bid=2.10, closes=c, opens=o, highs=h, lows=lo, ema_fast=f, ema_slow=s
        )
        assert evaluate_exits(position(), state, self.rules) is None

    def test_no_averaging_up_on_a_losing_position(self):
        pos = position(entry=2.00).mark(1.80, et(10, 5))
        rejection = pos.can_add(1.80, ScalpConfig())
        assert rejection is not None and rejection.reason_code == "no_average_up"
        assert pos.mark(2.20, et(10, 6)).can_add(2.20, ScalpConfig()) is None


@pytest.mark.parametrize("n", [3, 4])
def test_momentum_exhaustion_longer_runs_also_fire(n):
    assert (
        exits.momentum_exhaustion(*bullish_run(4), Direction.BULLISH, n=n) is ExitReason.MOMENTUM_EXHAUSTION
    )


def test_max_hold_is_inclusive_of_the_minute():
    assert exits.max_hold(et(10, 0), et(10, 0) + timedelta(minutes=15), 15) is ExitReason.TIME_EXIT


def test_exhaustion_counts_only_candles_that_closed_after_the_entry():
    c, o, h, lo, f, s = bullish_run(3)  # three stretched candles up to 10:05
    state = ExitState(now=et(10, 5), bid=2.10, closes=c, opens=o, highs=h, lows=lo, ema_fast=f, ema_slow=s)
    rules = ScalpConfig().exit_rules()
    # entered on the 10:05 bar itself: the three candles are from before the entry
    assert evaluate_exits(position(at=et(10, 5)), state, rules) is None
    assert evaluate_exits(position(at=et(10, 3)), state, rules) is None  # only two candles after it
    assert evaluate_exits(position(at=et(10, 2)), state, rules) is ExitReason.MOMENTUM_EXHAUSTION


def test_max_hold_is_decided_one_bar_early_so_the_fill_lands_on_the_limit():
    rules = MomentumConfig().exit_rules()  # 15-minute max hold
    held = position(at=et(10, 0))
    lag = timedelta(minutes=1)
    at_14 = ExitState(now=et(10, 14), bid=2.0, fill_lag=lag)
    at_13 = ExitState(now=et(10, 13), bid=2.0, fill_lag=lag)
    assert evaluate_exits(held, at_14, rules) is ExitReason.TIME_EXIT  # fills at 10:15: held 15 minutes
    assert evaluate_exits(held, at_13, rules) is None
