"""Session VWAP with volume-weighted standard-deviation bands (seed 003, section 2.3, fixed).

Per bar the price is the typical price p = (high + low + close) / 3, weighted by
the bar's real volume v. Over the session so far::

    vwap    = sum(v * p) / sum(v)
    sigma^2 = sum(v * (p - vwap)^2) / sum(v) = sum(v * p^2) / sum(v) - vwap^2
    upper   = vwap + band_std * sigma,  lower = vwap - band_std * sigma

computed with a numerically stable weighted (West) update. Bars with zero or
unknown (NaN) volume do not move it. The state resets on ``reset()`` or when
``update`` sees a new ``session_date``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from options_scalper.signals.base import SignalParameterError, require_non_negative


@dataclass(frozen=True)
class VwapReading:
    """Session VWAP and its bands in dollars; ``sigma`` is the weighted std of typical price."""

    vwap: float
    upper: float
    lower: float
    sigma: float
    session_volume: float


class SessionVwap:
    """Incremental session VWAP; ``update`` returns None until the session has volume."""

    def __init__(self, band_std: float = 1.0) -> None:
        self.band_std = require_non_negative("band_std", band_std)
        self.session_date: date | None = None
        self.reset()

    def reset(self) -> None:
        self._weight = 0.0
        self._mean = 0.0
        self._m2 = 0.0  # sum(v * (p - mean)^2)
        self.last: VwapReading | None = None

    def update(
        self, high: float, low: float, close: float, volume: float, session_date: date | None = None
    ) -> VwapReading | None:
        if session_date is not None and session_date != self.session_date:
            self.reset()
            self.session_date = session_date
        if math.isnan(volume) or volume == 0:
            return self.last
        if volume < 0:
            raise SignalParameterError(f"volume must be >= 0, got {volume!r}")
        price = (high + low + close) / 3.0
        self._weight += volume
        delta = price - self._mean
        self._mean += delta * (volume / self._weight)
        self._m2 += volume * delta * (price - self._mean)
        sigma = math.sqrt(max(0.0, self._m2 / self._weight))
        self.last = VwapReading(
            vwap=self._mean,
            upper=self._mean + self.band_std * sigma,
            lower=self._mean - self.band_std * sigma,
            sigma=sigma,
            session_volume=self._weight,
        )
        return self.last
