"""A session's listed contracts and their sparse CBBO-1m rows, block of minutes by block.

A contract prints a row for a minute only when its quote changed in it (price or
size) or it traded; every contract prints in the first minute. Trade fields carry
the last print forward, as DataBento's CBBO does. A small fraction of printed rows
is made dirty on purpose (``DIRTY_KINDS``).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from feeds.synthetic.pricing import quote_block, tick_cents
from feeds.synthetic.sessions import NS_PER_MIN, NS_PER_YEAR, expiry_close_ns, listed_expiries
from feeds.synthetic.spec import SymbolSpec
from feeds.synthetic.underlying import UnderlyingDay
from options_scalper.model import OptionRight
from options_scalper.occ import format_occ

DIRTY_KINDS: tuple[str, ...] = ("zero_bid", "crossed", "missing_side", "empty_price")
NO_PRICE = -1  # cents sentinel: the price field is empty (DataBento UNDEF_PRICE)
SIDE_CODES = np.array(["N", "A", "B"])  # trade side: none, sell aggressor, buy aggressor
VENUES = np.array([20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 31, 32, 33, 34, 35, 36, 37], dtype=np.int64)


@dataclass(frozen=True, eq=False)
class ChainContracts:
    """Contracts listed on a session, sorted by OSI symbol; arrays have one entry per contract."""

    expiries: tuple[date, ...]
    expiry_close_ns: np.ndarray  # per expiry
    expiry_index: np.ndarray  # per contract -> expiries
    strike: np.ndarray
    is_call: np.ndarray
    padded: np.ndarray  # OSI symbols, e.g. 'TSLA  240105C00250000'
    compact: np.ndarray  # e.g. 'TSLA240105C00250000'
    instrument_id: np.ndarray

    def __len__(self) -> int:
        return int(self.strike.shape[0])


def _grid(ref: float, step: float, wing: float, inner_pct: float, band_pct: float) -> np.ndarray:
    inner = (
        np.arange(math.ceil(ref * (1 - inner_pct) / step), math.floor(ref * (1 + inner_pct) / step) + 1)
        * step
    )
    outer = (
        np.arange(math.ceil(ref * (1 - band_pct) / wing), math.floor(ref * (1 + band_pct) / wing) + 1) * wing
    )
    strikes = np.unique(np.round(np.concatenate([inner, outer]), 3))
    return strikes[strikes > 0]


def strikes_for(spec: SymbolSpec, ref_spot: float, dte_days: int) -> np.ndarray:
    """Return the strikes listed for an expiry ``dte_days`` calendar days away."""
    if dte_days <= spec.near_dte_days:
        return _grid(ref_spot, spec.strike_step, spec.wing, spec.inner_band_pct, spec.near_band_pct)
    if spec.far_strikes_each_side is not None:
        atm = round(ref_spot / spec.strike_step) * spec.strike_step
        n = spec.far_strikes_each_side
        return np.round(atm + spec.strike_step * np.arange(-n, n + 1), 3)
    inner = min(spec.inner_band_pct, spec.far_band_pct)
    return _grid(ref_spot, spec.strike_step, spec.wing, inner, spec.far_band_pct)


def list_contracts(spec: SymbolSpec, session: date, ref_spot: float) -> ChainContracts:
    """List the chain of ``session`` around ``ref_spot`` (dollars)."""
    expiries = tuple(listed_expiries(spec.expiry_rule, session))
    exp_idx: list[np.ndarray] = []
    strikes: list[np.ndarray] = []
    calls: list[np.ndarray] = []
    for i, expiry in enumerate(expiries):
        ks = strikes_for(spec, ref_spot, (expiry - session).days)
        for is_call in (True, False):
            exp_idx.append(np.full(ks.shape[0], i, dtype=np.int64))
            strikes.append(ks)
            calls.append(np.full(ks.shape[0], is_call))
    e = np.concatenate(exp_idx)
    k = np.concatenate(strikes)
    c = np.concatenate(calls)
    order = np.lexsort((k, ~c, e))  # OSI order: expiry, C before P, strike
    e, k, c = e[order], k[order], c[order]
    padded = np.array(
        [
            format_occ(
                spec.symbol, expiries[ei], OptionRight.CALL if ci else OptionRight.PUT, ki, padded=True
            )
            for ei, ki, ci in zip(e.tolist(), k.tolist(), c.tolist(), strict=True)
        ],
        dtype=object,
    )
    compact = np.array([s.replace(" ", "") for s in padded], dtype=object)
    ids = np.array([zlib.crc32(s.encode()) & 0x3FFFFFFF for s in padded], dtype=np.int64)
    closes = np.array([expiry_close_ns(x) for x in expiries], dtype=np.int64)
    return ChainContracts(expiries, closes, e, k, c, padded, compact, ids)


@dataclass(frozen=True, eq=False)
class RowBlock:
    """Printed rows of one block, minute-major then contract order.

    ``minute`` indexes the session's minutes: the row's ``ts_recv`` is the END of that
    minute, its ``ts_event`` the minute's start + ``event_sec`` s + ``event_frac[i]`` ns.
    Prices are cents with ``NO_PRICE`` for an empty field.
    """

    minute: np.ndarray
    contract: np.ndarray
    event_sec: np.ndarray
    event_frac_idx: np.ndarray
    bid_c: np.ndarray
    ask_c: np.ndarray
    bid_sz: np.ndarray
    ask_sz: np.ndarray
    bid_pb: np.ndarray
    ask_pb: np.ndarray
    trade_px_c: np.ndarray
    trade_sz: np.ndarray
    trade_side: np.ndarray
    dirty: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.minute.shape[0])


@dataclass
class _Carry:
    bid_c: np.ndarray
    ask_c: np.ndarray
    trade_px_c: np.ndarray
    trade_sz: np.ndarray
    trade_side: np.ndarray


def _shifted(prev: np.ndarray, block: np.ndarray) -> np.ndarray:
    return np.concatenate([prev[None, :], block[:-1]], axis=0)


def _ffill(mask: np.ndarray, values: np.ndarray, carried: np.ndarray) -> np.ndarray:
    rows = np.arange(mask.shape[0])[:, None]
    last = np.maximum.accumulate(np.where(mask, rows, -1), axis=0)
    picked = np.take_along_axis(values, np.maximum(last, 0), axis=0)
    return np.where(last >= 0, picked, carried[None, :])


def simulate_chain(
    spec: SymbolSpec,
    contracts: ChainContracts,
    day: UnderlyingDay,
    rng: np.random.Generator,
    *,
    block_minutes: int = 30,
    frac_table_size: int = 65536,
) -> Iterator[RowBlock]:
    """Yield the session's printed rows in blocks of ``block_minutes`` minutes."""
    n_min = int(day.close.shape[0])
    n_con = len(contracts)
    strike = contracts.strike[None, :]
    is_call = contracts.is_call[None, :]
    close_ns = contracts.expiry_close_ns[contracts.expiry_index][None, :]
    carry = _Carry(
        bid_c=np.full(n_con, -2, dtype=np.int64),
        ask_c=np.full(n_con, -2, dtype=np.int64),
        trade_px_c=np.full(n_con, NO_PRICE, dtype=np.int64),
        trade_sz=np.zeros(n_con, dtype=np.int64),
        trade_side=np.zeros(n_con, dtype=np.int64),
    )
    home_bid = rng.integers(0, VENUES.shape[0], n_con)
    home_ask = rng.integers(0, VENUES.shape[0], n_con)
    for lo in range(0, n_min, block_minutes):
        hi = min(n_min, lo + block_minutes)
        minutes = np.arange(lo, hi)
        ts_recv = day.bar_start_ns[lo:hi] + NS_PER_MIN
        years = np.maximum(close_ns - ts_recv[:, None], NS_PER_MIN) / NS_PER_YEAR
        frac = ((minutes + 1) / n_min)[:, None]
        q = quote_block(
            spec, day.close[lo:hi, None], day.iv_mult[lo:hi, None], years, strike, is_call, frac, rng
        )
        shape = q.bid_c.shape
        changed = (q.bid_c != _shifted(carry.bid_c, q.bid_c)) | (q.ask_c != _shifted(carry.ask_c, q.ask_c))
        size_update = rng.random(shape) < spec.quote_update_rate * (0.4 + 0.6 * q.liquidity)
        traded = (rng.random(shape) < spec.trade_rate * q.liquidity) & (q.ask_c > 1)
        emit = changed | size_update | traded

        side = np.where(rng.random(shape) < 0.5, 2, 1)
        px = np.where((side == 2) | (q.bid_c == 0), q.ask_c, q.bid_c)
        sz = np.minimum(rng.geometric(0.35, shape), 500)
        t_px = _ffill(traded, px, carry.trade_px_c)
        t_sz = _ffill(traded, sz, carry.trade_sz)
        t_side = _ffill(traded, side, carry.trade_side)
        carry = _Carry(q.bid_c[-1], q.ask_c[-1], t_px[-1], t_sz[-1], t_side[-1])

        mi, ki = np.nonzero(emit)
        n = int(mi.shape[0])
        bid_c = q.bid_c[mi, ki]
        ask_c = q.ask_c[mi, ki]
        bid_sz = q.bid_sz[mi, ki]
        ask_sz = q.ask_sz[mi, ki]
        dirty = _inject_dirty(spec, rng, bid_c, ask_c, bid_sz, ask_sz)
        yield RowBlock(
            minute=mi + lo,
            contract=ki,
            event_sec=rng.integers(0, 60, n),
            event_frac_idx=rng.integers(0, frac_table_size, n),
            bid_c=bid_c,
            ask_c=ask_c,
            bid_sz=bid_sz,
            ask_sz=ask_sz,
            bid_pb=_venues(rng, home_bid[ki]),
            ask_pb=_venues(rng, home_ask[ki]),
            trade_px_c=t_px[mi, ki],
            trade_sz=t_sz[mi, ki],
            trade_side=t_side[mi, ki],
            dirty=dirty,
        )


