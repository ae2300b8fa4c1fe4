"""Momentum rules of seed 003 (fixed) on hand-made 1-minute bars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from options_scalper.model import Direction
from options_scalper.signals.base import SignalParameterError, session_date_et
from options_scalper.signals.momentum import (
    LevelKind,
    MomentumSignalEngine,
    MomentumSignalParams,
    PriceLevel,
    SessionVwap,
    SupportResistance,
    TriggerKind,
    VelocityDirection,
    VolumeSpikeTracker,
    check_breakout,
    check_momentum_burst,
    check_vwap,
    velocity,
)

BULL, BEAR = Direction.BULLISH, Direction.BEARISH
OPEN_UTC = datetime(2024, 1, 5, 14, 31, tzinfo=UTC)  # bar closing 09:31 ET


# --- velocity -----------------------------------------------------------------


def test_velocity_over_window_bars_on_known_series():
    closes = [99.0, 100.0, 100.1, 100.2, 100.5]
    v = velocity(closes, window_bars=3)
    assert v is not None
    assert v.start_price == 100.0 and v.end_price == 100.5
    assert v.change_dollars == pytest.approx(0.5)
    assert v.change_pct == pytest.approx(0.005)
    assert v.direction is VelocityDirection.UP
    assert v.data_points == 4 and v.is_significant


def test_velocity_uses_what_history_there_is():
    v = velocity([100.0, 99.6], window_bars=5)
    assert v is not None and v.data_points == 2 and v.direction is VelocityDirection.DOWN
    assert v.change_pct == pytest.approx(-0.004)
    assert not v.is_significant  # fewer than 3 points
    assert velocity([100.0], 5) is None


@pytest.mark.parametrize(
    ("last", "direction", "significant"),
    [
        (100.04, VelocityDirection.FLAT, False),
        (99.96, VelocityDirection.FLAT, False),
        (100.06, VelocityDirection.UP, False),
        (100.29, VelocityDirection.UP, False),
        (100.31, VelocityDirection.UP, True),
        (99.69, VelocityDirection.DOWN, True),
    ],
)
def test_velocity_flat_band_and_significance(last, direction, significant):
    v = velocity([100.0, 100.0, last], window_bars=2)
    assert v is not None and v.direction is direction and v.is_significant is significant


def test_velocity_window_must_be_positive():
    with pytest.raises(SignalParameterError, match="window_bars"):
        velocity([1.0, 2.0], 0)


# --- volume spike ---------------------------------------------------------------


def test_volume_spike_ratio_against_previous_bars():
    tracker = VolumeSpikeTracker(baseline_window_bars=30)
    ratios = [tracker.update(1000.0) for _ in range(30)]
    assert ratios == [None] * 30  # not enough history: no spike
    assert tracker.update(2000.0) == 2.0
    assert tracker.baseline_volume == 1000.0
    # the spike bar is now part of the baseline of the next bar
    assert tracker.update(1000.0) == pytest.approx(1000.0 / (31000.0 / 30))


def test_volume_no_spike_on_ordinary_bar():
    tracker = VolumeSpikeTracker(5)
    for vol in (900.0, 1100.0, 1000.0, 950.0, 1050.0):
        tracker.update(vol)
    ratio = tracker.update(1200.0)
    assert ratio == pytest.approx(1.2)
    assert check_momentum_burst(velocity([100.0, 100.3, 100.6], 2), ratio, 0.005, 1.5) is None


def test_volume_zero_baseline_and_unknown_volume_give_none():
    tracker = VolumeSpikeTracker(2)
    tracker.update(0.0)
    tracker.update(0.0)
    assert tracker.update(500.0) is None
    assert tracker.update(float("nan")) is None
    with pytest.raises(SignalParameterError):
        tracker.update(-1.0)


# --- session VWAP -----------------------------------------------------------------


def make_bars(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 400 + np.cumsum(rng.normal(0, 0.3, n))
    high = close + rng.uniform(0, 0.4, n)
    low = close - rng.uniform(0, 0.4, n)
    volume = rng.integers(0, 5000, n).astype(float)
    volume[[3, 10, 11]] = 0.0
    return pd.DataFrame({"high": high, "low": low, "close": close, "volume": volume})


def test_session_vwap_and_bands_match_independent_pandas_computation():
    bars = make_bars(120)
    tp = (bars.high + bars.low + bars.close) / 3
    cum_v = bars.volume.cumsum()
    vwap = (tp * bars.volume).cumsum() / cum_v
    sigma = np.sqrt((tp * tp * bars.volume).cumsum() / cum_v - vwap**2)
    svwap = SessionVwap(band_std=2.0)
    cols = [bars[name].to_numpy() for name in ("high", "low", "close", "volume")]
    for i, (h, lo, c, v) in enumerate(zip(*cols, strict=True)):
        r = svwap.update(float(h), float(lo), float(c), float(v))
        assert r is not None
        assert r.vwap == pytest.approx(vwap[i], rel=1e-12)
        assert r.sigma == pytest.approx(sigma[i], rel=1e-6, abs=1e-9)
        assert r.upper == pytest.approx(vwap[i] + 2 * sigma[i], rel=1e-9)
        assert r.lower == pytest.approx(vwap[i] - 2 * sigma[i], rel=1e-9)


def test_session_vwap_two_bars_by_hand():
    svwap = SessionVwap()
    svwap.update(11.0, 9.0, 10.0, 100.0)  # typical 10
    r = svwap.update(13.0, 11.0, 12.0, 300.0)  # typical 12
    # vwap = (1000 + 3600) / 400 = 11.5; var = (100*1.5^2 + 300*0.5^2) / 400 = 0.75
    assert r is not None and r.vwap == pytest.approx(11.5) and r.sigma == pytest.approx(0.75**0.5)


def test_session_vwap_zero_volume_bar_does_not_move_it():
    svwap = SessionVwap()
    assert svwap.update(101.0, 99.0, 100.0, 0.0) is None  # nothing yet
    first = svwap.update(101.0, 99.0, 100.0, 500.0)
    assert svwap.update(120.0, 110.0, 115.0, 0.0) == first
    assert svwap.update(120.0, 110.0, 115.0, float("nan")) == first


def test_session_vwap_resets_on_new_session_date():
    svwap = SessionVwap()
    svwap.update(101.0, 99.0, 100.0, 500.0, session_date=date(2024, 1, 4))
    svwap.update(111.0, 109.0, 110.0, 500.0, session_date=date(2024, 1, 4))
    r = svwap.update(51.0, 49.0, 50.0, 10.0, session_date=date(2024, 1, 5))
    assert r is not None and (r.vwap, r.sigma, r.session_volume) == (50.0, 0.0, 10.0)
    svwap.reset()
    assert svwap.last is None


# --- support / resistance -------------------------------------------------------------


def feed(sr: SupportResistance, highs: list[float], lows: list[float] | None = None) -> None:
    lows = lows if lows is not None else [h - 1.0 for h in highs]
    for h, lo in zip(highs, lows, strict=True):
        sr.update(h, lo)


def test_swing_high_confirmed_only_two_bars_later():
    sr = SupportResistance()
    feed(sr, [100.0, 101.0, 105.0, 102.0])
    assert sr.resistance == ()  # bar 2 is not yet known to be a swing
    sr.update(101.5, 100.0)
    assert sr.resistance == (PriceLevel(105.0, LevelKind.RESISTANCE, 1, 2, 2),)


def test_swing_low_becomes_support():
    sr = SupportResistance()
    feed(sr, [10.0] * 5, lows=[99.0, 98.0, 95.0, 96.0, 97.0])
    assert [(lv.price, lv.kind) for lv in sr.support] == [(95.0, LevelKind.SUPPORT)]


def test_flat_top_counts_once():
    sr = SupportResistance()
    feed(sr, [100.0, 101.0, 105.0, 105.0, 102.0, 101.0])
    assert [(lv.price, lv.strength) for lv in sr.resistance] == [(105.0, 1)]


def test_nearby_swings_merge_and_strengthen_far_ones_do_not():
    sr = SupportResistance(touch_pct=0.003)
    # swings at 100.50 (bar 2), 100.70 (bar 6, within 0.3%) and 102.00 (bar 10, not)
    feed(sr, [100.0, 100.2, 100.5, 100.2, 100.0, 100.3, 100.7, 100.3, 100.0, 101.0, 102.0, 101.0, 100.0])
    res = sr.resistance
    assert [lv.strength for lv in res] == [2, 1]
    assert res[0].price == pytest.approx(100.6) and res[0].last_touch_bar == 6
    assert res[1].price == 102.0


def test_keeps_strongest_levels_and_drops_old_ones():
    sr = SupportResistance(touch_pct=0.001, lookback_bars=60, max_levels=2)
    highs: list[float] = []
    for peak in (100.0, 110.0, 100.05, 120.0):  # 100 twice -> strength 2
        highs += [peak - 5, peak - 4, peak, peak - 4, peak - 5]
    feed(sr, highs)
    assert [(round(lv.price, 3), lv.strength) for lv in sr.resistance] == [(100.025, 2), (120.0, 1)]
    feed(sr, [50.0] * 52)  # now at bar 71: bar 12 is the oldest of the last 60 bars
    assert len(sr.resistance) == 2
    sr.update(50.0, 49.0)  # bar 72: the last touch of the 100 level (bar 12) is 60 bars old
    assert [lv.price for lv in sr.resistance] == [120.0]
    feed(sr, [50.0] * 4)
    assert len(sr.resistance) == 1
    sr.update(50.0, 49.0)  # bar 77: 120 (bar 17) drops too
    assert sr.resistance == ()


# --- triggers ----------------------------------------------------------------------------


def test_momentum_burst_fires_with_scaled_confidence():
    v = velocity([100.0, 100.2, 100.5], 2)
    at_thresholds = check_momentum_burst(v, 1.5, threshold_pct=0.005, spike_ratio=1.5)
    assert at_thresholds is not None and at_thresholds.trigger is TriggerKind.MOMENTUM_BURST
    assert at_thresholds.direction is BULL and at_thresholds.confidence == 50
    stronger = check_momentum_burst(velocity([100.0, 100.5, 100.75], 2), 2.25, 0.005, 1.5)
    assert stronger is not None and stronger.confidence == 50 + 12 + 13  # 12.5 + 12.5 -> 75
    huge = check_momentum_burst(velocity([100.0, 101.0, 102.0], 2), 9.0, 0.005, 1.5)
    assert huge is not None and huge.confidence == 100
    down = check_momentum_burst(velocity([100.0, 99.4], 1), 2.0, 0.005, 1.5)
    assert down is not None and down.direction is BEAR


@pytest.mark.parametrize(
    ("closes", "ratio"),
    [([100.0, 100.2, 100.45], 3.0), ([100.0, 100.2, 100.6], 1.49), ([100.0, 100.2, 100.6], None)],
    ids=["slow", "no-spike", "no-volume-history"],
)
def test_momentum_burst_silent(closes, ratio):
    assert check_momentum_burst(velocity(closes, 2), ratio, 0.005, 1.5) is None


@pytest.mark.parametrize(
    ("price", "vel", "expected"),
    [
        (100.10, 0.0015, (TriggerKind.VWAP_BOUNCE, BULL)),
        (100.00, 0.0010, (TriggerKind.VWAP_BOUNCE, BULL)),
        (99.90, -0.0015, (TriggerKind.VWAP_REJECTION, BEAR)),
        (100.30, 0.0015, None),  # too far above VWAP
        (99.70, -0.0015, None),  # too far below
        (100.10, 0.0005, None),  # velocity too weak
        (99.90, 0.0015, None),  # below VWAP moving up: not a bounce from above
        (100.10, -0.0015, None),  # above VWAP moving down: not a rejection from below
    ],
)
def test_check_vwap(price, vel, expected):
    t = check_vwap(price, 100.0, vel, touch_pct=0.002)
    if expected is None:
        assert t is None
    else:
        assert t is not None and (t.trigger, t.direction, t.confidence) == (*expected, 70)
        assert t.metadata["vwap"] == 100.0


def test_check_vwap_without_vwap_is_silent():
    assert check_vwap(100.0, None, 0.01) is None


RES = PriceLevel(100.5, LevelKind.RESISTANCE, 3, 0, 10)
SUP = PriceLevel(99.5, LevelKind.SUPPORT, 5, 0, 10)


def test_breakout_fires_both_ways_with_strength_confidence():
    up = check_breakout(100.6, [RES, SUP], velocity_pct=0.003, volume_ratio=1.8)
    assert up is not None and (up.trigger, up.direction, up.confidence) == (TriggerKind.BREAKOUT, BULL, 75)
    assert up.metadata["level"] == 100.5
    down = check_breakout(99.4, [RES, SUP], velocity_pct=-0.003, volume_ratio=1.8, prev_price=99.6)
    assert down is not None and (down.direction, down.confidence) == (BEAR, 80)


@pytest.mark.parametrize(
    ("price", "levels", "vel", "ratio", "prev"),
    [
        (100.6, [PriceLevel(100.5, LevelKind.RESISTANCE, 1, 0, 1)], 0.003, 1.8, None),  # weak level
        (100.6, [RES], 0.003, 1.5, None),  # volume not above 1.5
        (100.6, [RES], 0.002, 1.8, None),  # velocity not above 0.2%
        (100.4, [RES], 0.003, 1.8, None),  # not through the level
        (100.6, [RES], 0.003, 1.8, 100.55),  # already above on the previous bar
        (100.6, [RES], 0.003, None, None),  # no volume baseline
    ],
)
def test_breakout_silent(price, levels, vel, ratio, prev):
    assert check_breakout(price, levels, vel, ratio, prev_price=prev) is None


# --- engine ------------------------------------------------------------------------------


def run(
    engine: MomentumSignalEngine, bars: list[tuple[float, float, float, float]], start: datetime = OPEN_UTC
):
    """bars: (high, low, close, volume); returns the trigger of each bar."""
    out = []
    for i, (h, lo, c, v) in enumerate(bars):
        out.append(engine.update(start + timedelta(minutes=i), c, h, lo, c, v))
    return out


def flat(n: int, price: float = 100.0, volume: float = 1000.0) -> list[tuple[float, float, float, float]]:
    return [(price + 0.05, price - 0.05, price, volume)] * n


def test_engine_momentum_burst():
    triggers = run(MomentumSignalEngine(), [*flat(30), (100.65, 100.0, 100.6, 3000.0)])
    assert triggers[:30] == [None] * 30
    t = triggers[30]
    assert t is not None and t.trigger is TriggerKind.MOMENTUM_BURST and t.direction is BULL
    assert t.confidence == 80  # 50 + 25 * 0.2 + 25 * 1
    assert t.metadata["volume_ratio"] == 3.0 and t.metadata["ts"] == OPEN_UTC + timedelta(minutes=30)


def test_engine_burst_needs_the_spike():
    triggers = run(MomentumSignalEngine(), [*flat(30), (100.65, 100.0, 100.6, 1400.0)])
    assert all(t is None for t in triggers)


def test_engine_vwap_bounce():
    params = MomentumSignalParams(velocity_window_bars=3)
    bars = [*flat(30), *[(c + 0.02, c - 0.02, c, 1000.0) for c in (99.9, 99.92, 99.96)]]
    bars.append((100.08, 100.0, 100.05, 1000.0))  # back at VWAP, 3-bar velocity +0.15%
    triggers = run(MomentumSignalEngine(params), bars)
    t = triggers[-1]
    assert t is not None and t.trigger is TriggerKind.VWAP_BOUNCE and t.confidence == 70
    assert t.metadata["velocity_pct"] == pytest.approx(0.15 / 99.9)


def breakout_bars(last_volume: float) -> list[tuple[float, float, float, float]]:
    bars = flat(30)
    closes = [100.1, 100.2, 100.3, 100.4, 100.3, 100.2, 100.3, 100.4, 100.3, 100.2, 100.35, 100.45]
    highs = {3: 100.5, 7: 100.52}
    for i, c in enumerate(closes):
        bars.append((highs.get(i, c + 0.05), c - 0.05, c, 1000.0))
    bars.append((100.65, 100.4, 100.6, last_volume))
    return bars


BREAKOUT_PARAMS = MomentumSignalParams(velocity_window_bars=3)


def test_engine_breakout_through_merged_resistance():
    engine = MomentumSignalEngine(BREAKOUT_PARAMS)
    t = run(engine, breakout_bars(2000.0))[-1]
    assert t is not None and t.trigger is TriggerKind.BREAKOUT and t.direction is BULL
    assert t.metadata["level"] == pytest.approx(100.51) and t.metadata["level_strength"] == 2
    assert t.confidence == 70


def test_engine_breakout_silent_without_volume():
    assert run(MomentumSignalEngine(BREAKOUT_PARAMS), breakout_bars(1400.0))[-1] is None


def test_engine_resets_session_on_new_eastern_date():
    engine = MomentumSignalEngine(BREAKOUT_PARAMS)
    run(engine, breakout_bars(1000.0))
    assert engine.levels.resistance and engine.vwap is not None
    # 00:30 UTC on Jan 6 is still Jan 5 in New York: same session
    engine.update(datetime(2024, 1, 6, 0, 30, tzinfo=UTC), 100.0, 100.1, 99.9, 100.0, 1000.0)
    assert engine.session_date == date(2024, 1, 5) and engine.levels.resistance
    # next morning: new session
    engine.update(datetime(2024, 1, 8, 14, 31, tzinfo=UTC), 90.0, 91.0, 89.0, 90.0, 1000.0)
    assert engine.session_date == date(2024, 1, 8)
    assert engine.vwap is not None and engine.vwap.vwap == 90.0
    assert engine.levels.resistance == () and engine.velocity is None  # no overnight-gap velocity
    assert engine.volume_ratio is not None  # the volume baseline carries over


def test_engine_naive_timestamps_are_utc():
    assert session_date_et(datetime(2024, 1, 6, 0, 30)) == date(2024, 1, 5)


def test_engine_is_deterministic():
    bars = breakout_bars(2000.0)
    assert run(MomentumSignalEngine(), bars) == run(MomentumSignalEngine(), bars)


def test_engine_params_from_momentum_config():
    from options_scalper.config import MomentumConfig

    params = MomentumSignalParams.from_config(MomentumConfig(momentum_window_bars=4, sr_min_strength=3))
    assert params.velocity_window_bars == 3  # 4 closes = 3 bars of change
    assert params.breakout_min_strength == 3
    assert MomentumSignalParams.from_config(MomentumConfig()).velocity_window_bars == 1


def test_engine_params_validated():
    with pytest.raises(SignalParameterError, match="velocity_window_bars"):
        MomentumSignalParams(velocity_window_bars=0)
    with pytest.raises(SignalParameterError, match="breakout_min_strength"):
        MomentumSignalParams(breakout_min_strength=0)


# --- unknown volume (NaN: underlying from put-call parity) ------------------------------

NAN = float("nan")


def test_momentum_burst_unknown_volume_fires_on_velocity_alone():
    t = check_momentum_burst(velocity([100.0, 100.3, 100.75], 2), None, 0.005, 1.5, volume_known=False)
    assert t is not None and t.trigger is TriggerKind.MOMENTUM_BURST and t.direction is BULL
    assert t.confidence == 50 + 13  # 25 * 0.5 (move 1.5x the threshold), no volume part
    assert t.metadata["volume_confirmed"] is None and t.metadata["volume_ratio"] is None
    capped = check_momentum_burst(velocity([100.0, 102.0], 1), 9.0, 0.005, 1.5, volume_known=False)
    assert capped is not None and capped.confidence == 75  # a ratio given anyway is ignored


def test_momentum_burst_unknown_volume_still_needs_the_move():
    assert check_momentum_burst(velocity([100.0, 100.4], 1), None, 0.005, 1.5, volume_known=False) is None


def test_momentum_burst_known_volume_is_confirmed_in_metadata():
    t = check_momentum_burst(velocity([100.0, 100.6], 1), 2.0, 0.005, 1.5)
    assert t is not None and t.metadata["volume_confirmed"] is True and t.metadata["volume_ratio"] == 2.0


def test_breakout_unknown_volume_skips_the_volume_confirmation():
    t = check_breakout(100.6, [RES], velocity_pct=0.003, volume_ratio=None, volume_known=False)
    assert t is not None and t.trigger is TriggerKind.BREAKOUT
    assert t.metadata["volume_confirmed"] is None and t.metadata["volume_ratio"] is None
    # the level and velocity rules still apply
    assert check_breakout(100.6, [RES], velocity_pct=0.001, volume_ratio=None, volume_known=False) is None
    known = check_breakout(100.6, [RES], velocity_pct=0.003, volume_ratio=1.8)
    assert known is not None and known.metadata["volume_confirmed"] is True


def test_engine_unknown_volume_bursts_on_velocity_alone():
    engine = MomentumSignalEngine()
    triggers = run(engine, [*flat(30, volume=NAN), (100.65, 100.0, 100.6, NAN)])
    assert triggers[:30] == [None] * 30
    t = triggers[30]
    assert t is not None and t.trigger is TriggerKind.MOMENTUM_BURST and t.direction is BULL
    assert t.confidence == 55  # 50 + 25 * 0.2, no volume part
    assert t.metadata["volume_confirmed"] is None and t.metadata["volume_known"] is False
    assert engine.volume_known is False and engine.volume_ratio is None and engine.vwap is None


def test_engine_known_volume_burst_still_needs_the_spike():
    # the same move with a real (ordinary) volume does not fire: unknown is not "passes"
    assert run(MomentumSignalEngine(), [*flat(30), (100.65, 100.0, 100.6, 1000.0)])[-1] is None
    t = run(MomentumSignalEngine(), [*flat(30), (100.65, 100.0, 100.6, 3000.0)])[-1]
    assert t is not None and t.metadata["volume_confirmed"] is True and t.metadata["volume_known"] is True


def test_engine_zero_volume_is_known_not_skipped():
    # 0 = a real minute without trades: no ratio against a zero baseline, so no burst
    assert run(MomentumSignalEngine(), [*flat(30, volume=0.0), (100.65, 100.0, 100.6, 0.0)])[-1] is None


def test_engine_unknown_volume_gives_no_vwap_trigger():
    params = MomentumSignalParams(velocity_window_bars=3)
    bars = [*flat(30, volume=NAN), *[(c + 0.02, c - 0.02, c, NAN) for c in (99.9, 99.92, 99.96)]]
    bars.append((100.08, 100.0, 100.05, NAN))  # the VWAP-bounce shape of test_engine_vwap_bounce
    engine = MomentumSignalEngine(params)
    assert all(t is None for t in run(engine, bars))
    assert engine.vwap is None


def test_engine_unknown_volume_breakout_skips_volume():
    bars = [(h, lo, c, NAN) for h, lo, c, _ in breakout_bars(NAN)]
    t = run(MomentumSignalEngine(BREAKOUT_PARAMS), bars)[-1]
    assert t is not None and t.trigger is TriggerKind.BREAKOUT and t.metadata["volume_confirmed"] is None


def test_engine_params_take_vwap_and_breakout_thresholds_from_config():
    from options_scalper.config import MomentumConfig

    default = MomentumSignalParams.from_config(MomentumConfig())
    assert (default.vwap_velocity_min_pct, default.breakout_volume_min) == (0.001, 1.5)
    params = MomentumSignalParams.from_config(
        MomentumConfig(vwap_velocity_pct=0.002, breakout_volume_ratio=2.5)
    )
    assert (params.vwap_velocity_min_pct, params.breakout_volume_min) == (0.002, 2.5)
