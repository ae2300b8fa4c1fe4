"""MomentumBurstScalp's params and its ``MomentumSignals`` indicator, checked on real Cerebro runs.

The indicator's lines are compared with independent computations (pandas, plain
arithmetic) over hand-made bars of two sessions: the first is warmup, the second
the trading range. Bars only, no option quotes: signals that fire are refused
with ``empty_chain`` and nothing trades.
"""

from __future__ import annotations

import math
import pickle
from datetime import UTC, date, timedelta

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from app.cerebro import build_cerebro
from options_scalper.config import PROFILES, ConfigError, MomentumConfig
from strategies.momentum_burst import TRIGGER_CODES, MomentumBurstScalp, resolve_profile
from tests.support.memory_catalog import MemoryCatalog, session_stamps

DAYS = (date(2024, 1, 4), date(2024, 1, 5))
N = 390


def bars_frame(day: date, o, h, lo, c, v) -> pd.DataFrame:
    start = [s - timedelta(minutes=1) for s in session_stamps(day)]  # catalog bars: minute START
    return pd.DataFrame(
        {"ts": pd.to_datetime(start, utc=True), "open": o, "high": h, "low": lo, "close": c, "volume": v}
    )


def random_day(day: date, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 470 + np.cumsum(rng.normal(0, 0.6, N))
    open_ = np.r_[close[0], close[:-1]] + rng.normal(0, 0.03, N)
    high = np.maximum(open_, close) + rng.uniform(0, 0.1, N)
    low = np.minimum(open_, close) - rng.uniform(0, 0.1, N)
    volume = rng.integers(200, 5000, N).astype(float)
    volume[rng.choice(N, 12, replace=False)] = 0.0  # minutes without trades
    return bars_frame(day, open_, high, low, close, volume)


def close_only_day(day: date, close: np.ndarray, volume: np.ndarray | None = None) -> pd.DataFrame:
    close = np.asarray(close, dtype=float)
    open_ = np.r_[close[0], close[:-1]]
    vol = np.full(N, 1000.0) if volume is None else volume
    return bars_frame(day, open_, np.maximum(open_, close), np.minimum(open_, close), close, vol)


def run_bars(days: list[pd.DataFrame], **params) -> MomentumBurstScalp:
    cat = MemoryCatalog()
    for day, bars in zip(DAYS, days, strict=True):
        cat.add_day("SPY", day, bars, pd.DataFrame())
    cer = build_cerebro(MomentumBurstScalp, cat, ["SPY"], fromdate=DAYS[-1], warmup_days=1, **params)
    return cer.run()[0]


def line(strat: MomentumBurstScalp, name: str) -> np.ndarray:
    ind = strat.momentum["SPY"]
    values = np.asarray(getattr(ind, name).array, dtype=float)
    assert len(values) == len(strat.books["SPY"].clock.close.array) == len(DAYS) * N
    return values


def assert_lines(got: np.ndarray, want: np.ndarray) -> None:
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------- params


def test_every_momentum_config_field_is_a_flat_picklable_param_with_its_default():
    params = dict(MomentumBurstScalp.params._getitems())
    defaults = MomentumConfig()
    for name in MomentumConfig.field_names():
        value = getattr(defaults, name)
        assert params[name] == getattr(value, "value", value), name
    assert params["profile"] == "" and params["put_call_confirm"] is False
    assert params["momentum_window_bars"] == 2 and params["baseline_window_bars"] == 30
    assert all(isinstance(v, bool | int | float | str) for v in params.values())
    pickle.dumps(tuple(params.items()))


def test_resolve_profile_adds_table_5_2_values_that_were_not_passed():
    assert resolve_profile({"x": 1}) == {"x": 1}
    got = resolve_profile({"profile": "Aggressive", "stop_loss_pct": 0.15})
    assert got == {"profile": "Aggressive", **PROFILES["aggressive"], "stop_loss_pct": 0.15}
    assert resolve_profile({}, default_profile="conservative")["max_daily_scalps"] == 5
    with pytest.raises(ConfigError, match="valid profiles"):
        resolve_profile({"profile": "fast"})


def test_trigger_codes_are_distinct_and_nonzero():
    assert sorted(TRIGGER_CODES.values()) == [1, 2, 3, 4]


# --------------------------------------------------------------------------- indicator lines


@pytest.fixture(scope="module")
def random_run() -> tuple[MomentumBurstScalp, pd.DataFrame]:
    days = [random_day(DAYS[0], 1), random_day(DAYS[1], 2)]
    strat = run_bars(days, vwap_band_std=2.0)
    return strat, pd.concat(days, ignore_index=True)


def test_session_vwap_and_bands_match_an_independent_computation(random_run):
    strat, bars = random_run
    tp = (bars["high"] + bars["low"] + bars["close"]) / 3.0
    v = bars["volume"]
    session = bars["ts"].dt.tz_convert("America/New_York").dt.date
    cum_v = v.groupby(session).cumsum()
    vwap = (v * tp).groupby(session).cumsum() / cum_v
    var = (v * tp * tp).groupby(session).cumsum() / cum_v - vwap**2
    sigma = np.sqrt(var.clip(lower=0.0))
    want = vwap.where(cum_v > 0).to_numpy()
    assert_lines(line(strat, "vwap"), want)
    assert_lines(line(strat, "vwap_upper"), want + 2.0 * sigma.to_numpy())
    assert_lines(line(strat, "vwap_lower"), want - 2.0 * sigma.to_numpy())
    # the second session starts afresh: its first VWAP is its first bar's typical price
    first = N + int(np.argmax(v.to_numpy()[N:] > 0))
    assert line(strat, "vwap")[first] == pytest.approx(tp[first])


def test_volume_ratio_is_the_bar_over_the_mean_of_the_30_bars_before_it(random_run):
    strat, bars = random_run
    v = bars["volume"]
    base = v.shift(1).rolling(30).mean()  # carries across sessions
    want = (v / base).where(base > 0).to_numpy()
    assert_lines(line(strat, "volume_ratio"), want)
    spike = line(strat, "volume_spike")
    ok = ~np.isnan(want)
    assert np.array_equal(spike[ok], (want[ok] >= 1.5).astype(float))


def test_triggers_fire_on_random_bars_and_the_lines_agree_with_the_counters(random_run):
    strat, _ = random_run
    trig = line(strat, "trigger")[N:]  # trading session only (counters skip warmup)
    conf = line(strat, "confidence")[N:]
    names = {code: kind.value for kind, code in TRIGGER_CODES.items()}
    counted = {names[c]: int((trig == c).sum()) for c in names if (trig == c).any()}
    assert counted and counted == dict(strat.triggers)
    assert ((conf[trig > 0] >= 50) & (conf[trig > 0] <= 100)).all()
    assert (np.abs(line(strat, "direction")[N:][trig > 0]) == 1).all()
    assert strat.rejections["empty_chain"] + strat.rejections["before_start"] + strat.rejections[
        "after_cutoff"
    ] == sum(strat.triggers.values())
    assert not strat.closed_scalps


def test_velocity_on_a_known_series_restarts_each_session():
    head = [100.0, 101.0, 99.0, 102.0, 100.0, 100.03, 100.04]
    day2 = np.r_[head, np.full(N - len(head), 100.04)]
    strat = run_bars(
        [close_only_day(DAYS[0], np.full(N, 90.0)), close_only_day(DAYS[1], day2)], momentum_window_bars=3
    )
    vel = line(strat, "velocity")[N : N + 7]
    # 3 closes = 2 bars of change; the session's first bars use the closes they have
    want = [
        math.nan,
        101 / 100 - 1,
        99 / 100 - 1,
        102 / 101 - 1,
        100 / 99 - 1,
        100.03 / 102 - 1,
        100.04 / 100 - 1,
    ]
    assert_lines(vel, np.array(want))
    assert list(line(strat, "velocity_dir")[N + 1 : N + 7]) == [1, -1, 1, 1, -1, 0]
    # significant: |change| >= 0.3% over >= 3 closes (bar 1 moved 1% but on 2 closes)
    assert list(line(strat, "significant")[N + 1 : N + 7]) == [0, 1, 1, 1, 1, 0]


def test_velocity_default_window_is_the_last_one_minute_change(random_run):
    strat, bars = random_run
    c = bars["close"].to_numpy()
    want = c / np.r_[np.nan, c[:-1]] - 1
    want[N] = np.nan  # session restart
    assert_lines(line(strat, "velocity"), want)


def test_swing_levels_gain_strength_by_touches_and_expire_after_the_lookback():
    close = np.full(N, 100.0)
    high, low = np.full(N, 100.05), np.full(N, 99.95)
    high[10], high[20], low[30] = 100.50, 100.60, 99.40  # two touches of one resistance, one support
    for k in range(7):  # seven separate resistances near the close of the session
        high[320 + 8 * k] = 101.0 + 0.5 * k
    vol = np.full(N, 1000.0)
    day2 = bars_frame(DAYS[1], close, high, low, close, vol)
    strat = run_bars([close_only_day(DAYS[0], np.full(N, 100.0)), day2])
    res, res_n = line(strat, "resistance")[N:], line(strat, "resistance_strength")[N:]
    sup, sup_n = line(strat, "support")[N:], line(strat, "support_strength")[N:]
    assert math.isnan(res[11]) and res_n[11] == 0  # a swing is confirmed 2 bars later
    assert res[12] == pytest.approx(100.50) and res_n[12] == 1
    assert res[22] == pytest.approx(100.55) and res_n[22] == 2  # within 0.3%: merged, mean price
    assert sup[32] == pytest.approx(99.40) and sup_n[32] == 1
    assert res_n[79] == 2 and res_n[80] == 0  # last touch bar 20, 60-bar lookback
    levels = strat.momentum["SPY"].engine.levels
    assert len(levels.resistance) == 5  # the strongest five (ties: most recent)
    assert [lv.price for lv in levels.resistance] == pytest.approx([104.0, 103.5, 103.0, 102.5, 102.0])


def test_indicator_plots_vwap_and_levels_on_the_price_chart_only(random_run):
    strat, _ = random_run
    ind = strat.momentum["SPY"]
    assert isinstance(ind, bt.Indicator) and ind.plotinfo.subplot is False
    shown = {n for n in ind.lines.getlinealiases() if not getattr(ind.plotlines, n)._get("_plotskip", False)}
    assert shown == {"vwap", "vwap_upper", "vwap_lower", "support", "resistance"}
    last = bt.num2date(strat.books["SPY"].clock.datetime[0]).replace(tzinfo=UTC)
    assert last == session_stamps(DAYS[1])[-1]
