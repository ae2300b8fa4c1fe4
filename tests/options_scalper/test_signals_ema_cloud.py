"""EMA-cloud rules of PRD-136 on hand-made 1-minute bars."""

from __future__ import annotations

import itertools
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from options_scalper.model import Direction, ScalperError
from options_scalper.signals.averages import Ema, TrailingMean, WilderAtr
from options_scalper.signals.base import SignalParameterError
from options_scalper.signals.ema_cloud import (
    ConvictionInputs,
    ConvictionWeights,
    EmaCloud,
    ExhaustionCount,
    ExhaustionCounter,
    conviction_score,
    conviction_subscores,
    detect_flip,
    first_candle_tests_cloud,
    macro_alignment,
    volume_confirmed,
)

BULL, BEAR = Direction.BULLISH, Direction.BEARISH


def reference_ema(values: list[float], period: int) -> list[float | None]:
    """Independent SMA-seeded EMA (textbook form)."""
    out: list[float | None] = [None] * len(values)
    alpha = 2 / (period + 1)
    if len(values) < period:
        return out
    value = float(np.mean(values[:period]))
    out[period - 1] = value
    for i in range(period, len(values)):
        value = value + alpha * (values[i] - value)
        out[i] = value
    return out


# --- averages ---------------------------------------------------------------


def test_ema_seeded_with_sma_then_smooths():
    ema = Ema(3)
    assert [ema.update(x) for x in (1.0, 2.0, 3.0, 4.0)] == [None, None, 2.0, 3.0]


def test_ema_matches_reference_on_random_walk():
    closes = list(100 + np.cumsum(np.random.default_rng(1).normal(0, 0.2, 80)))
    ema = Ema(12)
    got = [ema.update(c) for c in closes]
    want = reference_ema(closes, 12)
    assert got[:11] == [None] * 11
    assert got[11:] == pytest.approx(want[11:], rel=1e-12)


def test_trailing_mean_excludes_current_value():
    mean = TrailingMean(2)
    assert [mean.update(x) for x in (10.0, 20.0, 40.0, 0.0)] == [None, None, 15.0, 30.0]


def test_wilder_atr_seed_and_smoothing():
    atr = WilderAtr(2)
    bars = [(10.0, 9.0, 9.5), (10.5, 9.5, 10.0), (11.0, 10.0, 10.8), (10.9, 10.7, 10.8)]
    got = [atr.update(h, lo, c) for h, lo, c in bars]
    # true ranges from bar 2: 1.0, 1.0, 0.2 -> seed (1+1)/2 = 1.0, then 1.0*0.5 + 0.2*0.5
    assert got == [None, None, 1.0, pytest.approx(0.6)]


def test_period_below_one_is_rejected_with_name():
    with pytest.raises(SignalParameterError, match="period"):
        Ema(0)
    assert issubclass(SignalParameterError, ScalperError)


# --- clouds and flips ---------------------------------------------------------


@pytest.mark.parametrize(
    ("prev_fast", "prev_slow", "fast", "slow", "expected"),
    [
        (99.0, 100.0, 100.5, 100.0, BULL),  # crosses up
        (100.0, 100.0, 100.1, 100.0, BULL),  # from touching to above
        (101.0, 100.0, 99.5, 100.0, BEAR),  # crosses down
        (100.5, 100.0, 100.8, 100.0, None),  # stays above
        (99.0, 100.0, 99.5, 100.0, None),  # stays below
        (99.0, 100.0, 100.0, 100.0, None),  # only touches
    ],
)
def test_detect_flip_table(prev_fast, prev_slow, fast, slow, expected):
    assert detect_flip(prev_fast, prev_slow, fast, slow) == expected


def v_shape_closes() -> list[float]:
    down = [100.0 - 0.1 * i for i in range(30)]
    up = [down[-1] + 0.15 * i for i in range(1, 21)]
    return down + up


