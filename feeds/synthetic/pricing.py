"""Vectorised option quotes: Black-Scholes on a skewed IV surface, tick rules, spreads, sizes.

Prices come out as integer cents; every function works on whole arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from feeds.synthetic.spec import SymbolSpec

FloatA = np.ndarray


def bs_price(
    spot: FloatA,
    strike: FloatA,
    years: FloatA,
    vol: FloatA,
    rate: float,
    div_yield: float,
    is_call: np.ndarray,
) -> FloatA:
    """Return Black-Scholes-Merton premiums (dollars) for arrays that broadcast together."""
    sqrt_t = np.sqrt(years)
    d1 = (np.log(spot / strike) + (rate - div_yield + 0.5 * vol * vol) * years) / (vol * sqrt_t)
    d2 = d1 - vol * sqrt_t
    disc_s = spot * np.exp(-div_yield * years)
    disc_k = strike * np.exp(-rate * years)
    call = disc_s * ndtr(d1) - disc_k * ndtr(d2)
    put = disc_k * ndtr(-d2) - disc_s * ndtr(-d1)
    return np.where(is_call, call, put)


def atm_vol(spec: SymbolSpec, years: FloatA) -> FloatA:
    """ATM implied volatility by time to expiry: a short-dated premium decaying over ~10 days."""
    return spec.annual_vol * (1.0 + spec.term_premium * np.exp(-years * 365.0 / 10.0))


def surface_vol(
    spec: SymbolSpec, spot: FloatA, strike: FloatA, years: FloatA, atm: FloatA
) -> tuple[FloatA, FloatA]:
    """Return (IV, standardised moneyness z = ln(K/S) / (atm * sqrt(T))) with skew and smile."""
    z = np.clip(np.log(strike / spot) / (atm * np.sqrt(years)), -6.0, 6.0)
    vol = atm * (1.0 - spec.skew * 0.08 * z + spec.smile * 0.01 * z * z)
    return np.clip(vol, 0.03, 4.0), z


def tick_floor_cents(raw: FloatA, penny_all: bool) -> np.ndarray:
    """Round a bid down to its tick: pennies under $3, nickels at/above $3 unless ``penny_all``."""
    cents = np.floor(raw * 100.0 + 1e-6)
    if not penny_all:
        cents = np.where(cents >= 300, np.floor(cents / 5.0 + 1e-9) * 5.0, cents)
    return np.maximum(cents, 0).astype(np.int64)


def tick_ceil_cents(raw: FloatA, penny_all: bool) -> np.ndarray:
    """Round an ask up to its tick (same rule as ``tick_floor_cents``), at least one cent."""
    cents = np.ceil(raw * 100.0 - 1e-6)
    if not penny_all:
        cents = np.where(cents >= 300, np.ceil(cents / 5.0 - 1e-9) * 5.0, cents)
    return np.maximum(cents, 1).astype(np.int64)


def tick_cents(cents: np.ndarray, penny_all: bool) -> np.ndarray:
    """Return the tick (cents) that applies at a price in cents."""
    if penny_all:
        return np.ones_like(cents)
    return np.where(cents >= 300, 5, 1)


@dataclass(frozen=True, eq=False)
class QuoteBlock:
    """Quotes for a block of minutes x contracts: cents, contracts and a 0-1 liquidity score."""

    bid_c: np.ndarray
    ask_c: np.ndarray
    bid_sz: np.ndarray
    ask_sz: np.ndarray
    liquidity: np.ndarray
    theo: np.ndarray


def quote_block(
    spec: SymbolSpec,
    spot: FloatA,  # (B, 1)
    iv_mult: FloatA,  # (B, 1)
    years: FloatA,  # (B, K)
    strike: FloatA,  # (1, K)
    is_call: np.ndarray,  # (1, K)
    session_frac: FloatA,  # (B, 1): 0 at the open, 1 at the close
    rng: np.random.Generator,
) -> QuoteBlock:
    """Price and quote a block: theo from the surface, spread by moneyness/premium/time, ticks, sizes."""
    atm = atm_vol(spec, years) * iv_mult
    vol, z = surface_vol(spec, spot, strike, years, atm)
    theo = bs_price(spot, strike, years, vol, spec.rate, spec.dividend_yield, is_call)
    intrinsic = np.where(is_call, spot - strike, strike - spot)
    theo = np.maximum(theo, np.maximum(intrinsic, 0.0))  # American: never below intrinsic

    abs_z = np.abs(z)
    otm = np.where(is_call, strike > spot, strike < spot)
    otm_widen = 1.0 + 0.25 * np.clip(abs_z - 0.5, 0.0, 5.0) * otm + 0.1 * np.clip(abs_z - 1.0, 0.0, 5.0)
    clock_widen = 1.0 + 0.5 * np.exp(-session_frac * 40.0) + 0.8 * np.exp(-(1.0 - session_frac) * 25.0)
    spread = (0.01 + spec.spread_frac * theo) * otm_widen * clock_widen
    # Cheap contracts: at least two ticks wide once the premium is a few dimes or less.
    spread = np.maximum(spread, np.where(theo < 0.5, 0.02, 0.01))
    bid_c = tick_floor_cents(theo - spread / 2.0, spec.penny_all)
    ask_c = tick_ceil_cents(theo + spread / 2.0, spec.penny_all)
    ask_c = np.maximum(ask_c, bid_c + tick_cents(bid_c, spec.penny_all))

    dte_liq = 1.0 / (1.0 + years * 365.0 / 7.0)
    liquidity = np.exp(-0.5 * (z / 2.0) ** 2) * (0.35 + 0.65 * dte_liq)
    base = spec.base_size * (0.08 + liquidity)
    shape = bid_c.shape
    bid_sz = np.maximum(1, np.round(base * rng.lognormal(0.0, 0.6, shape))).astype(np.int64)
    ask_sz = np.maximum(1, np.round(base * rng.lognormal(0.0, 0.6, shape))).astype(np.int64)
    bid_sz = np.where(bid_c == 0, 0, bid_sz)
    return QuoteBlock(bid_c, ask_c, bid_sz, ask_sz, liquidity, theo)
