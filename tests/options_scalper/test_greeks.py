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


def _grid(n: int, seed: int):
    """Contracts from 0DTE's last minute to 2 years, 0.5x-2x moneyness, 1 %-500 % vol, both rights."""
    rng = np.random.default_rng(seed)
    s = 100.0
    k = s * np.exp(rng.uniform(-0.7, 0.7, n))
    t = np.exp(rng.uniform(np.log(MIN_T_YEARS), np.log(2.0), n))
    t[: n // 4] = rng.uniform(MIN_T_YEARS, 60 * MINUTE, n // 4)  # 0DTE in its last hour
    sig = np.exp(rng.uniform(np.log(0.01), np.log(5.0), n))
    call = rng.random(n) < 0.5
    return s, k, t, sig, call


def test_implied_vol_reprices_within_solver_tolerance_on_broad_grid():
    # The guarantee: where an IV is returned, re-pricing at it gives back the premium's time
    # value (its out-of-the-money-side premium) within 1e-8 relative (+1e-12 absolute).
    s, k, t, sig, call = _grid(20_000, 5)
    price = bs_price(s, k, t, 0.05, 0.01, sig, call)
    price[::97] = np.nan
    price[::89] = 0.0
    iv = implied_vol(price, s, k, t, 0.05, 0.01, call)
    solved = np.isfinite(iv)
    fwd, disc_k = s * np.exp(-0.01 * t), k * np.exp(-0.05 * t)
    intrinsic = np.where(call, np.maximum(fwd - disc_k, 0.0), np.maximum(disc_k - fwd, 0.0))
    time_value = price - intrinsic
    assert not solved[::97].any() and not solved[::89].any()
    assert solved.sum() > 0.8 * np.count_nonzero(time_value > 1e-10 * s)
    err = np.abs(bs_price(s, k[solved], t[solved], 0.05, 0.01, iv[solved], call[solved]) - price[solved])
    assert (err <= 1e-8 * time_value[solved] + 1e-12 + 4e-16 * price[solved]).all()


def test_implied_vol_matches_vollib_on_broad_grid_where_vega_is_material():
    s, k, t, sig, call = _grid(600, 6)
    price = bs_price(s, k, t, 0.05, 0.0, sig, call)
    vega = bs_greeks(s, k, t, 0.05, 0.0, sig, call).vega_per_vol_point * 100
    iv = implied_vol(price, s, k, t, 0.05, 0.0, call)
    checked = 0
    for i in np.flatnonzero((vega > 1e-3 * price) & (price > 1e-4) & (sig < 3.0)):
        ref = vollib_iv(price[i], s, k[i], t[i], 0.05, 0.0, "c" if call[i] else "p")
        assert iv[i] == pytest.approx(ref, rel=1e-6), (k[i], t[i], sig[i], call[i])
        checked += 1
    assert checked > 80


def test_implied_vol_of_one_contract_does_not_depend_on_the_batch():
    s, k, t, sig, call = _grid(200, 7)
    price = bs_price(s, k, t, 0.05, 0.0, sig, call)
    batch = implied_vol(price, s, k, t, 0.05, 0.0, call)
    alone = [
        implied_vol(price[i : i + 1], s, k[i : i + 1], t[i : i + 1], 0.05, 0.0, call[i : i + 1])[0]
        for i in range(200)
    ]
    np.testing.assert_array_equal(batch, np.array(alone))


def test_implied_vol_all_scalar_inputs_return_a_scalar_iv():
    iv = implied_vol(2.5, 49.0, 50.0, 0.3846, 0.05, 0.0, True)
    assert np.ndim(iv) == 0
    assert (
        float(iv)
        == implied_vol(
            np.array([2.5]), 49.0, np.array([50.0]), np.array([0.3846]), 0.05, 0.0, np.array([True])
        )[0]
    )