def test_ema_cloud_flips_bullish_exactly_where_the_emas_cross():
    closes = v_shape_closes()
    cloud = EmaCloud()
    readings = [cloud.update(c) for c in closes]
    assert readings[10] is None and readings[11] is not None  # EMA(12) needs 12 closes
    fast, slow = reference_ema(closes, 5), reference_ema(closes, 12)
    diff = [f - s for f, s in zip(fast[11:], slow[11:], strict=True)]  # type: ignore[operator]
    cross = next(i for i in range(1, len(diff)) if diff[i - 1] <= 0 < diff[i]) + 11
    flips = [(i, r.flip) for i, r in enumerate(readings) if r is not None and r.flip is not None]
    assert flips == [(cross, BULL)]
    r = readings[cross]
    assert r is not None and r.bullish and r.top == r.fast and r.bottom == r.slow
    assert readings[11] is not None and readings[11].flip is None  # first reading is never a flip


def test_macro_cloud_uses_34_50():
    macro = EmaCloud.macro()
    out = [macro.update(100.0 + i) for i in range(50)]
    assert out[48] is None and out[49] is not None and out[49].bullish


def test_cloud_periods_must_be_ordered():
    with pytest.raises(SignalParameterError, match="fast_period"):
        EmaCloud(12, 5)


# --- macro alignment ------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "price", "fast_top", "fast_bottom", "macro_fast", "macro_slow", "expected"),
    [
        (BULL, 101.0, 100.8, 100.6, 100.2, 100.0, True),  # all above a bullish macro cloud
        (BULL, 101.0, 100.8, 100.6, 100.0, 100.2, False),  # macro cloud bearish
        (BULL, 101.0, 100.8, 100.1, 100.2, 100.0, False),  # fast cloud overlaps macro cloud
        (BULL, 100.1, 100.8, 100.6, 100.2, 100.0, False),  # price back inside macro cloud
        (BEAR, 99.0, 99.4, 99.2, 99.8, 100.0, True),
        (BEAR, 99.0, 99.4, 99.2, 100.0, 99.8, False),  # macro cloud bullish
        (BEAR, 99.0, 99.9, 99.2, 99.8, 100.0, False),  # fast top inside macro cloud
    ],
)
def test_macro_alignment_table(direction, price, fast_top, fast_bottom, macro_fast, macro_slow, expected):
    assert macro_alignment(direction, price, fast_top, fast_bottom, macro_fast, macro_slow) is expected


def test_flip_enters_only_with_macro_agreement():
    closes = v_shape_closes()
    cloud = EmaCloud()
    flip_bar = next(r for r in (cloud.update(c) for c in closes) if r is not None and r.flip is not None)
    price = closes[-1]
    assert flip_bar.flip is BULL
    below = flip_bar.bottom - 1.0
    assert macro_alignment(BULL, price, flip_bar.top, flip_bar.bottom, below, below - 0.2)
    assert not macro_alignment(BULL, price, flip_bar.top, flip_bar.bottom, below - 0.2, below)


# --- volume -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("volume", "expected"),
    [(14_999.0, False), (15_000.0, False), (15_001.0, True)],
)
def test_volume_confirmed_is_strictly_above_one_and_a_half_times_average(volume, expected):
    assert volume_confirmed(volume, 10_000.0) is expected


@pytest.mark.parametrize("avg", [None, float("nan"), 0.0])
def test_volume_confirmed_without_baseline_is_false(avg):
    assert not volume_confirmed(1e9, avg)


def test_volume_average_excludes_trigger_bar():
    mean = TrailingMean(20)
    for _ in range(20):
        mean.update(1000.0)
    avg = mean.update(1600.0)  # the trigger bar
    assert avg == 1000.0 and volume_confirmed(1600.0, avg)


# --- conviction -------------------------------------------------------------------

BASE = ConvictionInputs(
    macro_aligned=True,
    volume_ratio=2.0,
    price=100.60,
    cloud_top=100.20,
    cloud_bottom=100.10,
    atr=0.80,
    minutes_from_open=120.0,
    minutes_to_close=200.0,
)


