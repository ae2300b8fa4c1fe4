"""Column contracts shared by the readers, the catalog and the Backtrader feeds.

Quotes (``read_cbbo`` output and catalog days)
    ts            datetime64[ns, UTC]  the minute the quote stands for: DataBento
                                       ``ts_recv``, the END of the 1-minute interval
    symbol        str                  compact OCC, e.g. ``TSLA240105C00250000``
    underlying    str                  the underlying (``SPXW`` roots map to ``SPX``)
    expiry        date (object) / date32 in Parquet
    option_type   str                  ``'C'`` or ``'P'``
    strike        float64              dollars
    bid_px/ask_px float64              dollars
    bid_sz/ask_sz int64                contracts (0 when unknown)

Catalog quote days add ``quote_age_min`` (int16): minutes since the contract's
quote last changed in the source (0 = a row for this very minute). Rows are
sorted by ``ts`` then ``symbol``.

Bars (``read_bars`` output and catalog bar days)
    ts            datetime64[ns, UTC]  the START of the bar's minute (DataBento
                                       ``ohlcv-1m`` convention). The bar starting at
                                       09:30 closes at 09:31, the same instant as the
                                       quote row with ``ts`` 09:31.
    open, high, low, close  float64
    volume        float64              NaN when the series has no volume (parity-derived)
"""

from __future__ import annotations

import pyarrow as pa

QUOTE_COLUMNS: tuple[str, ...] = (
    "ts",
    "symbol",
    "underlying",
    "expiry",
    "option_type",
    "strike",
    "bid_px",
    "ask_px",
    "bid_sz",
    "ask_sz",
)

BAR_COLUMNS: tuple[str, ...] = ("ts", "open", "high", "low", "close", "volume")

CATALOG_QUOTE_SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("ns", tz="UTC")),
        ("symbol", pa.string()),
        ("underlying", pa.string()),
        ("expiry", pa.date32()),
        ("option_type", pa.string()),
        ("strike", pa.float64()),
        ("bid_px", pa.float64()),
        ("ask_px", pa.float64()),
        ("bid_sz", pa.int64()),
        ("ask_sz", pa.int64()),
        ("quote_age_min", pa.int16()),
    ]
)

CATALOG_BAR_SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("ns", tz="UTC")),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("volume", pa.float64()),
    ]
)

# Why a quote row was dropped from what is tradable (counted per kind).
DROP_REASONS: tuple[str, ...] = (
    "bad_symbol",
    "nan_price",
    "missing_side",
    "zero_or_negative_bid",
    "crossed",
    "duplicate",
    "out_of_order",
    "bad_row",  # a line that does not split into the header's columns, or has no ts_recv
)

# Why an underlying bar was dropped (counted per kind and day; the day trades on without it).
BAR_DROP_REASONS: tuple[str, ...] = ("nan_price", "non_positive", "high_below_low")
