from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from feeds.catalog.parity import ParityError, derive_underlying
from feeds.schema import BAR_COLUMNS, QUOTE_COLUMNS

RATE = 0.05
VOL = 0.45
OPEN_UTC = pd.Timestamp("2024-01-03 14:30", tz="UTC")  # 09:30 ET


def _ncdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def bs(spot: float, strike: np.ndarray, t: float, call: bool) -> np.ndarray:
    d1 = (np.log(spot / strike) + (RATE + VOL**2 / 2) * t) / (VOL * math.sqrt(t))
    d2 = d1 - VOL * math.sqrt(t)
    if call:
        return spot * _ncdf(d1) - strike * math.exp(-RATE * t) * _ncdf(d2)
    return strike * math.exp(-RATE * t) * _ncdf(-d2) - spot * _ncdf(-d1)


def t_years(ts: pd.Timestamp, expiry: date) -> float:
    close = pd.Timestamp(f"{expiry} 16:00", tz="America/New_York").tz_convert("UTC")
    return max((close - ts).total_seconds(), 60.0) / (365.0 * 86400)


def chain(
    spots: dict[pd.Timestamp, float], expiries: list[date], strikes: np.ndarray, seed: int = 0
) -> pd.DataFrame:
    """A Black-Scholes chain quoted to the cent with random half-spreads of 1-10 cents."""
    rng = np.random.default_rng(seed)
    parts = []
    for ts, spot in spots.items():
        for expiry in expiries:
            t = t_years(ts, expiry)
            for call in (True, False):
                fair = bs(spot, strikes, t, call)
                half = rng.integers(1, 11, len(strikes)) / 100.0
                bid = np.maximum(np.round(fair - half, 2), 0.0)
                ask = np.round(fair + half, 2)
                letter = "C" if call else "P"
                parts.append(
                    pd.DataFrame(
                        {
                            "ts": ts,
                            "symbol": [f"TSLA{expiry:%y%m%d}{letter}{round(k * 1000):08d}" for k in strikes],
                            "underlying": "TSLA",
                            "expiry": expiry,
                            "option_type": letter,
                            "strike": strikes,
                            "bid_px": bid,
                            "ask_px": ask,
                            "bid_sz": 10,
                            "ask_sz": 10,
                        }
                    )
                )
    return pd.concat(parts, ignore_index=True)[list(QUOTE_COLUMNS)]


def test_derive_underlying_black_scholes_chain_within_two_cents():
    minutes = [OPEN_UTC + pd.Timedelta(minutes=m) for m in range(1, 31)]
    spots = {ts: 250.0 + 0.37 * i - 0.02 * i * i for i, ts in enumerate(minutes)}
    strikes = np.arange(200.0, 300.01, 2.5)
    quotes = chain(spots, [date(2024, 1, 3), date(2024, 1, 5), date(2024, 1, 12)], strikes)
    bars = derive_underlying(quotes, rate=RATE)
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert str(bars["ts"].dtype) == "datetime64[ns, UTC]"
    assert len(bars) == len(minutes)
    # bar START = quote minute - 1 minute
    assert bars["ts"].tolist() == [ts - pd.Timedelta(minutes=1) for ts in minutes]
    expected = np.array([spots[ts] for ts in minutes])
    assert np.max(np.abs(bars["close"].to_numpy() - expected)) < 0.02
    for col in ("open", "high", "low"):
        np.testing.assert_array_equal(bars[col], bars["close"])
    assert bars["volume"].isna().all()


def test_derive_underlying_0dte_last_minutes_still_accurate():
    ts = pd.Timestamp("2024-01-03 20:58", tz="UTC")  # 15:58 ET on expiry day
    strikes = np.arange(240.0, 260.01, 1.0)
    quotes = chain({ts: 251.23}, [date(2024, 1, 3)], strikes, seed=3)
    bars = derive_underlying(quotes, rate=RATE)
    assert abs(bars["close"].iloc[0] - 251.23) < 0.02


def test_derive_underlying_skips_expiry_with_fewer_than_three_pairs():
    ts = OPEN_UTC + pd.Timedelta(minutes=5)
    strikes = np.arange(230.0, 270.01, 2.5)
    near = chain({ts: 250.0}, [date(2024, 1, 3)], strikes)
    # the nearest expiry keeps only two two-sided pairs; the rest lose their put
    keep_puts = near["strike"].isin([250.0, 252.5])
    near = near[(near["option_type"] == "C") | keep_puts]
    wrong = near.copy()
    wrong.loc[:, ["bid_px", "ask_px"]] += 5.0  # were it used, the price would be off by ~$5
    far = chain({ts: 250.0}, [date(2024, 1, 5)], strikes, seed=1)
    bars = derive_underlying(pd.concat([wrong, far], ignore_index=True), rate=RATE)
    assert abs(bars["close"].iloc[0] - 250.0) < 0.02


def test_derive_underlying_ignores_crossed_and_one_sided_quotes():
    ts = OPEN_UTC + pd.Timedelta(minutes=5)
    quotes = chain({ts: 250.0}, [date(2024, 1, 5)], np.arange(240.0, 260.01, 2.5))
    atm_call = (quotes["option_type"] == "C") & (quotes["strike"] == 250.0)
    quotes.loc[atm_call, ["bid_px", "ask_px"]] = [30.0, 1.0]  # crossed
    atm_put = (quotes["option_type"] == "P") & (quotes["strike"] == 247.5)
    quotes.loc[atm_put, "bid_px"] = np.nan
    bars = derive_underlying(quotes, rate=RATE)
    assert abs(bars["close"].iloc[0] - 250.0) < 0.03


def test_derive_underlying_minute_without_pairs_is_a_gap():
    t1, t2 = OPEN_UTC + pd.Timedelta(minutes=1), OPEN_UTC + pd.Timedelta(minutes=3)
    quotes = chain({t1: 250.0, t2: 251.0}, [date(2024, 1, 5)], np.arange(240.0, 260.01, 2.5))
    calls_only_at_t2 = ~((quotes["ts"] == t2) & (quotes["option_type"] == "P"))
    bars = derive_underlying(quotes[calls_only_at_t2], rate=RATE)
    assert bars["ts"].tolist() == [t1 - pd.Timedelta(minutes=1)]


def test_derive_underlying_empty_and_bad_input():
    empty = derive_underlying(pd.DataFrame(columns=list(QUOTE_COLUMNS)))
    assert len(empty) == 0 and list(empty.columns) == list(BAR_COLUMNS)
    with pytest.raises(ParityError, match="lack columns"):
        derive_underlying(pd.DataFrame({"ts": [OPEN_UTC]}))
    ts = OPEN_UTC + pd.Timedelta(minutes=1)
    two = chain({ts: 250.0}, [date(2024, 1, 5)], np.arange(240.0, 260.01, 2.5))
    other = two.assign(underlying="NVDA")
    with pytest.raises(ParityError, match="several underlyings"):
        derive_underlying(pd.concat([two, other]))
