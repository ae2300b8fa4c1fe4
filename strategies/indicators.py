"""Thin Backtrader indicators over the pure signal code in ``options_scalper.signals``.

Each indicator translates lines to plain floats and delegates to the pure code
(or, for EMAs and the plain velocity ratio, uses the Backtrader built-in that
computes the same formula); line values agree with the pure functions bar for
bar. A value the pure code cannot give yet (not enough history, no volume) is NaN.

Lines are written through ``self.l`` and ``__init__`` takes ``*args, **kwargs`` only
so that mypy accepts Backtrader's metaclass-made attributes and call signatures.

Datetimes: Backtrader stores bar times as UTC; ``SessionVWAP`` converts each bar's
time to America/New_York to find its session.
"""

from __future__ import annotations

from typing import Any, ClassVar

import backtrader as bt

from options_scalper.signals.base import SignalParameterError, session_date_et
from options_scalper.signals.ema_cloud import FAST_CLOUD_PERIODS, VOLUME_AVG_BARS
from options_scalper.signals.volume import VolumeSpikeTracker
from options_scalper.signals.vwap import SessionVwap

NAN = float("nan")


def _or_nan(value: float | None) -> float:
    return NAN if value is None else value


class EmaCloudInd(bt.Indicator):
    """EMA cloud: ``fast`` / ``slow`` EMAs, ``top`` / ``bottom`` edges, ``bullish`` (1.0 when fast > slow).

    Defaults are the 1-minute fast cloud (5/12); use ``fast_period=34, slow_period=50``
    on the 10-minute resampled data for the macro cloud.
    """

    lines = ("fast", "slow", "top", "bottom", "bullish")
    params = (("fast_period", FAST_CLOUD_PERIODS[0]), ("slow_period", FAST_CLOUD_PERIODS[1]))
    plotinfo: ClassVar[dict[str, Any]] = {"subplot": False}
    plotlines: ClassVar[dict[str, Any]] = {"bullish": {"_plotskip": True}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.p.fast_period >= self.p.slow_period:
            raise SignalParameterError(
                f"EmaCloudInd: fast_period ({self.p.fast_period}) must be shorter than "
                f"slow_period ({self.p.slow_period})"
            )
        fast = bt.ind.EMA(self.data, period=self.p.fast_period)
        slow = bt.ind.EMA(self.data, period=self.p.slow_period)
        self.l.fast = fast
        self.l.slow = slow
        self.l.top = bt.Max(fast, slow)
        self.l.bottom = bt.Min(fast, slow)
        self.l.bullish = fast > slow


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
