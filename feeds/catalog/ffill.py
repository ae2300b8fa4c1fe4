"""Forward-fill sparse CBBO-1m rows onto the session's minute grid, vectorized.

A contract whose quote did not change in a minute has no row in the source.
The catalog stores one row per contract per minute, from the contract's first
quote of the session to the close, each carrying the last known quote and
``quote_age_min`` (minutes since that quote; 0 = a real row this minute).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from feeds.schema import CATALOG_QUOTE_SCHEMA, QUOTE_COLUMNS

NS_PER_MINUTE = 60_000_000_000


def empty_quotes() -> pa.Table:
    return CATALOG_QUOTE_SCHEMA.empty_table()


def minute_index(ts: pa.ChunkedArray | pa.Array, open_ns: int) -> np.ndarray:
    """Return the grid minute of each ``ts`` (1 = the minute ending at open + 1 min).

    A row stamped between grid points stands for the minute that ends at the next
    grid point (ceil), matching DataBento's ``ts_recv`` = end of the interval.
    """
    ns = pc.cast(ts, pa.int64()).to_numpy(zero_copy_only=False)
    return -((open_ns - ns) // NS_PER_MINUTE)  # ceil((ns - open) / 1 min)


def forward_fill(quotes: pa.Table, open_ns: int, close_ns: int) -> pa.Table:
    """Return ``quotes`` filled onto the minute grid (open, close], sorted by ts then symbol.

    ``quotes`` has the :data:`QUOTE_COLUMNS`; rows outside (open, close] are
    ignored; when a contract has two rows in one minute the later row wins.
    The result has :data:`CATALOG_QUOTE_SCHEMA`.
    """
    n_minutes = int((close_ns - open_ns) // NS_PER_MINUTE)
    if quotes.num_rows == 0 or n_minutes <= 0:
        return empty_quotes()
    quotes = quotes.select(list(QUOTE_COLUMNS))
    minute = minute_index(quotes["ts"], open_ns)
    inside = (minute >= 1) & (minute <= n_minutes)
    if not inside.all():
        quotes = quotes.filter(pa.array(inside))
        minute = minute[inside]
        if quotes.num_rows == 0:
            return empty_quotes()

    # Contract codes in symbol order, so that code order == symbol order.
    encoded = pc.dictionary_encode(quotes["symbol"]).combine_chunks()
    dictionary = encoded.dictionary
    rank = np.empty(len(dictionary), dtype=np.int64)
    rank[pc.array_sort_indices(dictionary).to_numpy()] = np.arange(len(dictionary))
    code = rank[encoded.indices.to_numpy()]

    # Sort by (contract, minute); keep the last row of a duplicated (contract, minute).
    key = code * (n_minutes + 1) + minute
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = key_sorted[1:] != key_sorted[:-1]
    order = order[last]
    c_sorted = code[order]
    m_sorted = minute[order]

    # Each contract spans [first minute, n_minutes] on the grid.
    starts = np.flatnonzero(np.r_[True, c_sorted[1:] != c_sorted[:-1]])
    first_minute = m_sorted[starts]
    counts = n_minutes - first_minute + 1
    offsets = np.r_[0, np.cumsum(counts)[:-1]]
    total = int(counts.sum())
    contract_of_row = np.repeat(np.arange(len(starts)), counts)

    # Place each real row on its grid slot, then carry it forward. The first slot of
    # every contract holds a real row, so a running maximum never crosses contracts.
    slot = offsets[np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(order)]))]
    slot += m_sorted - np.repeat(first_minute, np.diff(np.r_[starts, len(order)]))
    filled = np.full(total, -1, dtype=np.int64)
    filled[slot] = np.arange(len(order))
    np.maximum.accumulate(filled, out=filled)
    out_minute = np.arange(total) - offsets[contract_of_row] + first_minute[contract_of_row]
    age = out_minute - m_sorted[filled]

    # Grid rows are grouped by contract (in symbol order): a stable sort on the
    # minute yields ts-then-symbol order.
    perm = np.argsort(out_minute, kind="stable")
    source_row = order[filled[perm]]
    out = quotes.take(pa.array(source_row))
    ts = pa.array(open_ns + out_minute[perm] * NS_PER_MINUTE, type=pa.int64()).cast(
        CATALOG_QUOTE_SCHEMA.field("ts").type
    )
    out = out.set_column(0, "ts", ts)
    out = out.append_column("quote_age_min", pa.array(np.minimum(age[perm], 32767).astype(np.int16)))
    return out.cast(CATALOG_QUOTE_SCHEMA)
