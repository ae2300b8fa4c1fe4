"""ATM implied volatility of the expiry nearest 30 days, for IV rank.

Computed once per day at 15:45 ET (close - 15 min on half days) from the last
quote of each contract in the ``IV_WINDOW_MINUTES`` before it, on the
unfiltered chain (the ingest keeps that window of every expiry while it
streams). The ATM strike is the one nearest the underlying with both a call
and a put; the IV is the mean of the call and put IVs that solve.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from options_scalper.greeks import implied_vol, time_to_expiry_years

IV_WINDOW_MINUTES = 10
TARGET_DTE = 30


def empty_iv() -> dict[str, Any]:
    return {"atm_iv_30d": float("nan"), "atm_iv_expiry": None, "atm_iv_strike": float("nan")}


def atm_iv_near_30d(
    window: pa.Table | None, day: date, spot: float, at: pd.Timestamp, rate: float
) -> dict[str, Any]:
    """Return ``atm_iv_30d`` (annualized fraction), ``atm_iv_expiry`` and ``atm_iv_strike``.

    ``window`` holds ts, expiry, option_type, strike, bid_px, ask_px rows up to ``at``;
    ``spot`` is the underlying at ``at``. NaN / None when nothing solves.
    """
    if window is None or window.num_rows == 0 or not math.isfinite(spot) or spot <= 0:
        return empty_iv()
    df = window.to_pandas()
    df = df[(df["bid_px"] > 0) & (df["ask_px"] >= df["bid_px"])]
    if df.empty:
        return empty_iv()
    expiries = pd.Series(sorted(set(df["expiry"])))
    dte = np.array([(e - day).days for e in expiries])
    usable = dte >= 1
    if not usable.any():
        return empty_iv()
    # nearest to 30 days; on a tie the later expiry
    score = np.where(usable, np.abs(dte - TARGET_DTE) - dte * 1e-6, np.inf)
    expiry = expiries.iloc[int(np.argmin(score))]
    chain = df[df["expiry"] == expiry].sort_values("ts", kind="stable")
    last = chain.groupby(["strike", "option_type"], sort=False).tail(1)
    mids = last.assign(mid=(last["bid_px"] + last["ask_px"]) / 2).pivot_table(
        index="strike", columns="option_type", values="mid", aggfunc="last"
    )
    both = mids.dropna(subset=[c for c in ("C", "P") if c in mids.columns])
    if both.empty or not {"C", "P"} <= set(mids.columns):
        both = mids
    strike = float(both.index[np.argmin(np.abs(both.index.to_numpy(dtype=float) - spot))])
    years = time_to_expiry_years(at.to_pydatetime(), expiry)
    flags = [f for f in ("C", "P") if f in both.columns]
    prices = np.array([both.loc[strike, f] for f in flags], dtype=np.float64)
    solved = implied_vol(prices, spot, strike, years, rate, 0.0, np.array([f == "C" for f in flags]))
    ivs = [float(v) for v in solved if math.isfinite(v)]
    return {
        "atm_iv_30d": float(np.mean(ivs)) if ivs else float("nan"),
        "atm_iv_expiry": expiry.isoformat(),
        "atm_iv_strike": strike,
    }
