"""Hand-made ChainSnapshots priced with Black-Scholes, so the deltas the selector solves are real.

Fixtures hand out plain functions (importlib mode: test modules cannot import this file):

* ``make_chain(**kw) -> ChainSnapshot``: strikes x expiries x {call, put}, mid = BSM price
  at ``sigma - skew * ln(K/S)``, bid/ask = mid -/+ half of ``spread_pct`` of mid.
* ``edit_chain(snapshot, mask, **arrays_or_scalars) -> ChainSnapshot``: a copy with the
  given fields overwritten on the rows in ``mask``.
* ``et(y, m, d, hh, mm) -> datetime``: an aware UTC datetime from a US/Eastern wall time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from options_scalper.greeks import bs_price, time_to_expiry_years
from options_scalper.model import ChainSnapshot, OptionRight
from options_scalper.occ import format_occ

ET = ZoneInfo("America/New_York")

# A plain Wednesday (no FOMC, no holiday), its next two sessions, and a half day.
WED = date(2024, 3, 13)
THU = date(2024, 3, 14)
FRI = date(2024, 3, 15)
HALF_DAY = date(2024, 11, 29)  # day after Thanksgiving, 13:00 close


def et_time(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ET).astimezone(UTC)


def build_chain(
    *,
    ts: datetime | None = None,
    underlying: str = "SPY",
    root: str | None = None,
    spot: float = 500.0,
    expiries: Sequence[date] = (WED, THU),
    strikes: Sequence[float] | np.ndarray | None = None,
    sigma: float = 0.20,
    skew: float = 0.0,
    r: float = 0.05,
    q: float = 0.0,
    spread_pct: float = 0.04,
    quote_age_min: float = 0.0,
    size: float = 50.0,
    open_interest: float | None = None,
    volume: float | None = None,
    half_day: bool = False,
) -> ChainSnapshot:
    ts = ts if ts is not None else et_time(2024, 3, 13, 10, 30)
    k = np.asarray(strikes if strikes is not None else np.arange(spot - 20, spot + 20.5, 1.0), dtype=float)
    exp_list, is_call_list, strike_list = [], [], []
    for e in expiries:
        for call in (True, False):
            exp_list.extend([e] * k.size)
            is_call_list.extend([call] * k.size)
            strike_list.extend(k.tolist())
    expiry = np.array(exp_list, dtype="datetime64[D]")
    is_call = np.array(is_call_list, dtype=bool)
    strike = np.array(strike_list, dtype=float)
    t = time_to_expiry_years(ts, expiry)
    vol = sigma - skew * np.log(strike / spot)  # skew > 0: OTM puts richer, as on equities
    mid = bs_price(spot, strike, t, r, q, vol, is_call)
    bid = mid * (1.0 - spread_pct / 2.0)
    ask = mid * (1.0 + spread_pct / 2.0)
    n = strike.size
    sym_root = root or underlying
    symbols = np.array(
        [
            format_occ(sym_root, e.astype(date), OptionRight.CALL if c else OptionRight.PUT, s)
            for e, c, s in zip(expiry, is_call, strike, strict=True)
        ],
        dtype=object,
    )
    return ChainSnapshot(
        underlying=underlying,
        ts=ts,
        underlying_price=spot,
        symbol=symbols,
        expiry=expiry,
        is_call=is_call,
        strike=strike,
        bid=bid,
        ask=ask,
        bid_size=np.full(n, size, dtype=float),
        ask_size=np.full(n, size, dtype=float),
        quote_age_min=np.full(n, quote_age_min, dtype=float),
        open_interest=np.full(n, np.nan if open_interest is None else open_interest, dtype=float),
        volume=np.full(n, np.nan if volume is None else volume, dtype=float),
        oi_known=open_interest is not None,
        volume_known=volume is not None,
        half_day=half_day,
    )


def edit(snapshot: ChainSnapshot, mask: Any = None, **fields: Any) -> ChainSnapshot:
    """Copy ``snapshot`` with array fields set on ``mask`` rows (all rows when None); scalars replace."""
    changes: dict[str, Any] = {}
    rows = np.ones(len(snapshot), dtype=bool) if mask is None else mask
    for name, value in fields.items():
        current = getattr(snapshot, name)
        if isinstance(current, np.ndarray):
            arr = current.copy()
            arr[rows] = value
            changes[name] = arr
        else:
            changes[name] = value
    return dataclasses.replace(snapshot, **changes)


def empty_chain(ts: datetime | None = None, underlying: str = "SPY") -> ChainSnapshot:
    f = np.array([], dtype=float)
    return ChainSnapshot(
        underlying=underlying,
        ts=ts if ts is not None else et_time(2024, 3, 13, 10, 30),
        underlying_price=500.0,
        symbol=np.array([], dtype=object),
        expiry=np.array([], dtype="datetime64[D]"),
        is_call=np.array([], dtype=bool),
        strike=f,
        bid=f,
        ask=f,
        bid_size=f,
        ask_size=f,
        quote_age_min=f,
        open_interest=f,
        volume=f,
    )


@pytest.fixture
def make_chain() -> Callable[..., ChainSnapshot]:
    return build_chain


@pytest.fixture
def edit_chain() -> Callable[..., ChainSnapshot]:
    return edit


@pytest.fixture
def no_chain() -> Callable[..., ChainSnapshot]:
    return empty_chain


@pytest.fixture
def et() -> Callable[..., datetime]:
    return et_time
