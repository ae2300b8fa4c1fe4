"""A session's DataBento ``statistics`` rows: open interest and cleared volume per contract.

Both are published before the open (06:30 ET) and refer to the previous session.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from feeds.synthetic.chain import NO_PRICE, ChainContracts
from feeds.synthetic.layouts import (
    OPRA_PUBLISHER,
    RTYPE_STATISTICS,
    STAT_CLEARED_VOLUME,
    STAT_OPEN_INTEREST,
    STATISTICS_COLUMNS,
)
from feeds.synthetic.pricing import atm_vol
from feeds.synthetic.sessions import NS_PER_YEAR, previous_session, session_bounds_ns
from feeds.synthetic.spec import SymbolSpec
from feeds.synthetic.writer import price_column, ts_column

_PUBLISH_BEFORE_OPEN_NS = 3 * 3600 * 1_000_000_000


def open_interest_and_volume(
    spec: SymbolSpec, contracts: ChainContracts, session: date, ref_spot: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return plausible (open interest, previous-day cleared volume) per contract."""
    open_ns, _ = session_bounds_ns(session)
    years = np.maximum(contracts.expiry_close_ns[contracts.expiry_index] - open_ns, 60e9) / NS_PER_YEAR
    atm = atm_vol(spec, years)
    z = np.log(contracts.strike / ref_spot) / (atm * np.sqrt(years))
    liquidity = np.exp(-0.5 * (z / 2.5) ** 2)
    round_strike = np.isclose(np.mod(contracts.strike, spec.wing * 2), 0.0) * 0.8 + 1.0
    dte = np.array([(e - session).days for e in contracts.expiries])[contracts.expiry_index]
    monthly = np.array([15 <= e.day <= 21 and e.weekday() >= 3 for e in contracts.expiries])[
        contracts.expiry_index
    ]
    dte_factor = np.where(monthly, 2.0, 1.0) * np.where(dte <= 2, 0.8, 1.0)
    n = len(contracts)
    oi = spec.open_interest_base * (0.02 + liquidity) * round_strike * dte_factor * rng.lognormal(0.0, 0.6, n)
    turnover = np.where(dte <= 1, 1.2, 0.3) * rng.uniform(0.3, 1.2, n)
    volume = oi * turnover * (0.05 + liquidity)
    return np.round(oi).astype(np.int64), np.round(volume).astype(np.int64)


def statistics_table(
    spec: SymbolSpec,
    contracts: ChainContracts,
    session: date,
    ref_spot: float,
    rng: np.random.Generator,
    ts_format: str,
    price_format: str,
) -> pa.Table:
    """Open interest (stat_type 9) then cleared volume (stat_type 6) for every contract."""
    oi, volume = open_interest_and_volume(spec, contracts, session, ref_spot, rng)
    n = len(contracts)
    open_ns, _ = session_bounds_ns(session)
    publish = open_ns - _PUBLISH_BEFORE_OPEN_NS
    recv = publish + np.arange(2 * n, dtype=np.int64) * 1_000  # one microsecond apart
    event = recv - rng.integers(50_000, 400_000, 2 * n)
    ref_ns = session_bounds_ns(previous_session(session))[1]
    ids = np.concatenate([contracts.instrument_id, contracts.instrument_id])
    stat = np.concatenate([np.full(n, STAT_OPEN_INTEREST), np.full(n, STAT_CLEARED_VOLUME)])
    table = pa.table(
        {
            "ts_recv": ts_column(recv, ts_format),
            "ts_event": ts_column(event, ts_format),
            "rtype": pa.array(np.full(2 * n, RTYPE_STATISTICS)),
            "publisher_id": pa.array(np.full(2 * n, OPRA_PUBLISHER)),
            "instrument_id": pa.array(ids),
            "ts_ref": ts_column(np.full(2 * n, ref_ns), ts_format),
            "price": price_column(np.full(2 * n, NO_PRICE), price_format),
            "quantity": pa.array(np.concatenate([oi, volume])),
            "sequence": pa.array(np.arange(1, 2 * n + 1)),
            "ts_in_delta": pa.array(np.zeros(2 * n, dtype=np.int64)),
            "stat_type": pa.array(stat),
            "channel_id": pa.array(ids % 96),
            "update_action": pa.array(np.ones(2 * n, dtype=np.int64)),
            "stat_flags": pa.array(np.zeros(2 * n, dtype=np.int64)),
            "symbol": pa.array(np.concatenate([contracts.padded, contracts.padded]), type=pa.string()),
        }
    )
    assert tuple(table.column_names) == STATISTICS_COLUMNS
    return table