def test_conviction_hand_computed_value():
    # 30*1 + 25*0.5 + 20*(0.10/0.20) + 15*(1 - 0.40/0.80) + 10*1 = 30 + 12.5 + 10 + 7.5 + 10
    s = conviction_subscores(BASE)
    assert (s.macro_alignment, s.volume, s.time_of_day) == (1.0, 0.5, 1.0)
    assert s.separation == pytest.approx(0.5) and s.extension == pytest.approx(0.5)
    assert conviction_score(BASE) == 70


def test_conviction_first_hour_and_unaligned():
    early = replace(BASE, minutes_from_open=30.0)
    assert conviction_score(early) == 65
    assert conviction_score(replace(BASE, macro_aligned=False)) == 40
    assert conviction_score(replace(BASE, minutes_to_close=59.0)) == 65


def test_conviction_without_atr_or_volume_scores_those_parts_zero():
    assert conviction_score(replace(BASE, atr=None, volume_ratio=None)) == 40


def random_inputs(n: int) -> list[ConvictionInputs]:
    rng = np.random.default_rng(7)
    out = []
    for _ in range(n):
        bottom = 100 + rng.normal(0, 1)
        out.append(
            ConvictionInputs(
                macro_aligned=bool(rng.integers(0, 2)),
                volume_ratio=float(rng.uniform(0, 6)),
                price=float(bottom + rng.normal(0, 2)),
                cloud_top=float(bottom + rng.uniform(0, 1)),
                cloud_bottom=float(bottom),
                atr=float(rng.uniform(0, 2)),
                minutes_from_open=float(rng.uniform(0, 390)),
                minutes_to_close=float(rng.uniform(0, 390)),
            )
        )
    return out


def test_conviction_bounded_0_100():
    scores = [conviction_score(x) for x in random_inputs(500)]
    assert all(isinstance(s, int) and 0 <= s <= 100 for s in scores)
    extreme = replace(BASE, volume_ratio=50.0, price=100.15, cloud_top=105.0, cloud_bottom=100.0)
    assert conviction_score(extreme) == 100


def test_conviction_monotone_in_volume_ratio():
    for x in random_inputs(100):
        ratios = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0]
        scores = [conviction_score(replace(x, volume_ratio=r)) for r in ratios]
        assert scores == sorted(scores)
    assert conviction_score(replace(BASE, volume_ratio=3.0)) > conviction_score(BASE)


def test_conviction_monotone_in_alignment():
    for x in random_inputs(100):
        aligned = conviction_score(replace(x, macro_aligned=True))
        assert aligned - conviction_score(replace(x, macro_aligned=False)) == 30


def test_conviction_custom_weights():
    only_volume = ConvictionWeights(macro_alignment=0, volume=100, separation=0, extension=0, time_of_day=0)
    assert conviction_score(BASE, only_volume) == 50


@pytest.mark.parametrize(
    "kwargs", [{"volume": 30.0}, {"volume": -5.0, "macro_alignment": 60.0}], ids=["sum", "negative"]
)
def test_conviction_weights_validated(kwargs):
    with pytest.raises(SignalParameterError):
        ConvictionWeights(**kwargs)


# --- first candle tests the cloud -------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "ohlc", "expected"),
    [
        (BULL, (100.5, 100.6, 100.15, 100.45), True),  # dips into cloud, closes above top
        (BULL, (100.5, 100.6, 100.15, 100.18), False),  # closes inside the cloud: no bounce
        (BULL, (100.5, 100.7, 100.30, 100.60), False),  # never reaches the cloud: no test
        (BULL, (100.5, 100.6, 100.20, 100.40), True),  # low exactly at the top counts as a test
        (BEAR, (99.8, 100.15, 99.7, 99.80), True),  # pokes up into cloud, closes below bottom
        (BEAR, (99.8, 100.15, 99.7, 100.05), False),  # closes inside
        (BEAR, (99.8, 99.95, 99.6, 99.70), False),  # never reaches it
    ],
)
def test_first_candle_tests_cloud(direction, ohlc, expected):
    o, h, lo, c = ohlc
    assert first_candle_tests_cloud(direction, o, h, lo, c, 100.20, 100.00) is expected


