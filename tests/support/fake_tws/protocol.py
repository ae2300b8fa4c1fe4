"""The TWS socket protocol at server version 176, server side: framing and the messages we send.

Framing: a 4-byte big-endian length, then NUL-terminated fields. The field layouts are the
ones ``ib_async/decoder.py`` (and ib_insync 0.9.86's) parse at v176; a wrong count fails
silently in the client, so the tests assert on the client's events.
"""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

SERVER_VERSION = 176
UNSET_DOUBLE = 1.7976931348623157e308


def fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(value) if abs(value) >= 1e15 else repr(round(value, 8))
    return str(value)


def frame(fields: Iterable[Any]) -> bytes:
    payload = b"".join(fmt(f).encode() + b"\0" for f in fields)
    return struct.pack(">I", len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> list[str]:
    head = await reader.readexactly(4)
    (n,) = struct.unpack(">I", head)
    data = await reader.readexactly(n)
    fields = data.decode(errors="backslashreplace").split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


@dataclass(frozen=True)
class FakeContract:
    """One instrument the fake lists (an underlying or an option)."""

    con_id: int
    symbol: str
    sec_type: str  # STK, IND, OPT
    exchange: str = "SMART"
    currency: str = "USD"
    expiry: str = ""  # YYYYMMDD for options
    strike: float = 0.0
    right: str = ""  # C / P
    multiplier: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    occ: str = ""  # compact OCC symbol (options)
    primary_exchange: str = ""

    def fields11(self, exchange: str | None = None) -> list[Any]:
        """conId, symbol, secType, lastTradeDate, strike, right, multiplier, exchange, currency, localSymbol, tradingClass."""
        return [
            self.con_id,
            self.symbol,
            self.sec_type,
            self.expiry,
            self.strike if self.sec_type == "OPT" else 0.0,
            self.right,
            self.multiplier,
            self.exchange if exchange is None else exchange,
            self.currency,
            self.local_symbol,
            self.trading_class,
        ]


@dataclass(frozen=True)
class RequestContract:
    """The contract(12) block a client sends: conId, symbol, secType, ..., tradingClass."""

    con_id: int
    symbol: str
    sec_type: str
    expiry: str
    strike: float
    right: str
    multiplier: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str
    trading_class: str

    @classmethod
    def take(cls, fields: list[str], at: int) -> tuple[RequestContract, int]:
        f = fields[at : at + 12]
        strike = float(f[4]) if f[4] else 0.0
        right = {"CALL": "C", "PUT": "P"}.get(f[5].upper(), f[5].upper()[:1])
        return cls(
            int(f[0] or 0), f[1], f[2], f[3], strike, right, f[6], f[7], f[8], f[9], f[10], f[11]
        ), at + 12


def contract_details(
    req_id: int,
    c: FakeContract,
    *,
    long_name: str = "",
    liquid_hours: str = "",
    under_con_id: int = 0,
    under_symbol: str = "",
    under_sec_type: str = "",
) -> list[Any]:
    """contractDetails (10) at v>=164: no version field."""
    min_tick = 0.01 if c.sec_type != "OPT" or c.trading_class not in ("SPX", "SPXW") else 0.05
    return [
        10,
        req_id,
        c.symbol,
        c.sec_type,
        c.expiry,
        c.strike if c.sec_type == "OPT" else 0.0,
        c.right,
        c.exchange,
        c.currency,
        c.local_symbol,
        c.trading_class or c.symbol,
        c.trading_class,
        c.con_id,
        min_tick,
        c.multiplier,
        "LMT,MKT",
        "SMART,CBOE" if c.sec_type != "STK" else "SMART,ARCA,NYSE",
        1,
        under_con_id,
        long_name or c.symbol,
        c.primary_exchange,
        c.expiry[:6],
        "",
        "",
        "",
        "US/Eastern",
        liquid_hours,
        liquid_hours,
        "",
        "",
        0,  # evRule, evMultiplier, numSecIds
        1,
        under_symbol,
        under_sec_type,
        "26" if c.sec_type == "OPT" else "",
        c.expiry,
        "",
        1,
        1,
        1,
    ]


def order_status(
    order_id: int,
    status: str,
    filled: float,
    remaining: float,
    avg: float,
    perm_id: int,
    last: float,
    client_id: int,
) -> list[Any]:
    """orderStatus (3): no version field at v176."""
    return [3, order_id, status, filled, remaining, avg, perm_id, 0, last, client_id, "", 0.0]


def open_order(
    order_id: int,
    c: FakeContract,
    *,
    action: str,
    qty: float,
    lmt: float,
    tif: str,
    account: str,
    order_ref: str,
    client_id: int,
    perm_id: int,
    status: str,
) -> list[Any]:
    """openOrder (5) at v176 (faProfile still present below 177); no combo, algo or conditions."""
    head: list[Any] = [
        5,
        order_id,
        *c.fields11(),
        action,
        qty,
        "LMT",
        lmt,
        "",
        tif,
        "",
        account,
        "O",
        0,
        order_ref,
        client_id,
        perm_id,
        0,
        0,
        0.0,
        "",
        "",
        "",
        "",
        "",
        "",
    ]
    # modelCode .. deltaNeutralAuxPrice (29 fields)
    mid: list[Any] = [
        "",
        "",
        "",
        "",
        "",
        0,
        "",
        "",
        0,
        "",
        "",
        "",
        "",
        "",
        "",
        0,
        0,
        0,
        "",
        0,
        0,
        0,
        0,
        0,
        0,
        "",
        0,
        "",
        "",
    ]
    tail: list[Any] = [0, 0, "", "", "", 0, ""]  # continuousUpdate .. comboLegsDescrip
    tail += [0, 0, 0]  # combo legs, order combo legs, smart combo routing params
    tail += ["", "", ""]  # scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
    tail += [""]  # hedgeType
    tail += [0, "", "", 0, 0]  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld, dncPresent
    tail += [""]  # algoStrategy
    tail += (
        [0, 0, status] + [""] * 9 + ["", "", "", "", ""] + [0, 0]
    )  # solicited, whatIf, state..., randomize*
    tail += [0]  # conditions
    tail += [
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        0,
        0,
        "",
        0,
    ]  # adjustedOrderType .. usePriceMgmtAlgo
    tail += ["", 0, 0]  # duration, postToAts, autoCancelParent
    tail += ["", "", "", "", ""]  # minTradeQty .. midOffsetAtHalf
    return head + mid + tail


def exec_details(
    req_id: int,
    order_id: int,
    c: FakeContract,
    *,
    exec_id: str,
    time_utc: str,
    account: str,
    side: str,
    shares: float,
    price: float,
    perm_id: int,
    client_id: int,
    cum_qty: float,
    avg_price: float,
    order_ref: str,
) -> list[Any]:
    """execDetails (11): reqId (-1 live), orderId, contract(11), execId, time, account, exchange, side, ..."""
    return [
        11,
        req_id,
        order_id,
        *c.fields11(exchange="CBOE"),
        exec_id,
        time_utc,
        account,
        "CBOE",
        side,
        shares,
        price,
        perm_id,
        client_id,
        0,
        cum_qty,
        avg_price,
        order_ref,
        "",
        "",
        "",
        2,
    ]


def commission_report(exec_id: str, commission: float, realized: float | None = None) -> list[Any]:
    return [
        59,
        1,
        exec_id,
        commission,
        "USD",
        realized if realized is not None else UNSET_DOUBLE,
        UNSET_DOUBLE,
        "",
    ]


def error(req_id: int, code: int, text: str) -> list[Any]:
    return [4, 2, req_id, code, text, ""]


def sec_def_param(
    req_id: int,
    exchange: str,
    under_con_id: int,
    trading_class: str,
    expiries: Sequence[str],
    strikes: Sequence[float],
) -> list[Any]:
    return [
        75,
        req_id,
        exchange,
        under_con_id,
        trading_class,
        "100",
        len(expiries),
        *expiries,
        len(strikes),
        *strikes,
    ]


__all__ = [
    "SERVER_VERSION",
    "FakeContract",
    "RequestContract",
    "commission_report",
    "contract_details",
    "error",
    "exec_details",
    "fmt",
    "frame",
    "order_status",
    "read_frame",
    "sec_def_param",
]
