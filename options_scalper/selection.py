"""StrikeSelector: choose the contract to buy for a signal from one chain snapshot (PRD-136).

The selector is one pipeline stage: a ``ChainSnapshot`` and a direction go in, a
frozen ``StrikeSelection`` (or a ``Rejection`` naming the stage that emptied the
candidate set) comes out. Everything is vectorized over numpy arrays, and
implied volatility and greeks are solved only for the few contracts that survive
the cheap filters, never for the whole chain.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

import numpy as np

import options_scalper.greeks as _greeks
from options_scalper.calendar import Settlement, expiry_time_utc, to_eastern
from options_scalper.config import SelectionCriteria
from options_scalper.expiry import _time_to_expiry, _to_date, _zero_dte_cutoff_passed, trading_dte
from options_scalper.model import (
    ChainSnapshot,
    Direction,
    FloatArray,
    IntArray,
    OptionRight,
    Rejection,
)
from options_scalper.reasons import RejectReason
from options_scalper.selection_parts import (
    _F64_MAX,
    _band_z,
    _clip01,
    _Funnel,
    _known_int,
    _quote_spot,
    _Where,
)
from options_scalper.selection_types import StrikeSelection

__all__ = ["StrikeSelection", "StrikeSelector", "trading_dte"]

# Score weights (see StrikeSelector). The non-expiry terms add up to at most
# 9 < EXPIRY_WEIGHT, so a nearer expiry always beats a farther one when
# ``prefer_0dte`` is set: expiry is the first priority, as PRD-136 orders it.
EXPIRY_WEIGHT = 10.0
DELTA_WEIGHT = 4.0
SPREAD_WEIGHT = 3.0
FRESHNESS_WEIGHT = 1.0
SIZE_WEIGHT = 1.0
SIZE_HALF_SCORE = 10.0  # displayed contracts at which the size term reaches 0.5

# Moneyness band: a contract is sent to the IV solver only when
# |ln(K/S)| <= max(BAND_MIN_LOG, BAND_SAFETY * (z + 0.5) * sigma_sqrt_t_est), where z is
# the larger |standard-normal quantile| of the delta range and sigma_sqrt_t_est the
# expiry's at-the-money sigma*sqrt(t) estimated from the near-the-money time value
# (Brenner-Subrahmanyam: ATM price ~= 0.4 * S * sigma * sqrt(t)). The safety factor
# covers skew (OTM puts trade at higher IV than ATM) and the estimate's error.
BAND_SAFETY = 3.0
BAND_MIN_LOG = 0.005
BS_ATM_FACTOR = 0.3989422804014327  # 1 / sqrt(2 * pi)
SPREAD_TOLERANCE = 1e-9  # a spread within this of the limit is AT the limit (float noise), so refused
_NEAR_MONEY_COUNT = 3  # nearest strikes whose time value estimates the ATM sigma*sqrt(t)

# Reason codes, in the order the stages run.
EMPTY_CHAIN = RejectReason.EMPTY_CHAIN
NO_UNDERLYING_PRICE = RejectReason.NO_UNDERLYING_PRICE
NO_EXPIRY = RejectReason.NO_EXPIRY
STALE_QUOTES = RejectReason.STALE_QUOTES
NO_TWO_SIDED_QUOTES = RejectReason.NO_TWO_SIDED_QUOTES
SPREAD_TOO_WIDE = RejectReason.SPREAD_TOO_WIDE
LOW_OPEN_INTEREST = RejectReason.LOW_OPEN_INTEREST
LOW_VOLUME = RejectReason.LOW_VOLUME
TOO_EXPENSIVE = RejectReason.TOO_EXPENSIVE
IV_UNSOLVED = RejectReason.IV_UNSOLVED
DELTA_OUT_OF_RANGE = RejectReason.DELTA_OUT_OF_RANGE

# Underlyings with AM-settled roots (occ.ROOT_MAP); only their symbols are parsed for settlement.

SKIPPED_OPEN_INTEREST = "open_interest"
SKIPPED_VOLUME = "volume"


class StrikeSelector:
    """Pick the best contract for a direction from one chain snapshot.

    Filters run cheapest first; the first one that leaves no candidate names the
    rejection: contracts of the signal's right (``empty_chain``) -> expiries with
    0 <= DTE <= ``max_dte``, 0DTE dropped at/after ``zero_dte_cutoff`` (half-day
    adjusted) (``no_expiry``) -> quote age <= ``max_quote_age_minutes``
    (``stale_quotes``) -> two-sided, positive, uncrossed and unlocked quote
    (``no_two_sided_quotes``) -> ``(ask - bid) / mid < max_spread_pct``
    (``spread_too_wide``) -> open interest >= ``min_open_interest`` when known
    (``low_open_interest``) -> volume >= ``min_volume`` when known (``low_volume``)
    -> ``ask <= max_contract_price`` (``too_expensive``) -> a moneyness band around
    the underlying that no in-range delta can fall outside (``delta_out_of_range``)
    -> IV solved from the mid (``iv_unsolved``) -> ``delta_min <= |delta| <=
    delta_max`` (``delta_out_of_range``). Open interest / volume filters are skipped
    when the snapshot says they are unknown (``oi_known`` / ``volume_known`` False);
    a contract whose value is NaN although the day is "known" fails the filter.

    Score of a surviving contract (higher is better)::

        score = 10 * (max_dte - dte)          if prefer_0dte else 0
              + 4 * (1 - |abs_delta - delta_target| / delta_half_width)
              + 3 * (1 - spread_pct / max_spread_pct)
              + 1 * (1 - quote_age_min / max(max_quote_age_minutes, 1))
              + 1 * min_size / (min_size + 10)

    where ``delta_half_width = max(delta_target - delta_min, delta_max - delta_target)``
    and ``min_size = min(bid_size, ask_size)``. Every term after the first lies in
    [0, 1] times its weight, so together they stay below 10 and the expiry term
    decides first (0DTE before 1DTE), then delta closeness, then the spread, as in
    seed 003's ``_select_option``. Ties go to the smaller DTE, then the delta closer
    to target, the tighter spread, the lower strike, and the symbol.
    """

    def __init__(self, criteria: SelectionCriteria) -> None:
        self.criteria = criteria
        target = criteria.delta_target
        self._delta_half_width = max(target - criteria.delta_min, criteria.delta_max - target, 1e-9)
        self._band_z = _band_z(criteria.delta_min, criteria.delta_max)

    def select(
        self,
        snapshot: ChainSnapshot,
        direction: Direction,
        now: datetime,
        *,
        allowed_expiries: Collection[date] | None = None,
    ) -> StrikeSelection | Rejection:
        """Return the best contract for ``direction`` at ``now`` (tz-aware), or why there is none.

        ``allowed_expiries`` restricts the expiries further (the scalper passes the
        ones the trading calendar allows at ``now``).
        """
        c = self.criteria
        now_et = to_eastern(now)  # refuses a naive ``now`` before anything else
        where = _Where(snapshot.underlying, now_et)  # formatted only into a rejection message
        right = direction.right
        if len(snapshot) == 0:
            return Rejection(EMPTY_CHAIN, f"{where}: the chain snapshot has no contracts")
        spot = float(snapshot.underlying_price)
        if not np.isfinite(spot) or spot <= 0.0:
            return Rejection(
                NO_UNDERLYING_PRICE,
                f"{where}: underlying price {spot!r} is not a positive number; greeks need it",
            )
        funnel = _Funnel()
        funnel.add("contracts", len(snapshot))

        want_call = right is OptionRight.CALL
        idx: IntArray = np.flatnonzero(snapshot.is_call == want_call)
        funnel.add(f"{right.word}s", idx.size)
        if idx.size == 0:
            return Rejection(EMPTY_CHAIN, f"{where}: no {right.word}s in the snapshot ({funnel.text()})")

        session = now_et.date()
        dte_all, cutoff_passed, expiries, t_pm = self._expiry_filter(
            snapshot, idx, session, now, allowed_expiries
        )
        keep = dte_all >= 0
        idx, dte = idx[keep], dte_all[keep]
        funnel.add(f"with 0-{c.max_dte} DTE" + (" (0DTE past cutoff)" if cutoff_passed else ""), idx.size)
        if idx.size == 0:
            return Rejection(NO_EXPIRY, f"{where}: no tradable expiry for {right.word}s ({funnel.text()})")

        age = snapshot.quote_age_min[idx]
        keep = age <= c.max_quote_age_minutes  # NaN age compares False: stale
        idx, dte = idx[keep], dte[keep]
        funnel.add(f"quoted within {c.max_quote_age_minutes:g} min", idx.size)
        if idx.size == 0:
            return Rejection(STALE_QUOTES, f"{where}: every candidate quote is stale ({funnel.text()})")

        bid, ask = snapshot.bid[idx], snapshot.ask[idx]
        keep = (bid > 0.0) & (ask > bid)  # NaN compares False; drops zero bids, crossed and locked
        idx, dte = idx[keep], dte[keep]
        funnel.add("two-sided", idx.size)
        if idx.size == 0:
            return Rejection(NO_TWO_SIDED_QUOTES, f"{where}: no two-sided, uncrossed quote ({funnel.text()})")

        bid, ask = snapshot.bid[idx], snapshot.ask[idx]
        mid = (bid + ask) * 0.5
        spread_pct = (ask - bid) / mid
        keep = spread_pct < c.max_spread_pct - SPREAD_TOLERANCE  # PRD-136: below the limit, not at it
        idx, dte = idx[keep], dte[keep]
        funnel.add(f"spread < {c.max_spread_pct:.0%}", idx.size)
        if idx.size == 0:
            return Rejection(SPREAD_TOO_WIDE, f"{where}: every spread is too wide ({funnel.text()})")

        skipped: list[str] = []
        if c.min_open_interest > 0:
            if snapshot.oi_known:
                keep = snapshot.open_interest[idx] >= c.min_open_interest
                idx, dte = idx[keep], dte[keep]
                funnel.add(f"OI >= {c.min_open_interest}", idx.size)
                if idx.size == 0:
                    return Rejection(LOW_OPEN_INTEREST, f"{where}: open interest too low ({funnel.text()})")
            else:
                skipped.append(SKIPPED_OPEN_INTEREST)
        if c.min_volume > 0:
            if snapshot.volume_known:
                keep = snapshot.volume[idx] >= c.min_volume
                idx, dte = idx[keep], dte[keep]
                funnel.add(f"volume >= {c.min_volume}", idx.size)
                if idx.size == 0:
                    return Rejection(LOW_VOLUME, f"{where}: volume too low ({funnel.text()})")
            else:
                skipped.append(SKIPPED_VOLUME)

        if np.isfinite(c.max_contract_price):
            keep = snapshot.ask[idx] <= c.max_contract_price
            idx, dte = idx[keep], dte[keep]
            funnel.add(f"ask <= ${c.max_contract_price:.2f}", idx.size)
            if idx.size == 0:
                return Rejection(
                    TOO_EXPENSIVE, f"{where}: every candidate is too expensive ({funnel.text()})"
                )

        keep = self._moneyness_band(snapshot, idx, dte, spot)
        idx, dte = idx[keep], dte[keep]
        funnel.add("in the moneyness band", idx.size)
        if idx.size == 0:
            return Rejection(
                DELTA_OUT_OF_RANGE,
                f"{where}: no candidate near enough the money for |delta| "
                f"{c.delta_min:.2f}-{c.delta_max:.2f} ({funnel.text()})",
            )

        # Greeks for the survivors only.
        t_years, alive = _time_to_expiry(now, snapshot, idx, expiries, t_pm)
        if not alive.all():  # AM-settled contracts past this morning's settlement
            idx, dte, t_years = idx[alive], dte[alive], t_years[alive]
            funnel.add("not yet settled", idx.size)
            if idx.size == 0:
                return Rejection(NO_EXPIRY, f"{where}: every candidate has settled ({funnel.text()})")
        strike = snapshot.strike[idx]
        is_call = snapshot.is_call[idx]
        mid = (snapshot.bid[idx] + snapshot.ask[idx]) * 0.5
        quote_spot = _quote_spot(snapshot, idx, spot)  # each quote priced with its own minute's underlying
        iv = _greeks.implied_vol(
            mid, quote_spot, strike, t_years, c.risk_free_rate, c.dividend_yield, is_call
        )
        keep = np.isfinite(iv) & (iv > 0.0)
        idx, dte, t_years, iv = idx[keep], dte[keep], t_years[keep], iv[keep]
        if not isinstance(quote_spot, float):
            quote_spot = quote_spot[keep]
        funnel.add("with an IV", idx.size)
        if idx.size == 0:
            return Rejection(IV_UNSOLVED, f"{where}: implied volatility unsolvable ({funnel.text()})")

        g = _greeks.bs_greeks(
            quote_spot,
            snapshot.strike[idx],
            t_years,
            c.risk_free_rate,
            c.dividend_yield,
            iv,
            snapshot.is_call[idx],
        )
        abs_delta = np.abs(g.delta)
        keep = (abs_delta >= c.delta_min) & (abs_delta <= c.delta_max)
        funnel.add(f"|delta| {c.delta_min:.2f}-{c.delta_max:.2f}", int(keep.sum()))
        if not keep.any():
            return Rejection(DELTA_OUT_OF_RANGE, f"{where}: no delta in range ({funnel.text()})")
        greeks = _greeks.Greeks(
            delta=g.delta[keep],
            gamma=g.gamma[keep],
            theta_per_day=g.theta_per_day[keep],
            vega_per_vol_point=g.vega_per_vol_point[keep],
            price=g.price[keep],
        )
        return self._best(
            snapshot, idx[keep], dte[keep], t_years[keep], iv[keep], greeks, spot, tuple(skipped)
        )

    # -- stages -------------------------------------------------------------------------

    def _expiry_filter(
        self,
        snapshot: ChainSnapshot,
        idx: IntArray,
        session: date,
        now: datetime,
        allowed_expiries: Collection[date] | None,
    ) -> tuple[IntArray, bool, np.ndarray, FloatArray]:
        """Each candidate's DTE (-1 where its expiry is not tradable now), whether 0DTE is past
        its cutoff, the candidates' distinct expiries (sorted ``datetime64[D]``) and the years
        to each one's PM settlement (``greeks.time_to_expiry_years``; NaN where not tradable)."""
        c = self.criteria
        candidate_expiry = snapshot.expiry[idx]
        expiries = np.unique(candidate_expiry)
        dte_unique = np.full(expiries.size, -1, dtype=np.int64)
        t_pm = np.full(expiries.size, np.nan)
        cutoff_passed = _zero_dte_cutoff_passed(now, c.zero_dte_cutoff, session)
        allowed = (
            allowed_expiries
            if allowed_expiries is None or isinstance(allowed_expiries, set)
            else set(allowed_expiries)
        )
        expiry: date
        for k, expiry in enumerate(expiries.tolist()):  # datetime64[D] -> date
            if allowed is not None and expiry not in allowed:
                continue
            dte = trading_dte(session, expiry)
            if dte < 0 or dte > c.max_dte or (dte == 0 and cutoff_passed):
                continue
            settles = expiry_time_utc(expiry, Settlement.PM)
            if now >= settles:
                continue
            dte_unique[k] = dte
            t_pm[k] = max((settles - now).total_seconds() / _greeks.SECONDS_PER_YEAR, _greeks.MIN_T_YEARS)
        inverse = np.searchsorted(expiries, candidate_expiry)  # exact matches: np.unique's inverse
        return dte_unique[inverse], cutoff_passed, expiries, t_pm

    def _moneyness_band(
        self, snapshot: ChainSnapshot, idx: IntArray, dte: IntArray, spot: float
    ) -> np.ndarray:
        """Mask of candidates near enough the money that their |delta| may be in range.

        The ATM sigma*sqrt(t) of each expiry is estimated from the largest time value
        among its ``_NEAR_MONEY_COUNT`` nearest-the-money two-sided quotes of either
        right (any age, any spread), so filtering the candidates cannot shrink the band.
        """
        strike = snapshot.strike[idx]
        log_m = np.abs(np.log(strike / spot))
        width = np.empty(idx.size, dtype=np.float64)
        expiry = snapshot.expiry[idx]
        for d in np.unique(dte):
            rows = np.flatnonzero(dte == d)
            width[rows] = self._band_width(snapshot, expiry[rows[0]], spot)
        return log_m <= width

    def _band_width(self, snapshot: ChainSnapshot, expiry: np.datetime64, spot: float) -> float:
        same = np.flatnonzero(snapshot.expiry == expiry)
        bid, ask = snapshot.bid[same], snapshot.ask[same]
        quoted = (bid > 0.0) & (ask > bid)
        same = same[quoted]
        if same.size == 0:
            return np.inf
        strike = snapshot.strike[same]
        nearest = np.argsort(np.abs(strike - spot), kind="stable")[:_NEAR_MONEY_COUNT]
        rows = same[nearest]
        k = snapshot.strike[rows]
        mid = (snapshot.bid[rows] + snapshot.ask[rows]) * 0.5
        intrinsic = np.maximum(np.where(snapshot.is_call[rows], spot - k, k - spot), 0.0)
        sigma_sqrt_t = max(float((mid - intrinsic).max()), 0.0) / (BS_ATM_FACTOR * spot)
        return max(BAND_MIN_LOG, BAND_SAFETY * (self._band_z + 0.5) * sigma_sqrt_t)

    def _best(
        self,
        snapshot: ChainSnapshot,
        idx: IntArray,
        dte: IntArray,
        t_years: FloatArray,
        iv: FloatArray,
        g: _greeks.Greeks,
        spot: float,
        skipped: tuple[str, ...],
    ) -> StrikeSelection:
        c = self.criteria
        bid, ask = snapshot.bid[idx], snapshot.ask[idx]
        mid = (bid + ask) * 0.5
        spread_pct = (ask - bid) / mid
        delta = g.delta
        delta_dist = np.abs(np.abs(delta) - c.delta_target)
        age = snapshot.quote_age_min[idx]
        # = np.maximum(np.nan_to_num(min_size, nan=0.0), 0.0): NaN and -inf -> 0, inf -> the largest float
        size = np.minimum(np.fmax(np.minimum(snapshot.bid_size[idx], snapshot.ask_size[idx]), 0.0), _F64_MAX)

        expiry_term = (c.max_dte - dte).astype(np.float64) if c.prefer_0dte else np.zeros(idx.size)
        delta_term = _clip01(1.0 - delta_dist / self._delta_half_width)
        spread_term = _clip01(1.0 - spread_pct / c.max_spread_pct) if c.max_spread_pct > 0 else 1.0
        fresh_term = _clip01(1.0 - age / max(c.max_quote_age_minutes, 1.0))
        size_term = size / (size + SIZE_HALF_SCORE)
        score = (
            EXPIRY_WEIGHT * expiry_term
            + DELTA_WEIGHT * delta_term
            + SPREAD_WEIGHT * spread_term
            + FRESHNESS_WEIGHT * fresh_term
            + SIZE_WEIGHT * size_term
        )
        symbols = snapshot.symbol[idx]
        strikes = snapshot.strike[idx]
        order = sorted(
            range(idx.size),
            key=lambda i: (-score[i], dte[i], delta_dist[i], spread_pct[i], strikes[i], str(symbols[i])),
        )
        best = order[0]
        row = int(idx[best])
        right = OptionRight.CALL if bool(snapshot.is_call[row]) else OptionRight.PUT
        theta_per_day = float(g.theta_per_day[best])
        return StrikeSelection(
            strike=float(strikes[best]),
            expiry=_to_date(snapshot.expiry[row]),
            option_type=right.word,
            option_symbol=str(symbols[best]),
            delta=float(delta[best]),
            gamma=float(g.gamma[best]),
            theta=theta_per_day,
            iv=float(iv[best]),
            bid=float(bid[best]),
            ask=float(ask[best]),
            mid=float(mid[best]),
            spread_pct=float(spread_pct[best]),
            open_interest=_known_int(snapshot.open_interest[row], snapshot.oi_known),
            volume=_known_int(snapshot.volume[row], snapshot.volume_known),
            score=float(score[best]),
            dte=int(dte[best]),
            right=right,
            quote_age_min=float(age[best]),
            bid_size=float(snapshot.bid_size[row]),
            ask_size=float(snapshot.ask_size[row]),
            underlying_price=spot,
            time_to_expiry_years=float(t_years[best]),
            vega=float(g.vega_per_vol_point[best]),
            theta_per_day=theta_per_day,
            skipped_filters=skipped,
            candidates_considered=int(idx.size),
        )


# -- helpers ---------------------------------------------------------------------------------
