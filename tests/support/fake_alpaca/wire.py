"""Alpaca's wire payloads (JSON for REST and trade updates, msgpack frames for market data).

Exactly the fields alpaca-py's pydantic models require (``Order``, ``TradeUpdate``,
``Position``, ``TradeAccount``, ``Clock``, ``Bar``, ``Quote``, ``OptionsSnapshot``,
``OptionContract``) and the daily bars Alpaca adds to an option snapshot, with
the value types Alpaca sends (numbers as strings in trading payloads, RFC 3339 stamps, a
msgpack ``Timestamp`` extension for ``t`` on the data streams).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

import msgpack

from brokers.live.venue import AccountReport, LiveBar, OptionQuote, PositionReport, VenueClock
from options_scalper.calendar import previous_session
from options_scalper.eastern import ET
from options_scalper.occ import parse_occ

_NS = uuid.UUID("5f0a1ca0-0000-4000-8000-00000000a1ca")


def uid(*parts: object) -> str:
    """A stable UUID for a fake object (orders, executions, assets)."""
    return str(uuid.uuid5(_NS, "/".join(str(p) for p in parts)))


def stamp(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(text: str) -> datetime:
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def money(x: float | None) -> str | None:
    return None if x is None else f"{x:.4f}".rstrip("0").rstrip(".")


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"code": status * 100000 + 10000, "message": message}


def account(a: AccountReport, *, options_level: int, account_number: str) -> dict[str, Any]:
    return {
        "id": uid("account", account_number),
        "account_number": account_number,
        "status": "ACTIVE",
        "crypto_status": "INACTIVE",
        "currency": a.currency,
        "cash": money(a.cash),
        "buying_power": money(a.buying_power),
        "regt_buying_power": money(a.buying_power),
        "options_buying_power": money(a.buying_power),
        "non_marginable_buying_power": money(a.buying_power),
        "equity": money(a.equity),
        "last_equity": money(a.equity),
        "portfolio_value": money(a.equity),
        "multiplier": "1",
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "shorting_enabled": False,
        "daytrade_count": 0,
        "options_approved_level": options_level,
        "options_trading_level": options_level,
        "created_at": "2024-01-01T00:00:00Z",
    }


def clock(c: VenueClock) -> dict[str, Any]:
    return {
        "timestamp": stamp(c.now),
        "is_open": c.is_open,
        "next_open": stamp(c.next_open),
        "next_close": stamp(c.next_close),
    }


def position(p: PositionReport, mark: float | None) -> dict[str, Any]:
    qty = abs(p.qty)
    price = p.avg_price if mark is None else mark
    return {
        "asset_id": uid("asset", p.symbol),
        "symbol": p.symbol,
        "exchange": "",
        "asset_class": "us_option" if p.asset_class == "option" else "us_equity",
        "asset_marginable": False,
        "avg_entry_price": money(p.avg_price),
        "qty": str(p.qty),
        "qty_available": str(p.qty),
        "side": "long" if p.qty >= 0 else "short",
        "market_value": money(qty * price * 100),
        "cost_basis": money(qty * p.avg_price * 100),
        "unrealized_pl": money(qty * (price - p.avg_price) * 100),
        "current_price": money(price),
    }


def bar_json(b: LiveBar) -> dict[str, Any]:
    return {"t": stamp(b.start), "o": b.open, "h": b.high, "l": b.low, "c": b.close, "v": b.volume,
            "n": 0, "vw": b.close}  # fmt: skip


def quote_json(q: OptionQuote) -> dict[str, Any]:
    return {"t": stamp(q.ts), "bx": "C", "bp": q.bid, "bs": q.bid_size, "ax": "C", "ap": q.ask,
            "as": q.ask_size, "c": "A"}  # fmt: skip


def snapshot_json(q: OptionQuote, session: date | None = None) -> dict[str, Any]:
    """A chain snapshot; with ``session``, the ``dailyBar`` of the session before it carrying the
    quote's (previous session's) volume: with no trades replayed, that day is the contract's latest
    trading day (no bar when it did not trade). The fake has no trade prices: the bar's are the mid."""
    out: dict[str, Any] = {"latestQuote": quote_json(q)}
    if session is not None and q.volume:
        day = datetime.combine(previous_session(session), time(0), tzinfo=ET)
        mid = round((q.bid + q.ask) / 2.0, 4) if q.bid > 0 and q.ask > 0 else max(q.bid, q.ask, 0.0)
        out["dailyBar"] = {"t": stamp(day), "o": mid, "h": mid, "l": mid, "c": mid, "v": int(q.volume),
                           "n": 1, "vw": mid}  # fmt: skip
    if q.iv is not None:
        out["impliedVolatility"] = q.iv
    greeks = (q.delta, q.gamma, q.theta, q.vega)
    if all(g is not None for g in greeks):  # alpaca-py needs all five or none (no rho here: 0)
        out["greeks"] = {"delta": q.delta, "gamma": q.gamma, "rho": 0.0, "theta": q.theta, "vega": q.vega}
    return out


def option_contract_json(
    symbol: str, open_interest: float | None, session: date, *, stale: bool = False
) -> dict[str, Any]:
    """One contract of ``GET /v2/options/contracts`` (numbers as strings, as Alpaca sends them); its
    open interest is dated the session before ``session`` (what the exchange published overnight),
    ``stale``: the session before that (the listing not updated yet)."""
    occ = parse_occ(symbol)
    right = "call" if occ.right.value == "C" else "put"
    known = open_interest is not None
    dated = previous_session(previous_session(session) if stale else session)
    return {
        "id": uid("contract", occ.compact),
        "symbol": occ.compact,
        "name": f"{occ.underlying} {occ.expiry:%b %d %Y} {occ.strike:g} {right.title()}",
        "status": "active",
        "tradable": True,
        "expiration_date": occ.expiry.isoformat(),
        "root_symbol": occ.root,
        "underlying_symbol": occ.underlying,
        "underlying_asset_id": uid("asset", occ.underlying),
        "type": right,
        "style": "american",
        "strike_price": money(occ.strike),
        "multiplier": "100",
        "size": "100",
        "open_interest": str(int(open_interest)) if known else None,
        "open_interest_date": dated.isoformat() if known else None,
        "close_price": None,  # no trades replayed
        "close_price_date": None,
    }


def _ts_ext(ts: datetime) -> msgpack.Timestamp:
    return msgpack.Timestamp.from_unix_nano(round(ts.timestamp() * 1e9))


def bar_frame(b: LiveBar) -> dict[str, Any]:
    return {"T": "b", "S": b.symbol, "o": b.open, "h": b.high, "l": b.low, "c": b.close,
            "v": b.volume, "n": 0, "vw": b.close, "t": _ts_ext(b.start)}  # fmt: skip


def quote_frame(q: OptionQuote) -> dict[str, Any]:
    return {"T": "q", "S": q.option_symbol, "bx": "C", "bp": q.bid, "bs": q.bid_size, "ax": "C",
            "ap": q.ask, "as": q.ask_size, "c": "A", "t": _ts_ext(q.ts)}  # fmt: skip


def pack(frames: list[dict[str, Any]]) -> bytes:
    return msgpack.packb(frames, datetime=False)


def unpack(data: bytes | str) -> Any:
    return msgpack.unpackb(data if isinstance(data, bytes) else data.encode())


__all__ = [
    "account", "bar_frame", "bar_json", "clock", "error_body", "money", "option_contract_json", "pack", "parse_stamp",
    "position", "quote_frame", "quote_json", "snapshot_json", "stamp", "uid", "unpack",
]  # fmt: skip
