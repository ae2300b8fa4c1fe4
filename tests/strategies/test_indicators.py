"""Backtrader wrappers agree bar for bar with the pure signal code (tiny real Cerebro runs)."""

from __future__ import annotations

import math

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from options_scalper.signals.averages import Ema
from options_scalper.signals.base import SignalParameterError, session_date_et
from options_scalper.signals.ema_cloud import EmaCloud
from options_scalper.signals.velocity import velocity
from options_scalper.signals.volume import VolumeSpikeTracker
from options_scalper.signals.vwap import SessionVwap
from strategies.indicators import EmaCloudInd, SessionVWAP, Velocity, VolumeRatio


def make_bars() -> pd.DataFrame:
    """Two sessions of 1-minute bars (UTC), a trend up then down, random volume with zeros."""
    rng = np.random.default_rng(11)
    day1 = pd.date_range("2024-01-04 14:30", periods=45, freq="1min", tz="UTC")
    day2 = pd.date_range("2024-01-05 14:30", periods=45, freq="1min", tz="UTC")
    index = day1.append(day2)
    n = len(index)
    drift = np.where(np.arange(n) % 45 < 25, 0.08, -0.08)
    close = 470 + np.cumsum(drift + rng.normal(0, 0.05, n))
    open_ = np.concatenate([[close[0]], close[:-1]]) + rng.normal(0, 0.02, n)
    high = np.maximum(open_, close) + rng.uniform(0, 0.05, n)
    low = np.minimum(open_, close) - rng.uniform(0, 0.05, n)
    volume = rng.integers(500, 3000, n).astype(float)
    volume[[5, 50, 51]] = 0.0
    volume[30] = 9000.0
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


class Probe(bt.Strategy):
    def __init__(self) -> None:
        self.cloud = EmaCloudInd(self.data)
        self.vol = VolumeRatio(self.data, period=20)
        self.vwap = SessionVWAP(self.data, band_std=2.0)
        self.vel = Velocity(self.data, period=3)


def run_probe(bars: pd.DataFrame, runonce: bool) -> Probe:
    cerebro = bt.Cerebro(stdstats=False, runonce=runonce)
    cerebro.adddata(bt.feeds.PandasData(dataname=bars.tz_convert(None), openinterest=None))
    cerebro.addstrategy(Probe)
    (strat,) = cerebro.run()
    return strat


def values(line) -> list[float]:
    return list(line.array)


def assert_same(got: list[float], want: list[float | None]) -> None:
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if w is None:
            assert math.isnan(g), f"bar {i}: expected NaN, got {g}"
        else:
            assert g == pytest.approx(w, rel=1e-12, abs=1e-12), f"bar {i}"


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return make_bars()


@pytest.fixture(scope="module", params=[True, False], ids=["runonce", "next"])
def probe(request, bars) -> Probe:
    return run_probe(bars, runonce=request.param)


def test_ema_cloud_lines_match_pure_cloud(probe, bars):
    fast, slow = Ema(5), Ema(12)
    assert_same(values(probe.cloud.fast), [fast.update(c) for c in bars.close])
    assert_same(values(probe.cloud.slow), [slow.update(c) for c in bars.close])
    cloud = EmaCloud()
    readings = [cloud.update(c) for c in bars.close]
    assert readings[:11] == [None] * 11 and probe.cloud._minperiod == 12  # the strategy sees bar 12 on
    assert all(r is not None for r in readings[11:])
    for name in ("top", "bottom"):
        want = [getattr(r, name) for r in readings[11:]]
        assert_same(values(getattr(probe.cloud, name))[11:], want)
    assert_same(values(probe.cloud.bullish)[11:], [float(r.bullish) for r in readings[11:] if r is not None])
    assert any(r is not None and r.flip is not None for r in readings)  # the fixture has flips


def test_volume_ratio_line_matches_tracker(probe, bars):
    tracker = VolumeSpikeTracker(20)
    want = [tracker.update(v) for v in bars.volume]
    assert want[30] is not None and want[30] > 3  # the spike bar
    assert_same(values(probe.vol.ratio), want)


def test_session_vwap_lines_match_pure_vwap_and_reset_per_session(probe, bars):
    svwap = SessionVwap(band_std=2.0)
    readings = [
        svwap.update(r.high, r.low, r.close, r.volume, session_date_et(ts.to_pydatetime()))
        for ts, r in zip(bars.index, bars.itertuples(), strict=True)
    ]
    assert_same(values(probe.vwap.vwap), [None if r is None else r.vwap for r in readings])
    assert_same(values(probe.vwap.upper), [None if r is None else r.upper for r in readings])
    assert_same(values(probe.vwap.lower), [None if r is None else r.lower for r in readings])
    first_of_day2 = bars.iloc[45]
    typical = (first_of_day2.high + first_of_day2.low + first_of_day2.close) / 3
    assert probe.vwap.vwap.array[45] == pytest.approx(typical)  # day 2 starts afresh
    assert probe.vwap.upper.array[45] == pytest.approx(typical)  # one bar: no spread yet


def test_velocity_line_matches_pure_velocity(probe, bars):
    closes = list(bars.close)
    want: list[float | None] = [None] * 3
    for i in range(3, len(closes)):
        reading = velocity(closes[: i + 1], 3)
        assert reading is not None
        want.append(reading.change_pct)
    assert_same(values(probe.vel.change_pct), want)


def test_macro_cloud_periods_on_resampled_data(bars):
    class Macro(bt.Strategy):
        def __init__(self) -> None:
            self.macro = EmaCloudInd(self.data1, fast_period=3, slow_period=4)

    cerebro = bt.Cerebro(stdstats=False)
    data = bt.feeds.PandasData(dataname=bars.tz_convert(None), openinterest=None)
    cerebro.adddata(data)
    cerebro.resampledata(data, timeframe=bt.TimeFrame.Minutes, compression=10)
    cerebro.addstrategy(Macro)
    (strat,) = cerebro.run()
    closes_10min = list(strat.data1.close.array)
    assert len(closes_10min) >= 8  # two sessions of 45 one-minute bars
    cloud = EmaCloud(3, 4)
    readings = [cloud.update(c) for c in closes_10min]
    assert_same(values(strat.macro.top)[3:], [r.top for r in readings[3:] if r is not None])


def test_bad_cloud_periods_raise():
    cerebro = bt.Cerebro(stdstats=False)

    class Bad(bt.Strategy):
        def __init__(self) -> None:
            EmaCloudInd(self.data, fast_period=12, slow_period=5)

    cerebro.adddata(bt.feeds.PandasData(dataname=make_bars().tz_convert(None), openinterest=None))
    cerebro.addstrategy(Bad)
    with pytest.raises(SignalParameterError, match="fast_period"):
        cerebro.run()
