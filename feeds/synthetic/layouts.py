"""Column layouts of the files written, and arrow tables in those layouts."""

from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from feeds.synthetic.chain import SIDE_CODES, ChainContracts, RowBlock
from feeds.synthetic.underlying import UnderlyingDay
from feeds.synthetic.writer import DayClock, price_column, ts_column

DATABENTO_CBBO_COLUMNS: tuple[str, ...] = (
    "ts_recv", "ts_event", "rtype", "publisher_id", "instrument_id", "side", "price", "size", "flags",
    "bid_px_00", "ask_px_00", "bid_sz_00", "ask_sz_00", "bid_pb_00", "ask_pb_00", "symbol",
)  # fmt: skip
SEED_CBBO_COLUMNS: tuple[str, ...] = (
    "ts_recv", "ts_event", "symbol", "bid_px", "ask_px", "bid_sz", "ask_sz", "bid_ct", "ask_ct",
)  # fmt: skip
OHLCV_COLUMNS: tuple[str, ...] = (
    "ts_event", "rtype", "publisher_id", "instrument_id", "open", "high", "low", "close", "volume", "symbol",
)  # fmt: skip
STATISTICS_COLUMNS: tuple[str, ...] = (
    "ts_recv", "ts_event", "rtype", "publisher_id", "instrument_id", "ts_ref", "price", "quantity",
    "sequence", "ts_in_delta", "stat_type", "channel_id", "update_action", "stat_flags", "symbol",
)  # fmt: skip

RTYPE_OHLCV_1M = 33
RTYPE_CBBO_1M = 193
RTYPE_STATISTICS = 24
OPRA_PUBLISHER = 30  # OPRA.PILLAR consolidated
EQUITY_PUBLISHER = 2  # XNAS.ITCH
STAT_CLEARED_VOLUME = 6
STAT_OPEN_INTEREST = 9


def underlying_instrument_id(symbol: str) -> int:
    return zlib.crc32(symbol.encode()) & 0xFFFF


def _const(value: int, n: int) -> pa.Array:
    return pa.array(np.full(n, value, dtype=np.int64), type=pa.int64())


def _order_count(size: np.ndarray) -> np.ndarray:
    return np.where(size > 0, np.minimum(size, 1 + size // 20), 0)


def cbbo_table(
    rows: RowBlock, contracts: ChainContracts, clock: DayClock, layout: str, price_format: str
) -> pa.Table:
    """Rows of a block in the DataBento ``cbbo-1m`` layout or the seed's 9-column layout."""
    n = len(rows)
    recv = clock.recv(rows.minute)
    event = clock.event(rows.minute, rows.event_sec, rows.event_frac_idx)
    if layout == "seed":
        symbols = pa.array(contracts.compact, type=pa.string())
        return pa.table(
            {
                "ts_recv": recv,
                "ts_event": event,
                "symbol": pc.take(symbols, pa.array(rows.contract)),
                "bid_px": price_column(rows.bid_c, price_format, decimals=2),
                "ask_px": price_column(rows.ask_c, price_format, decimals=2),
                "bid_sz": pa.array(rows.bid_sz),
                "ask_sz": pa.array(rows.ask_sz),
                "bid_ct": pa.array(_order_count(rows.bid_sz)),
                "ask_ct": pa.array(_order_count(rows.ask_sz)),
            }
        )
    symbols = pa.array(contracts.padded, type=pa.string())
    return pa.table(
        {
            "ts_recv": recv,
            "ts_event": event,
            "rtype": _const(RTYPE_CBBO_1M, n),
            "publisher_id": _const(OPRA_PUBLISHER, n),
            "instrument_id": pa.array(contracts.instrument_id[rows.contract]),
            "side": pc.take(pa.array(SIDE_CODES), pa.array(rows.trade_side)),
            "price": price_column(rows.trade_px_c, price_format),
            "size": pa.array(rows.trade_sz),
            "flags": _const(0, n),
            "bid_px_00": price_column(rows.bid_c, price_format),
            "ask_px_00": price_column(rows.ask_c, price_format),
            "bid_sz_00": pa.array(rows.bid_sz),
            "ask_sz_00": pa.array(rows.ask_sz),
            "bid_pb_00": pa.array(rows.bid_pb),
            "ask_pb_00": pa.array(rows.ask_pb),
            "symbol": pc.take(symbols, pa.array(rows.contract)),
        }
    )


def bars_table(symbol: str, day: UnderlyingDay, ts_format: str, price_format: str) -> pa.Table:
    """The session's ``ohlcv-1m`` bars (minutes without trades are left out)."""
    keep = day.has_bar
    n = int(keep.sum())

    def px(values: np.ndarray) -> pa.Array:
        return price_column(np.round(values[keep] * 100).astype(np.int64), price_format)

    return pa.table(
        {
            "ts_event": ts_column(day.bar_start_ns[keep], ts_format),
            "rtype": _const(RTYPE_OHLCV_1M, n),
            "publisher_id": _const(EQUITY_PUBLISHER, n),
            "instrument_id": _const(underlying_instrument_id(symbol), n),
            "open": px(day.open),
            "high": px(day.high),
            "low": px(day.low),
            "close": px(day.close),
            "volume": pa.array(day.volume[keep]),
            "symbol": pa.array([symbol] * n, type=pa.string()),
        }
    )
