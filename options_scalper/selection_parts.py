"""The selector's small parts: the candidate funnel for messages, the where-label, array helpers.

``_quote_spot`` prices each candidate quote with the underlying of its own minute.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from options_scalper.model import ChainSnapshot, FloatArray, IntArray


class _Funnel:
    """Counts of candidates after each stage, for rejection messages."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, int]] = []

    def add(self, label: str, count: int) -> None:
        self.steps.append((label, count))

    def text(self) -> str:
        return " -> ".join(f"{count} {label}" for label, count in self.steps)


class _Where:
    """``"<underlying> <YYYY-mm-dd HH:MM> ET"``, formatted only when a message uses it."""

    __slots__ = ("now_et", "underlying")

    def __init__(self, underlying: str, now_et: datetime) -> None:
        self.underlying = underlying
        self.now_et = now_et

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __str__(self) -> str:
        return f"{self.underlying} {self.now_et:%Y-%m-%d %H:%M} ET"


def _band_z(delta_min: float, delta_max: float) -> float:
    """Largest |standard-normal quantile| of the delta range (how many sigmas from ATM)."""
    from statistics import NormalDist

    nd = NormalDist()
    lo = min(max(delta_min, 1e-6), 1 - 1e-6)
    hi = min(max(delta_max, 1e-6), 1 - 1e-6)
    return max(abs(nd.inv_cdf(lo)), abs(nd.inv_cdf(hi)))


_F64_MAX = float(np.finfo(np.float64).max)


def _clip01(values: FloatArray) -> FloatArray:
    return np.minimum(np.maximum(values, 0.0), 1.0)  # np.clip(values, 0.0, 1.0), NaN kept


def _known_int(value: float, known: bool) -> int | None:
    if not known or not np.isfinite(value):
        return None
    return int(value)


def _quote_spot(snapshot: ChainSnapshot, idx: IntArray, spot: float) -> float | FloatArray:
    """The underlying of each candidate quote's own minute (``spot`` when every quote is fresh).

    A quote carried forward ``age`` minutes was made against the underlying of that
    minute; pricing it with the current one would misjudge its IV and delta.
    """
    by_age = snapshot.underlying_by_age
    if by_age is None or by_age.shape[0] < 2:
        return spot
    age = snapshot.quote_age_min[idx]
    if not np.any(age > 0):
        return spot
    k = np.clip(np.nan_to_num(age, nan=0.0), 0, by_age.shape[0] - 1).astype(np.int64)
    out = by_age[k]
    return np.where(np.isfinite(out) & (out > 0), out, spot)
