"""BSM greeks pinned to Hull, IV round trips, 0DTE last hour, cross-check against vollib."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from vollib.black_scholes_merton import black_scholes_merton as vollib_price
from vollib.black_scholes_merton.greeks import analytical as vollib_greeks
from vollib.black_scholes_merton.implied_volatility import implied_volatility as vollib_iv

from options_scalper.greeks import (
    MIN_T_YEARS,
    bs_greeks,
    bs_price,
    implied_vol,
    iv_and_greeks,
    time_to_expiry_years,
)

ET = ZoneInfo("America/New_York")
MINUTE = 1.0 / (365 * 24 * 60)

# Hull, Options Futures and Other Derivatives, example 19.x: S=49, K=50, r=5%, sigma=20%, T=20 weeks
HULL = {"S": 49.0, "K": 50.0, "t": 0.3846, "r": 0.05, "q": 0.0, "sigma": 0.20}


def et(y, m, d, hh, mm):
    return datetime(y, m, d, hh, mm, tzinfo=ET).astimezone(UTC)


def test_hull_call_price_and_greeks():
    g = bs_greeks(HULL["S"], HULL["K"], HULL["t"], HULL["r"], HULL["q"], HULL["sigma"], True)
    assert float(g.price) == pytest.approx(2.40, abs=0.005)
    assert float(g.delta) == pytest.approx(0.522, abs=0.0005)
    assert float(g.gamma) == pytest.approx(0.066, abs=0.0005)
    assert float(g.vega_per_vol_point) * 100 == pytest.approx(12.1, abs=0.05)  # Hull quotes per 100% vol
    assert float(g.theta_per_day) * 365 == pytest.approx(-4.31, abs=0.01)  # Hull's -4.31 per year
    assert float(g.theta_per_day) == pytest.approx(-0.0118, abs=0.00005)


def test_put_call_parity_and_put_delta():
    s, k, t, r, q, sig = HULL.values()
    call = bs_greeks(s, k, t, r, q, sig, True)
    put = bs_greeks(s, k, t, r, q, sig, False)
    assert float(call.price - put.price) == pytest.approx(s - k * np.exp(-r * t), abs=1e-10)
    assert float(call.delta - put.delta) == pytest.approx(1.0, abs=1e-12)
    assert float(call.gamma) == pytest.approx(float(put.gamma))
    assert float(put.theta_per_day) < 0


def test_greeks_match_vollib_with_dividend_yield():
    rng = np.random.default_rng(7)
    n = 40
    s = rng.uniform(80, 120, n)
    k = rng.uniform(80, 120, n)
    t = rng.uniform(5 * MINUTE, 0.5, n)
    sig = rng.uniform(0.1, 1.2, n)
    call = rng.random(n) < 0.5
    g = bs_greeks(s, k, t, 0.04, 0.015, sig, call)
    for i in range(n):
        flag = "c" if call[i] else "p"
        args = (flag, s[i], k[i], t[i], 0.04, sig[i], 0.015)
        assert g.price[i] == pytest.approx(vollib_price(*args), abs=1e-9)
        assert g.delta[i] == pytest.approx(vollib_greeks.delta(*args), abs=1e-9)
        assert g.gamma[i] == pytest.approx(vollib_greeks.gamma(*args), rel=1e-7)
        assert g.theta_per_day[i] == pytest.approx(vollib_greeks.theta(*args), rel=1e-7)
        assert g.vega_per_vol_point[i] == pytest.approx(vollib_greeks.vega(*args), rel=1e-7)


def test_implied_vol_round_trip_and_matches_vollib():
    rng = np.random.default_rng(11)
    n = 60
    s = np.full(n, 500.0)
    k = rng.uniform(490, 510, n)
    t = rng.uniform(30 * MINUTE, 2 / 365, n)
    sig = rng.uniform(0.08, 1.5, n)
    call = rng.random(n) < 0.5
    price = bs_price(s, k, t, 0.05, 0.0, sig, call)
    intrinsic = np.where(call, np.maximum(s - k, 0), np.maximum(k - s, 0))
    usable = (price >= 0.01) & (price - intrinsic > 0.005)
    iv = implied_vol(price, s, k, t, 0.05, 0.0, call)
    assert usable.sum() > 30
    np.testing.assert_allclose(iv[usable], sig[usable], rtol=1e-6)
    for i in np.flatnonzero(usable)[:10]:
        ref = vollib_iv(price[i], s[i], k[i], t[i], 0.05, 0.0, "c" if call[i] else "p")
        assert iv[i] == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize(
    ("price", "is_call"),
    [
        (0.5, True),  # call worth 1.00 intrinsic quoted at 0.50
        (0.0, True),  # zero premium
        (-0.1, False),  # negative premium
        (101.0, True),  # a call worth more than the stock
        (np.nan, True),
    ],
)
def test_implied_vol_nan_on_impossible_premium(price, is_call):
    assert np.isnan(implied_vol(price, 101.0 if is_call else 99.0, 100.0, 0.01, 0.0, 0.0, is_call))


def test_implied_vol_nan_on_put_below_discounted_intrinsic():
    # K e^-rt - S = 100 * e^-0.05 - 90 = 5.12; a put at 5.00 is below it
    assert np.isnan(implied_vol(5.0, 90.0, 100.0, 1.0, 0.05, 0.0, False))


def test_implied_vol_vectorized_mixed_good_and_bad():
    iv = implied_vol(np.array([2.40, 0.0, 1.5]), 49.0, 50.0, 0.3846, 0.05, 0.0, np.array([True, True, False]))
    assert iv[0] == pytest.approx(0.20, abs=1e-3) and np.isnan(iv[1]) and np.isfinite(iv[2])


def test_time_to_expiry_fractional_years_of_365_days():
    now = et(2024, 1, 10, 15, 0)
    assert time_to_expiry_years(now, date(2024, 1, 10)) == pytest.approx(60 * MINUTE)
    assert time_to_expiry_years(now, date(2024, 1, 11)) == pytest.approx((25 * 60) * MINUTE)
    # half day: 2024-11-29 expires at 13:00 ET
    assert time_to_expiry_years(et(2024, 11, 29, 12, 0), date(2024, 11, 29)) == pytest.approx(60 * MINUTE)


def test_time_to_expiry_floored_at_one_minute_after_close():
    assert time_to_expiry_years(
        et(
            2024,
            1,
            10,
            15,
            59,
        ),
        date(2024, 1, 10),
    ) == pytest.approx(MINUTE)
    assert time_to_expiry_years(et(2024, 1, 10, 16, 0), date(2024, 1, 10)) == MIN_T_YEARS
    assert time_to_expiry_years(et(2024, 1, 10, 17, 30), date(2024, 1, 10)) == MIN_T_YEARS


def test_time_to_expiry_vectorized_over_expiry_array():
    expiries = np.array(["2024-01-10", "2024-01-11", "2024-01-10", "2024-01-12"], dtype="datetime64[D]")
    t = time_to_expiry_years(et(2024, 1, 10, 15, 0), expiries)
    np.testing.assert_allclose(t / MINUTE, [60, 25 * 60, 60, 49 * 60])


@pytest.mark.parametrize(("hh", "mm"), [(15, 0), (15, 30), (15, 59)])
def test_zero_dte_last_hour_iv_finite_and_never_zero(hh, mm):
    now = et(2024, 1, 10, hh, mm)
    t = time_to_expiry_years(now, date(2024, 1, 10))
    spot, sigma = 470.0, 0.15
    strikes = np.array([469.0, 470.0, 471.0])
    calls = np.array([True, True, True])
    # quote a realistic premium, rounded to the penny and at least one tick of time value
    theo = bs_price(spot, strikes, t, 0.05, 0.0, sigma, calls)
    price = np.maximum(np.round(theo, 2), np.maximum(spot - strikes, 0) + 0.01)
    iv, g = iv_and_greeks(price, spot, strikes, t, 0.05, 0.0, calls)
    assert np.isfinite(iv).all() and (iv > 0.01).all() and (iv < 20).all()
    assert np.isfinite(g.delta).all() and (g.theta_per_day < 0).all()
    # the ATM contract's IV is sensible: near the 15% it was priced at
    if (hh, mm) != (15, 59):
        assert iv[1] == pytest.approx(sigma, rel=0.1)


def test_greeks_nan_where_iv_is_nan():
    g = bs_greeks(100.0, 100.0, 0.01, 0.05, 0.0, np.array([0.2, np.nan]), True)
    assert np.isfinite(g.delta[0]) and np.isnan(g.delta[1]) and np.isnan(g.price[1])