def _venues(rng: np.random.Generator, home: np.ndarray) -> np.ndarray:
    """The venue at the best price: usually the contract's home venue, sometimes another."""
    away = rng.random(home.shape[0]) < 0.2
    idx = np.where(away, rng.integers(0, VENUES.shape[0], home.shape[0]), home)
    return VENUES[idx]


def _inject_dirty(
    spec: SymbolSpec,
    rng: np.random.Generator,
    bid_c: np.ndarray,
    ask_c: np.ndarray,
    bid_sz: np.ndarray,
    ask_sz: np.ndarray,
) -> dict[str, int]:
    """Spoil ``spec.dirty_rate`` of the rows in place; return how many of each kind."""
    n = int(bid_c.shape[0])
    hit = np.nonzero(rng.random(n) < spec.dirty_rate)[0]
    kinds = rng.integers(0, len(DIRTY_KINDS), hit.shape[0])
    counts: dict[str, int] = {}
    for code, name in enumerate(DIRTY_KINDS):
        rows = hit[kinds == code]
        counts[name] = int(rows.shape[0])
        if rows.shape[0] == 0:
            continue
        if name == "zero_bid":
            bid_c[rows] = 0
            bid_sz[rows] = 0
        elif name == "crossed":
            bid_c[rows] = ask_c[rows] + tick_cents(ask_c[rows], spec.penny_all)
        elif name == "missing_side":
            on_bid = rng.random(rows.shape[0]) < 0.5
            bid_c[rows[on_bid]] = NO_PRICE
            bid_sz[rows[on_bid]] = 0
            ask_c[rows[~on_bid]] = NO_PRICE
            ask_sz[rows[~on_bid]] = 0
        else:  # empty_price: the prices are missing, the sizes are not
            bid_c[rows] = NO_PRICE
            ask_c[rows] = NO_PRICE
    return counts
