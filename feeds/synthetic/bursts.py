"""Momentum bursts: a short high-volume impulse, then an uncertain aftermath, then a fade.

A burst is drawn once per burst and laid onto the session as extra log returns
(``burst_returns``) and extra volume (``burst_volume_boost``):

impulse
    ``minutes`` (1-3) bars moving ``move_pct`` in total, front-loaded (the first
    bar carries the most), on 2.5-4x volume.
aftermath
    the next ``after_minutes`` (1-3) bars: the move ``continue``s, ``stall``s or
    ``reverse``s (probabilities ``SymbolSpec.burst_outcome_p``) by ``after_pct``;
    the average aftermath drift is small, so buying the bar after a burst is a
    coin toss, not free money. Volume stays elevated.
fade
    a random share (``SymbolSpec.burst_fade_pct``) of the net move then drifts
    back over 30-60 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from feeds.synthetic.spec import SymbolSpec

BURST_OUTCOMES: tuple[str, ...] = ("continue", "stall", "reverse")
_MIN_GAP_MINUTES = 15  # between burst starts
_STALL_SD = 0.06  # aftermath move of a stall: N(0, _STALL_SD) x move


@dataclass(frozen=True, eq=False)
class Burst:
    """A momentum burst starting at minute ``start``; moves are signed fractions of the price.

    ``move_pct`` over ``minutes`` impulse bars, then ``after_pct`` over ``after_minutes``
    aftermath bars (``outcome`` says which way), then ``-fade_pct`` over ``fade_minutes``.
    """

    start: int
    minutes: int
    move_pct: float
    outcome: str = "stall"
    after_minutes: int = 1
    after_pct: float = 0.0
    fade_minutes: int = 30
    fade_pct: float = 0.0

    @property
    def end(self) -> int:
        """First minute after the impulse."""
        return self.start + self.minutes


def place_bursts(spec: SymbolSpec, n: int, rng: np.random.Generator) -> tuple[Burst, ...]:
    """Draw the session's bursts: starts at least 15 minutes apart, away from the open and close."""
    lo, hi = spec.bursts_per_day
    count = int(rng.integers(lo, hi + 1))
    earliest, latest = 12, n - 45
    if count == 0 or latest <= earliest:
        return ()
    slots: list[int] = []
    for _ in range(50 * count):
        start = int(rng.integers(earliest, latest))
        if all(abs(start - s) >= _MIN_GAP_MINUTES for s in slots):
            slots.append(start)
        if len(slots) == count:
            break
    return tuple(_draw_burst(spec, start, rng) for start in sorted(slots))


def _draw_burst(spec: SymbolSpec, start: int, rng: np.random.Generator) -> Burst:
    minutes = int(rng.integers(1, 4))
    move = float(rng.uniform(*spec.burst_move_pct)) * (1.0 if rng.random() < 0.5 else -1.0)
    outcome = BURST_OUTCOMES[int(rng.choice(len(BURST_OUTCOMES), p=spec.burst_outcome_p))]
    after_minutes = int(rng.integers(1, 4))
    share = float(rng.uniform(*spec.burst_aftermath_pct))
    if outcome == "continue":
        after = share * move
    elif outcome == "reverse":
        after = -share * move
    else:
        after = float(rng.normal(0.0, _STALL_SD)) * move
    fade = float(rng.uniform(*spec.burst_fade_pct)) * (move + after)
    return Burst(start, minutes, move, outcome, after_minutes, after, int(rng.integers(30, 61)), fade)


def _front_loaded(k: int, rng: np.random.Generator) -> np.ndarray:
    w = 0.5 ** np.arange(k) * rng.uniform(0.7, 1.3, k)
    return np.asarray(w / w.sum())


def burst_returns(bursts: tuple[Burst, ...], n: int, rng: np.random.Generator) -> np.ndarray:
    """Extra log return per minute from ``bursts`` (impulse, aftermath, fade)."""
    out = np.zeros(n)
    for b in bursts:
        end = min(n, b.end)
        out[b.start : end] += b.move_pct * _front_loaded(end - b.start, rng)
        after_end = min(n, end + b.after_minutes)
        if after_end > end:
            out[end:after_end] += b.after_pct * _front_loaded(after_end - end, rng)
        fade_end = min(n, after_end + b.fade_minutes)
        if fade_end > after_end:
            out[after_end:fade_end] -= b.fade_pct / (fade_end - after_end)
    return out


def burst_volume_boost(bursts: tuple[Burst, ...], n: int, rng: np.random.Generator) -> np.ndarray:
    """Volume multiplier per minute: a spike on the impulse, elevated volume in the aftermath."""
    boost = np.ones(n)
    for b in bursts:
        end = min(n, b.end)
        boost[b.start : end] += rng.uniform(2.0, 3.5)
        after_end = min(n, end + b.after_minutes)
        if after_end > end:
            boost[end:after_end] += rng.uniform(0.5, 1.5) * 0.7 ** np.arange(after_end - end)
        if b.start > 0:
            boost[b.start - 1] += 0.3
    return boost
