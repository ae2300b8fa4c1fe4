"""One session of an underlying's 1-minute bars: GARCH-like volatility, trend / chop /
normal days, momentum bursts, and volume that follows the time of day, the volatility
regime and the size of each minute's move."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from feeds.synthetic.bursts import Burst, burst_returns, burst_volume_boost, place_bursts
from feeds.synthetic.spec import SymbolSpec

__all__ = ["DAY_KINDS", "Burst", "UnderlyingDay", "minute_volume", "overnight_open", "simulate_underlying"]

DAY_KINDS: tuple[str, ...] = ("trend_up", "trend_down", "chop", "normal")
_DAY_KIND_P = (0.22, 0.22, 0.26, 0.30)
_MOVE_CAP = 4.0  # |return| / sigma beyond which volume stops growing with the move


@dataclass(frozen=True, eq=False)
class UnderlyingDay:
    """A simulated session. Arrays have one entry per regular-session minute.

    ``bar_start_ns`` is the START of each minute (DataBento ``ohlcv-1m`` ``ts_event``);
    ``close`` is the true price at the END of that minute. ``has_bar`` is False for the
    rare minute without trades (no bar is printed; the price still exists).
    ``iv_mult`` scales the chain's implied volatility minute by minute.
    """

    bar_start_ns: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    has_bar: np.ndarray
    iv_mult: np.ndarray
    day_kind: str
    bursts: tuple[Burst, ...]


def _u_shape(n: int, head: float, tail: float, head_len: float, tail_len: float) -> np.ndarray:
    t = np.arange(n, dtype=np.float64)
    return 1.0 + head * np.exp(-t / head_len) + tail * np.exp(-(n - 1 - t) / tail_len)


def minute_volume(
    spec: SymbolSpec,
    abs_move: np.ndarray,
    regime: np.ndarray,
    boost: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Shares per minute: U-shaped baseline x regime x lognormal noise x f(move) x ``boost``.

    ``abs_move`` is each minute's |log return| over the minute's usual sigma (time of
    day included); ``regime`` the volatility regime (1 = usual), raised to
    ``spec.volume_regime_coupling``. f = 1 + ``volume_move_coupling`` x
    min(abs_move, 4) ** ``volume_move_power``, so large candles trade more; f is
    scaled to average 1 over the session, so ``spec.bar_volume`` stays the mean.
    """
    n = int(abs_move.shape[0])
    profile = _u_shape(n, 2.2, 1.6, 18.0, 20.0)
    profile /= float(np.mean(profile))
    shape = 1.0 + spec.volume_move_coupling * np.minimum(abs_move, _MOVE_CAP) ** spec.volume_move_power
    shape /= float(np.mean(shape))
    sd = spec.volume_noise_sd
    noise = np.exp(rng.normal(-0.5 * sd * sd, sd, n))
    regime_factor = np.power(regime, spec.volume_regime_coupling)
    volume = spec.bar_volume * profile * regime_factor * noise * shape * boost
    return np.asarray(np.maximum(np.round(volume), 1).astype(np.int64))


def simulate_underlying(
    spec: SymbolSpec, bar_start_ns: np.ndarray, open_price: float, rng: np.random.Generator
) -> UnderlyingDay:
    """Simulate one session's minute bars starting at ``open_price`` (dollars)."""
    n = int(bar_start_ns.shape[0])
    day_kind = DAY_KINDS[int(rng.choice(len(DAY_KINDS), p=_DAY_KIND_P))]
    vol_mult = float(np.clip(np.exp(rng.normal(0.0, 0.2)), 0.7, 1.4))
    # Realised volatility runs below implied (the variance risk premium).
    sigma_min = 0.85 * spec.annual_vol * vol_mult / math.sqrt(252 * 390)
    vol_profile = _u_shape(n, 1.1, 0.5, 25.0, 30.0)
    vol_profile /= math.sqrt(float(np.mean(vol_profile**2)))

    # GARCH(1,1) on unit variance with Student-t(5) shocks scaled to unit variance.
    alpha, beta = 0.08, 0.88
    omega = 1.0 - alpha - beta
    shocks = rng.standard_t(5, size=n) / math.sqrt(5.0 / 3.0)
    drift_total = {"trend_up": 1.0, "trend_down": -1.0}.get(day_kind, 0.0)
    drift_total *= float(rng.uniform(0.8, 1.6)) * sigma_min * math.sqrt(n)
    drift = np.full(n, drift_total / n)
    kappa = 0.04 if day_kind == "chop" else 0.0

    bursts = place_bursts(spec, n, rng)
    burst_ret = burst_returns(bursts, n, rng)

    log_p = math.log(open_price)
    log_open = log_p
    h = 1.0
    eps_prev = 0.0
    log_close = np.empty(n)
    scaled = np.empty(n)
    cond_sd = np.empty(n)
    for t in range(n):
        h = omega + alpha * eps_prev * eps_prev + beta * h
        eps = math.sqrt(h) * shocks[t]
        eps_prev = eps
        scaled[t] = abs(eps)
        cond_sd[t] = math.sqrt(h)
        ret = sigma_min * vol_profile[t] * eps + drift[t] + burst_ret[t] - kappa * (log_p - log_open)
        log_p += ret
        log_close[t] = log_p

    close = np.round(np.exp(log_close), 2)
    opens = np.empty(n)
    opens[0] = round(open_price, 2)
    opens[1:] = close[:-1]
    wiggle = sigma_min * vol_profile * (0.4 + 0.6 * scaled) * close
    high = np.round(np.maximum(opens, close) + np.abs(rng.normal(0.0, 1.0, n)) * wiggle * 0.5, 2)
    low = np.round(np.minimum(opens, close) - np.abs(rng.normal(0.0, 1.0, n)) * wiggle * 0.5, 2)

    returns = np.diff(log_close, prepend=log_open)
    abs_move = np.abs(returns) / (sigma_min * vol_profile)
    regime = vol_mult * cond_sd
    volume = minute_volume(spec, abs_move, regime, burst_volume_boost(bursts, n, rng), rng)

    has_bar = rng.random(n) >= spec.skip_minute_prob
    has_bar[0] = has_bar[-1] = True
    for b in bursts:
        has_bar[b.start : b.end] = True

    # Implied volatility follows realised volatility and rises as the price falls.
    move = log_close - log_open
    iv_mult = math.sqrt(vol_mult) * np.clip(1.0 - 2.5 * move, 0.7, 1.6)
    return UnderlyingDay(
        bar_start_ns=bar_start_ns,
        open=opens,
        high=high,
        low=low,
        close=close,
        volume=volume,
        has_bar=has_bar,
        iv_mult=iv_mult,
        day_kind=day_kind,
        bursts=bursts,
    )


def overnight_open(prev_close: float, spec: SymbolSpec, rng: np.random.Generator) -> float:
    """Return the next session's opening price after an overnight gap."""
    gap = rng.normal(0.0, 0.35 * spec.annual_vol / math.sqrt(252))
    return round(prev_close * math.exp(gap), 2)
