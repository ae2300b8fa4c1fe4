"""The fused indicators equal Backtrader's own EMA / SMA / ATR / Max / Min bit for bit, bounded or not.

Real Cerebro runs on the same bars: one strategy holds the Backtrader built-ins the
shipped strategies used before (a tree of line indicators), the other the fused ones;
every line, every bar, must hold the same float (NaN where the built-in has none yet),
in next mode and in runonce mode, and the strategies' minimum periods per data (when
Backtrader starts calling ``next``) must be the same.
"""

from __future__ import annotations

import math

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from btcompat.linebuffers import RingBuffer
from strategies.indicators import ClockCloud, EmaCloudInd


def make_bars(n: int = 3 * 390) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    index = pd.date_range("2024-01-04 14:31", periods=n, freq="1min")
    close = 470 + np.cumsum(rng.normal(0, 0.08, n))
    open_ = np.r_[close[0], close[:-1]] + rng.normal(0, 0.02, n)
    high = np.maximum(open_, close) + rng.uniform(0, 0.05, n)
    low = np.minimum(open_, close) - rng.uniform(0, 0.05, n)
    low[100] = close[99] + 0.3  # a gap up: the true range reaches back to the previous close
    volume = rng.integers(0, 4000, n).astype(float)
    volume[400:430] = np.nan  # unknown volume (a parity underlying)
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


class BuiltIns(bt.Strategy):
    """What ``EmaCloudScalp`` used to build: Backtrader's line indicators."""

    def __init__(self) -> None:
        fast, slow = bt.ind.EMA(self.data0, period=5), bt.ind.EMA(self.data0, period=12)
        self.got = {
            "fast": fast,
            "slow": slow,
            "top": bt.Max(fast, slow),
            "bottom": bt.Min(fast, slow),
            "bullish": fast > slow,
            "volume_mean": bt.ind.SMA(self.data0.volume, period=20),
            "atr": bt.ind.ATR(self.data0, period=14),
        }
        mfast, mslow = bt.ind.EMA(self.data1, period=3), bt.ind.EMA(self.data1, period=7)
        self.macro = {
            "fast": mfast,
            "slow": mslow,
            "top": bt.Max(mfast, mslow),
            "bottom": bt.Min(mfast, mslow),
        }
        self.seen: list[tuple[float, ...]] = []

    def next(self) -> None:
        self.seen.append(tuple(line[0] for line in (*self.got.values(), *self.macro.values())))


class Fused(BuiltIns):
    def __init__(self) -> None:  # no super(): the built-ins are what this replaces
        cloud = ClockCloud(self.data0, fast_period=5, slow_period=12, volume_period=20, atr_period=14, keep=3)
        self.cloud = cloud
        self.got = {
            n: getattr(cloud, n) for n in ("fast", "slow", "top", "bottom", "bullish", "volume_mean", "atr")
        }
        macro = EmaCloudInd(self.data1, fast_period=3, slow_period=7)
        self.macro = {n: getattr(macro, n) for n in ("fast", "slow", "top", "bottom")}
        self.seen = []


def run(strategy: type[bt.Strategy], bars: pd.DataFrame, **kwargs: object) -> bt.Strategy:
    cerebro = bt.Cerebro(stdstats=False, **kwargs)
    data = bt.feeds.PandasData(dataname=bars, openinterest=None)
    cerebro.adddata(data)
    cerebro.resampledata(data, timeframe=bt.TimeFrame.Minutes, compression=10)
    cerebro.addstrategy(strategy)
    (strat,) = cerebro.run()
    return strat


def assert_bitwise(got: list[float], want: list[float], what: str) -> None:
    assert len(got) == len(want), what
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert (math.isnan(g) and math.isnan(w)) or (g == w and math.copysign(1, g) == math.copysign(1, w)), (
            f"{what} bar {i}: {g!r} != {w!r}"
        )


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return make_bars()


@pytest.mark.parametrize("runonce", [False, True], ids=["next", "runonce"])
def test_every_line_equals_backtraders_builtins_bit_for_bit(bars: pd.DataFrame, runonce: bool) -> None:
    old, new = run(BuiltIns, bars, runonce=runonce), run(Fused, bars, runonce=runonce)
    for name, line in old.got.items():
        assert_bitwise(list(new.got[name].array), list(line.array), name)
    for name, line in old.macro.items():
        assert_bitwise(list(new.macro[name].array), list(line.array), f"macro {name}")
    assert new._minperiods == old._minperiods == [20, 7]  # Backtrader starts next() on the same bar
    values = np.asarray(old.got["atr"].array)
    assert np.isnan(values[:14]).all() and np.isfinite(values[14:]).all()  # the fixture reaches the seeds
    assert np.isnan(np.asarray(old.got["volume_mean"].array)[400:449]).all()  # NaN volume reaches the mean


def test_bounded_lines_read_the_same_values_and_refuse_older_bars(bars: pd.DataFrame) -> None:
    full = run(Fused, bars, runonce=False)
    bounded = run(Fused, bars, runonce=False, exactbars=-1)
    assert len(bounded.seen) == len(full.seen) > 1000
    assert_bitwise([v for row in bounded.seen for v in row], [v for row in full.seen for v in row], "[0]")
    fast = bounded.cloud.fast
    assert isinstance(fast.array, RingBuffer) and len(fast.array) == 20  # the minimum period (keep=3 is less)
    assert len(full.cloud.fast.array) == len(bars)  # exactbars=0: every bar, for a chart
    assert fast[-19] == full.cloud.fast[-19]
    with pytest.raises(IndexError, match="ClockCloud: read before the last 20 bars"):
        fast[-20]
