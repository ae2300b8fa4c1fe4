"""Derive the underlying's 1-minute price from an option chain by put-call parity.

Used when the user has no underlying bars. No volume comes out of this (NaN), so
volume rules are skipped downstream.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feeds.schema import BAR_COLUMNS
from options_scalper.model import ScalperError

EASTERN = "America/New_York"
SECONDS_PER_YEAR = 365.0 * 24 * 3600  # calendar-time years, as options_scalper.greeks
NS_PER_MINUTE = 60_000_000_000
MIN_T_YEARS = 60.0 / SECONDS_PER_YEAR
MIN_PAIRS = 3
MAX_PAIRS = 5
MIN_SPREAD = 0.01  # dollars; floor of a pair's combined spread in the weights


class ParityError(ScalperError):
    """The quotes handed to ``derive_underlying`` cannot yield a parity price."""


def _empty_bars() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=np.float64) for c in BAR_COLUMNS})
    out["ts"] = pd.Series(dtype="datetime64[ns, UTC]")
    return out


def _expiry_close_ns(expiry: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return (codes, 16:00 ET of each distinct expiry in UTC ns)."""
    codes, uniques = pd.factorize(expiry, sort=True)
    days = pd.to_datetime(pd.Index(uniques)).normalize()
    close = (days + pd.Timedelta(hours=16)).tz_localize(EASTERN).tz_convert("UTC")
    return codes, close.as_unit("ns").asi8


def derive_underlying(
    quotes: pd.DataFrame, *, rate: float = 0.05, min_pairs: int = MIN_PAIRS, max_pairs: int = MAX_PAIRS
) -> pd.DataFrame:
    """Return 1-minute bars (``BAR_COLUMNS``) of the underlying implied by put-call parity.

    Method, per quote minute ``ts`` (vectorized over the whole frame):

    1. Keep two-sided, uncrossed quotes (finite bid >= 0, ask > 0, bid <= ask); mid
       = (bid + ask) / 2, spread = ask - bid.
    2. Pair each call with the put of the same expiry and strike quoted in the same minute.
    3. Take the nearest expiry that has at least ``min_pairs`` such pairs.
    4. Of its pairs, take the ``max_pairs`` (3-5) nearest the money: smallest |C_mid - P_mid|.
    5. Each pair gives S = C_mid - P_mid + K * exp(-rate * T), T = years (365-day) from
       ``ts`` to 16:00 ET of the expiry, floored at one minute. (European parity without
       dividends; for short-dated near-the-money American options the early-exercise
       premium is negligible. AM-settled expiries use 16:00 too: the r*T term is tiny.)
    6. Combine the pairs by a spread-weighted mean, weight 1 / (call spread + put spread),
       so tight markets count most.

    ``quotes`` needs ``ts`` (the END of the quote minute, UTC), ``expiry``, ``option_type``
    ('C'/'P'), ``strike``, ``bid_px``, ``ask_px``; one underlying only. Output ``ts`` is the
    bar START (quote minute - 1 minute); open = high = low = close = S; volume NaN. Minutes
    without a usable expiry are left out (gaps).
    """
    if len(quotes) == 0:
        return _empty_bars()
    missing = {"ts", "expiry", "option_type", "strike", "bid_px", "ask_px"} - set(quotes.columns)
    if missing:
        raise ParityError(
            f"parity.derive_underlying: quotes lack columns {sorted(missing)}; pass read_cbbo output"
        )
    if "underlying" in quotes.columns:
        names = pd.unique(quotes["underlying"].dropna())
        if len(names) > 1:
            raise ParityError(
                f"parity.derive_underlying: quotes hold several underlyings ({', '.join(map(str, names[:5]))}); "
                "pass one underlying at a time"
            )
    bid = quotes["bid_px"].to_numpy(np.float64)
    ask = quotes["ask_px"].to_numpy(np.float64)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(bid) & np.isfinite(ask) & (bid >= 0) & (ask > 0) & (bid <= ask)
    q = quotes.loc[ok, ["ts", "expiry", "option_type", "strike"]]
    if len(q) == 0:
        return _empty_bars()
    ts_ns = pd.DatetimeIndex(pd.to_datetime(q["ts"], utc=True)).as_unit("ns").asi8
    exp_code, close_ns = _expiry_close_ns(q["expiry"])
    frame = pd.DataFrame(
        {
            "ts": ts_ns,
            "exp": exp_code,
            "strike": q["strike"].to_numpy(np.float64),
            "mid": (bid[ok] + ask[ok]) / 2.0,
            "spread": ask[ok] - bid[ok],
        }
    )
    is_call = (q["option_type"].astype(str) == "C").to_numpy()
    pairs = frame[is_call].merge(frame[~is_call], on=["ts", "exp", "strike"], suffixes=("_c", "_p"))
    if len(pairs) == 0:
        return _empty_bars()

    keys = ["ts", "exp"]
    count = pairs.groupby(keys, sort=False)["strike"].transform("size").to_numpy()
    pairs = pairs[count >= min_pairs]
    nearest = pairs.groupby("ts", sort=False)["exp"].transform("min").to_numpy()
    pairs = pairs[pairs["exp"].to_numpy() == nearest].copy()
    if len(pairs) == 0:
        return _empty_bars()

    pairs["gap"] = (pairs["mid_c"] - pairs["mid_p"]).abs()
    pairs = pairs.sort_values(["ts", "gap"], kind="stable")
    pairs = pairs[pairs.groupby("ts", sort=False).cumcount().to_numpy() < max_pairs]

    ts = pairs["ts"].to_numpy()
    t_years = np.maximum((close_ns[pairs["exp"].to_numpy()] - ts) / 1e9 / SECONDS_PER_YEAR, MIN_T_YEARS)
    strike = pairs["strike"].to_numpy()
    spot = pairs["mid_c"].to_numpy() - pairs["mid_p"].to_numpy() + strike * np.exp(-rate * t_years)
    weight = 1.0 / np.maximum(pairs["spread_c"].to_numpy() + pairs["spread_p"].to_numpy(), MIN_SPREAD)
    agg = pd.DataFrame({"ts": ts, "sw": spot * weight, "w": weight}).groupby("ts", sort=True).sum()
    price = (agg["sw"] / agg["w"]).to_numpy()
    start = pd.to_datetime(agg.index.to_numpy() - NS_PER_MINUTE, utc=True).as_unit("ns")
    return pd.DataFrame(
        {"ts": start, "open": price, "high": price, "low": price, "close": price, "volume": np.nan}
    ).reset_index(drop=True)[list(BAR_COLUMNS)]
