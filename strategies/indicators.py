"""Thin Backtrader indicators over the pure signal code in ``options_scalper.signals``.

Each indicator translates lines to plain floats and delegates to the pure code;
line values agree with the pure functions bar for bar. A value the pure code
cannot give yet (not enough history, no volume) is NaN.

The shipped strategies' indicators are fused (``EmaCloudInd``, ``ClockCloud``): one
``next()`` per bar computes every line with plain-float state, equal bit for bit to
the Backtrader built-ins they replace (``bt.ind.EMA``, ``SMA``, ``ATR``, ``bt.Max`` /
``bt.Min``; ``tests/strategies/test_fused_indicators.py``), instead of a tree of line
indicators that Backtrader steps one by one (most of a backtest's time).

Lines are written through ``self.l`` and ``__init__`` takes ``*args, **kwargs`` only
so that mypy accepts Backtrader's metaclass-made attributes and call signatures.

Datetimes: Backtrader stores bar times as UTC; ``SessionVWAP`` converts each bar's
time to America/New_York to find its session.
"""

from __future__ import annotations

import collections
import math
from typing import Any, ClassVar

import backtrader as bt

from btcompat.linebuffers import bound_lines
from options_scalper.signals.base import SignalParameterError, session_date_et
from options_scalper.signals.ema_cloud import ATR_BARS, FAST_CLOUD_PERIODS, VOLUME_AVG_BARS
from options_scalper.signals.volume import VolumeSpikeTracker
from options_scalper.signals.vwap import SessionVwap

NAN = float("nan")


def _or_nan(value: float | None) -> float:
    return NAN if value is None else value


class _Smoothing:
    """Backtrader's ``ExponentialSmoothing`` (EMA, Wilder's SMMA) on plain floats, bit for bit.

    NaN for the first ``period - 1`` values, then ``math.fsum`` of the first ``period``
    values / ``period`` (``Average``'s seed), then ``prev * (1 - alpha) + x * alpha``.
    """

    __slots__ = ("alpha", "alpha1", "period", "seed", "value")

    def __init__(self, period: int, alpha: float) -> None:
        self.period = int(period)
        self.alpha = alpha
        self.alpha1 = 1.0 - alpha
        self.seed: list[float] | None = []
        self.value = NAN

    def update(self, x: float) -> float:
        seed = self.seed
        if seed is None:
            value = self.value = self.value * self.alpha1 + x * self.alpha
            return value
        seed.append(x)
        if len(seed) < self.period:
            return NAN
        self.seed = None
        value = self.value = math.fsum(seed) / self.period
        return value


def _ema(period: int) -> _Smoothing:
    return _Smoothing(period, 2.0 / (1.0 + period))  # bt.ind.EMA's alpha


