"""Expiry arithmetic of the selector: trading-session DTE, the 0DTE cutoff, years to settlement."""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta

import numpy as np

import options_scalper.greeks as _greeks
from options_scalper.calendar import Settlement, cutoff_utc, expiry_time_utc, sessions_between
from options_scalper.model import ChainSnapshot, FloatArray, IntArray

_AM_SETTLED_UNDERLYINGS = frozenset({"SPX", "NDX", "RUT", "VIX", "DJX"})
_OCC_TAIL = 15  # YYMMDD + C/P + 8 strike digits after the root


def _to_date(value: np.datetime64) -> date:
    day: date = np.asarray(value, dtype="datetime64[D]").astype(object).item()
    return day


@functools.lru_cache(maxsize=4096)
def trading_dte(session: date, expiry: date) -> int:
    """Trading sessions from ``session`` to ``expiry``: 0 same day, 1 next session (Fri -> Mon is 1).

    -1 for an expiry before ``session``. An expiry on a holiday counts up to the
    session before it (that is when it stops trading).
    """
    if expiry < session:
        return -1
    if expiry == session:
        return 0
    return len(sessions_between(session + timedelta(days=1), expiry))


def _zero_dte_cutoff_passed(now: datetime, cutoff: time | None, session: date) -> bool:
    if cutoff is None:
        return False
    return now >= _cutoff_utc(session, cutoff)


@functools.lru_cache(maxsize=1024)
def _cutoff_utc(session: date, cutoff: time) -> datetime:
    return cutoff_utc(session, cutoff)  # a pure function of the calendar: once per session


def _time_to_expiry(
    now: datetime, snapshot: ChainSnapshot, idx: IntArray, expiries: np.ndarray, t_pm_of: FloatArray
) -> tuple[FloatArray, np.ndarray]:
    """Years to settlement of each candidate, and a mask of those not yet settled.

    PM settlement (the close, 13:00 on half days) except AM-settled roots such as
    monthly ``SPX``, which settle at the expiry day's open. ``t_pm_of`` holds the
    PM figure of each of the sorted ``expiries`` (see ``_expiry_filter``).
    """
    expiry = snapshot.expiry[idx]
    t_pm = t_pm_of[np.searchsorted(expiries, expiry)]
    alive = np.ones(idx.size, dtype=bool)
    if snapshot.underlying not in _AM_SETTLED_UNDERLYINGS:
        return t_pm, alive
    from options_scalper.occ import settlement_of_root

    am = np.array(
        [settlement_of_root(str(sym)[:-_OCC_TAIL].rstrip()) == "AM" for sym in snapshot.symbol[idx]],
        dtype=bool,
    )
    if not am.any():
        return t_pm, alive
    t_am = _greeks.time_to_expiry_years(now, expiry, Settlement.AM)
    for k in np.flatnonzero(am):
        if now >= expiry_time_utc(_to_date(expiry[k]), Settlement.AM):
            alive[k] = False
    return np.where(am, t_am, t_pm), alive