# --- exhaustion ---------------------------------------------------------------------


def test_exhaustion_counter_counts_green_candles_clear_of_cloud_and_resets():
    top, bottom = 100.0, 99.8
    counter = ExhaustionCounter()
    bars = [
        (100.1, 100.4, 100.05, 100.3),  # green, clear -> 1
        (100.3, 100.6, 100.20, 100.5),  # green, clear -> 2
        (100.5, 100.9, 100.40, 100.8),  # green, clear -> 3 (PRD exit fires)
        (100.8, 101.0, 100.50, 100.6),  # red -> reset
        (100.6, 100.9, 100.10, 100.8),  # green, clear -> 1
        (100.8, 101.0, 99.95, 100.9),  # wick touches the cloud -> reset
    ]
    counts = [counter.update(*bar, top, bottom).bull for bar in bars]
    assert counts == [1, 2, 3, 0, 1, 0]
    assert counter.count == ExhaustionCount(0, 0)


def test_exhaustion_counter_bear_side_and_doji_breaks_streak():
    top, bottom = 100.0, 99.8
    counter = ExhaustionCounter()
    bars = [
        (99.7, 99.75, 99.40, 99.5),
        (99.5, 99.60, 99.20, 99.3),
        (99.3, 99.35, 99.00, 99.1),
        (99.1, 99.20, 98.90, 99.1),  # doji: no colour -> reset
    ]
    counts = [counter.update(*bar, top, bottom) for bar in bars]
    assert [c.bear for c in counts] == [1, 2, 3, 0]
    assert all(c.bull == 0 for c in counts)
    assert counts[2].for_direction(BEAR) == 3 and counts[2].for_direction(BULL) == 0


def test_exhaustion_ignores_missing_cloud():
    counter = ExhaustionCounter()
    assert counter.update(100.0, 101.0, 99.9, 100.9, float("nan"), float("nan")) == ExhaustionCount(0, 0)


def test_signals_package_does_not_import_backtrader():
    code = (
        "import sys, options_scalper.signals.ema_cloud, options_scalper.signals.momentum; "
        "sys.exit('backtrader' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- unknown volume (NaN: underlying from put-call parity) ------------------------------


@pytest.mark.parametrize("avg", [None, float("nan"), 0.0, 10_000.0])
def test_volume_confirmed_unknown_volume_is_not_applicable(avg):
    assert volume_confirmed(float("nan"), avg) is None


def test_volume_confirmed_zero_volume_is_known():
    assert volume_confirmed(0.0, 10_000.0) is False


def test_conviction_unknown_volume_scores_the_neutral_midpoint():
    unknown = replace(BASE, volume_ratio=None, volume_known=False)
    assert conviction_subscores(unknown).volume == 0.5
    assert conviction_score(unknown) == conviction_score(BASE) == 70  # BASE: 2x -> 0.5 as well
    # the ratio, if any, is ignored when volume is unknown
    assert conviction_score(replace(unknown, volume_ratio=5.0)) == 70
    assert conviction_score(replace(BASE, volume_ratio=None)) == 58  # known, no ratio -> 0: 57.5 rounds up


def test_detect_flip_ignores_float_noise_between_converged_emas():
    from options_scalper.signals.ema_cloud import detect_flip

    base = 431.27
    noise = [base + 1e-13, base - 1e-13, base + 2e-13, base - 1e-13]
    assert all(detect_flip(a, base, b, base) is None for a, b in itertools.pairwise(noise))
    # a real cross out of a converged state still flips
    assert detect_flip(base + 1e-13, base, base + 0.01, base) is not None