class FusedIndicator(bt.Indicator):
    """One ``next()`` per bar of its data with plain-float state, instead of a tree of line indicators.

    ``next`` runs once per bar of the data: Backtrader also calls an indicator when another
    feed ticks, and then this bar is done already (its lines keep the values written; a
    bar does not change once delivered: true of the catalog feeds and of
    ``cerebro.resampledata``, not of ``replaydata``, which these indicators do not support).
    Memory: once Cerebro runs with ``exactbars`` (any value but 0: a run that is not
    plotted) the lines keep their last ``keep`` bars, at least the indicator's minimum
    period (``btcompat.linebuffers``); with ``exactbars=0`` they keep every bar for a chart.
    """

    params: Any = (("keep", 1),)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._seen = 0

    def qbuffer(self, savemem: int = 0) -> None:  # Cerebro's memory-saving call (exactbars != 0)
        super().qbuffer(savemem=0)  # the datas keep this indicator's minimum period
        bound_lines(self.lines, max(1, int(self.p.keep)), type(self).__name__)

    def prenext(self) -> None:
        self.next()

    def nextstart(self) -> None:
        self.next()

    def next(self) -> None:
        n = len(self.data)
        if n != self._seen:
            self._seen = n
            self.step()

    def step(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class EmaCloudInd(FusedIndicator):
    """EMA cloud: ``fast`` / ``slow`` EMAs, ``top`` / ``bottom`` edges, ``bullish`` (1.0 when fast > slow).

    Defaults are the 1-minute fast cloud (5/12); use ``fast_period=34, slow_period=50``
    on the 10-minute resampled data for the macro cloud. Values equal, bit for bit,
    ``bt.ind.EMA`` of the closes and ``bt.Max`` / ``bt.Min`` / ``>`` of the two EMAs.
    """

    lines: Any = ("fast", "slow", "top", "bottom", "bullish")
    params = (("fast_period", FAST_CLOUD_PERIODS[0]), ("slow_period", FAST_CLOUD_PERIODS[1]))
    plotinfo: ClassVar[dict[str, Any]] = {"subplot": False}
    plotlines: ClassVar[dict[str, Any]] = {"bullish": {"_plotskip": True}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        if self.p.fast_period >= self.p.slow_period:
            raise SignalParameterError(
                f"{type(self).__name__}: fast_period ({self.p.fast_period}) must be shorter than "
                f"slow_period ({self.p.slow_period})"
            )
        self._fast, self._slow = _ema(self.p.fast_period), _ema(self.p.slow_period)
        self.addminperiod(self.min_bars())

    def min_bars(self) -> int:
        return int(self.p.slow_period)

    def step(self) -> None:
        close = self.data.close[0]
        fast, slow = self._fast.update(close), self._slow.update(close)
        ln: Any = self.lines
        ln.fast[0], ln.slow[0] = fast, slow
        if slow == slow:  # the slow EMA is seeded, so is the fast one (fast_period < slow_period)
            ln.top[0], ln.bottom[0], ln.bullish[0] = max(fast, slow), min(fast, slow), float(fast > slow)


class ClockCloud(EmaCloudInd):
    """``EmaCloudInd`` plus what a strategy reads of the same 1-minute bars, in the same ``next()``.

    ``volume_mean`` equals ``bt.ind.SMA(data.volume, period=volume_period)`` (``math.fsum``
    of the window) and ``atr`` equals ``bt.ind.ATR(data, period=atr_period)`` (Wilder's
    smoothing of max(high, prev close) - min(low, prev close)), bit for bit; the minimum
    period is the largest of the three, as Backtrader computes it for the separate indicators.
    """

    lines: Any = ("volume_mean", "atr")  # after EmaCloudInd's
    params = (("volume_period", VOLUME_AVG_BARS), ("atr_period", ATR_BARS))
    plotlines: ClassVar[dict[str, Any]] = {
        "bullish": {"_plotskip": True},
        "volume_mean": {"_plotskip": True},
        "atr": {"_plotskip": True},
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for name in ("volume_period", "atr_period"):
            if int(getattr(self.p, name)) < 1:
                raise SignalParameterError(
                    f"ClockCloud: {name} must be >= 1 bar, got {getattr(self.p, name)!r}"
                )
        self._volumes: collections.deque[float] = collections.deque(maxlen=int(self.p.volume_period))
        self._atr = _Smoothing(self.p.atr_period, 1.0 / self.p.atr_period)  # bt's SMMA alpha
        self._prev_close = NAN
        self._first = True
        super().__init__(*args, **kwargs)

    def min_bars(self) -> int:
        return max(int(self.p.slow_period), int(self.p.volume_period), int(self.p.atr_period) + 1)

    def step(self) -> None:
        super().step()
        d, ln = self.data, self.lines
        volumes = self._volumes
        volumes.append(d.volume[0])
        if len(volumes) == volumes.maxlen:
            ln.volume_mean[0] = math.fsum(volumes) / volumes.maxlen
        close = d.close[0]
        if self._first:
            self._first = False
        else:
            prev = self._prev_close
            ln.atr[0] = self._atr.update(max(d.high[0], prev) - min(d.low[0], prev))
        self._prev_close = close


class VolumeRatio(bt.Indicator):
    """``ratio`` = bar volume / mean volume of the ``period`` bars before it (NaN without a baseline)."""

    lines = ("ratio",)
    params = (("period", VOLUME_AVG_BARS),)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._tracker = VolumeSpikeTracker(self.p.period)
        self.addminperiod(self.p.period + 1)

    def prenext(self) -> None:
        self._tracker.update(float(self.data.volume[0]))

    def next(self) -> None:
        self.l.ratio[0] = _or_nan(self._tracker.update(float(self.data.volume[0])))


class SessionVWAP(bt.Indicator):
    """Session VWAP of typical price with real volume, and ``band_std`` sigma bands; resets each ET date."""

    lines = ("vwap", "upper", "lower")
    params = (("band_std", 1.0),)
    plotinfo: ClassVar[dict[str, Any]] = {"subplot": False}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._vwap = SessionVwap(self.p.band_std)

    def next(self) -> None:
        session = session_date_et(bt.num2date(self.data.datetime[0]))
        d = self.data
        r = self._vwap.update(
            float(d.high[0]), float(d.low[0]), float(d.close[0]), float(d.volume[0]), session
        )
        if r is None:
            self.l.vwap[0] = self.l.upper[0] = self.l.lower[0] = NAN
        else:
            self.l.vwap[0], self.l.upper[0], self.l.lower[0] = r.vwap, r.upper, r.lower


class Velocity(bt.Indicator):
    """``change_pct`` = close / close ``period`` bars ago - 1, a fraction (``signals.velocity.velocity``).

    It runs across sessions; ``MomentumSignalEngine`` instead restarts its
    velocity each session so that the overnight gap never reads as a burst.
    """

    lines = ("change_pct",)
    params = (("period", 1),)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.p.period < 1:
            raise SignalParameterError(f"Velocity: period must be >= 1 bar, got {self.p.period!r}")
        self.l.change_pct = self.data / self.data(-self.p.period) - 1.0
