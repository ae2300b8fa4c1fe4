"""The fake's REST routes: one function per Alpaca path, answering from the replay market and the book."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from brokers.live.venue import ChainRequest, OrderRequest
from options_scalper.calendar import next_session, session_open_close, to_eastern
from options_scalper.occ import InvalidSymbolError, parse_occ
from tests.support.fake_alpaca import wire
from tests.support.fake_alpaca.rest import Reply, page

if TYPE_CHECKING:
    from tests.support.fake_alpaca.server import FakeAlpaca

_ORDER_ID = re.compile(r"^/v2/orders/([0-9a-f-]{36})$")


def route(fake: FakeAlpaca, method: str, path: str, q: dict[str, str], body: dict[str, Any]) -> Any:
    m = fake.market
    if method == "GET" and path == "/v2/account":
        level = 0 if fake.faults.no_options else 2
        a = m.account()
        number = f"6{a.account_number.removeprefix('PA')}" if fake.faults.real_money else a.account_number
        return wire.account(a, options_level=level, account_number=number)
    if method == "GET" and path == "/v2/clock":
        return wire.clock(m.clock())
    if method == "GET" and path == "/v2/calendar":
        return _calendar(q, m.day)
    if method == "GET" and path == "/v2/positions":
        return [wire.position(p, _mid(fake, p.symbol)) for p in m.positions()]
    if path == "/v2/orders":
        if method == "POST":
            return fake.submit(body)
        if method == "DELETE":
            return [_cancel_one(fake, o.id) for o in fake.book.listed("open")]
        orders = fake.book.listed(q.get("status", "open"))
        return [o.json() for o in orders[: int(q.get("limit") or 50)]]
    if method == "GET" and path == "/v2/orders:by_client_order_id":
        order = fake.book.by_client_id(q.get("client_order_id", ""))
        if order is None:
            raise Reply(404, {"code": 40410000, "message": "order not found"})
        return order.json()
    hit = _ORDER_ID.match(path)
    if hit and method in ("GET", "DELETE"):
        order = fake.book.orders.get(hit.group(1))
        if order is None:
            raise Reply(404, {"code": 40410000, "message": "order not found"})
        if method == "GET":
            return order.json()
        if not order.open:
            raise Reply(
                422, {"code": 42210000, "message": f"order is not cancelable (status {order.status})"}
            )
        fake.market.cancel(order.market_id or "")
        return None
    if method == "GET" and path == "/v2/options/contracts":
        return _contracts(fake, q)
    if method == "GET" and path == "/v2/stocks/bars":
        return _bars(fake, q)
    if method == "GET" and path.startswith("/v1beta1/options/snapshots/"):
        return _chain(fake, path.rsplit("/", 1)[1], q)
    if method == "GET" and path == "/v1beta1/options/snapshots":
        quotes = [(s, m.quote(s)) for s in _symbols(q)]
        return {
            "snapshots": {s: wire.snapshot_json(x) for s, x in quotes if x is not None},
            "next_page_token": None,
        }
    if method == "GET" and path == "/v1beta1/options/quotes/latest":
        quotes = [(s, m.quote(s)) for s in _symbols(q)]
        return {"quotes": {s: wire.quote_json(x) for s, x in quotes if x is not None}}
    raise Reply(404, {"code": 40410000, "message": f"endpoint not found: {method} {path}"})


def order_request(body: dict[str, Any]) -> OrderRequest:
    """Alpaca's checks for a single-leg option order (what this fake supports: day limits)."""
    symbol = str(body.get("symbol") or "")
    try:
        parse_occ(symbol)
    except InvalidSymbolError:
        raise Reply(422, message=f"asset {symbol!r} not found") from None
    if " " in symbol:
        raise Reply(422, message=f"asset {symbol!r} not found (use the compact OCC symbol)")
    if body.get("type") != "limit":
        raise Reply(422, message="this fake takes limit orders only")
    if body.get("time_in_force") != "day":
        raise Reply(422, message="options orders must be day orders (time_in_force=day)")
    qty = float(body.get("qty") or 0)
    if qty <= 0 or qty != int(qty):
        raise Reply(422, message="qty must be a positive whole number of contracts")
    side = body.get("side")
    if side not in ("buy", "sell"):
        raise Reply(422, message="side must be buy or sell")
    limit = float(body.get("limit_price") or 0)
    if not limit > 0:
        raise Reply(422, message="limit_price is required for limit orders")
    coid = str(body.get("client_order_id") or wire.uid("coid", symbol, side, limit))
    if len(coid) > 128:
        raise Reply(422, message="client_order_id must be at most 128 characters")
    return OrderRequest(coid, symbol, side, int(qty), limit)


def _calendar(q: dict[str, str], day: date) -> list[dict[str, str]]:
    """Sessions in ``[start, end]`` (default: the replayed day), open/close in ET as Alpaca sends them."""
    start = date.fromisoformat(q["start"][:10]) if q.get("start") else day
    end = date.fromisoformat(q["end"][:10]) if q.get("end") else day
    out, d = [], next_session(start - timedelta(days=1))
    while d <= end:
        o, c = (to_eastern(t) for t in session_open_close(d))
        out.append({"date": d.isoformat(), "open": f"{o:%H:%M}", "close": f"{c:%H:%M}"})
        d = next_session(d)
    return out


def _cancel_one(fake: FakeAlpaca, order_id: str) -> dict[str, Any]:
    order = fake.book.orders[order_id]
    fake.market.cancel(order.market_id or "")
    return {"id": order_id, "status": 200, "body": None}


def _mid(fake: FakeAlpaca, symbol: str) -> float | None:
    q = fake.market.quote(symbol)
    return (q.bid + q.ask) / 2 if q is not None and q.bid > 0 and q.ask > 0 else None


def _symbols(q: dict[str, str]) -> list[str]:
    return [s for s in (q.get("symbols") or "").split(",") if s]


def _bars(fake: FakeAlpaca, q: dict[str, str]) -> dict[str, Any]:
    if q.get("timeframe") != "1Min":
        raise Reply(422, message=f"this fake serves 1Min bars only, not {q.get('timeframe')!r}")
    try:
        start = wire.parse_stamp(q["start"])
        end = wire.parse_stamp(q["end"]) + timedelta(microseconds=1) if q.get("end") else fake.market.now()
    except (KeyError, ValueError):
        raise Reply(422, message="start (and end) must be RFC 3339 times") from None
    items = [(s, b) for s in _symbols(q) for b in fake.market.bars(s, start, end)]
    chunk, token = page(items, q, fake.page_size)
    out: dict[str, list[dict[str, Any]]] = {}
    for symbol, b in chunk:
        out.setdefault(symbol, []).append(wire.bar_json(b))
    return {"bars": out, "next_page_token": token}


def _chain(fake: FakeAlpaca, underlying: str, q: dict[str, str]) -> dict[str, Any]:
    def day(name: str) -> date | None:
        return date.fromisoformat(q[name]) if q.get(name) else None

    exact, low, high = day("expiration_date"), day("expiration_date_gte"), day("expiration_date_lte")
    request = ChainRequest(
        underlying.upper(),
        [exact] if exact else [],
        float(q.get("strike_price_gte") or 0.0),
        float(q.get("strike_price_lte") or math.inf),
    )
    rows = []
    for quote in sorted(fake.market.chain(request), key=lambda x: x.option_symbol):
        occ = parse_occ(quote.option_symbol)
        if (low and occ.expiry < low) or (high and occ.expiry > high):
            continue
        if q.get("type") and occ.right.value != q["type"][0].upper():
            continue
        if q.get("root_symbol") and occ.root != q["root_symbol"].upper():
            continue
        rows.append(quote)
    chunk, token = page(rows, q, fake.page_size)
    day = fake.market.day
    return {
        "snapshots": {x.option_symbol: wire.snapshot_json(x, day) for x in chunk},
        "next_page_token": token,
    }


def _contracts(fake: FakeAlpaca, q: dict[str, str]) -> dict[str, Any]:
    """``GET /v2/options/contracts``: the replayed day's contracts, filtered as Alpaca filters them.

    Alpaca's defaults: ``status`` active, expiries up to the next weekend when no expiry bound
    is given, 100 per page (at most 10000), ``next_page_token`` while more remain.
    """
    m = fake.market
    if (q.get("status") or "active") != "active":
        return {"option_contracts": [], "next_page_token": None}

    def day(name: str) -> date | None:
        return date.fromisoformat(q[name][:10]) if q.get(name) else None

    exact, low, high = day("expiration_date"), day("expiration_date_gte"), day("expiration_date_lte")
    if not (exact or low or high):
        high = m.day + timedelta(days=(5 - m.day.weekday()) % 7 + 1)  # the next weekend
    strike_low = float(q.get("strike_price_gte") or 0.0)
    strike_high = float(q.get("strike_price_lte") or math.inf)
    rows = []
    for underlying in sorted(
        {u.strip().upper() for u in (q.get("underlying_symbols") or "").split(",") if u.strip()}
    ):
        for symbol, oi in m.listed(underlying):
            occ = parse_occ(symbol)
            if (exact and occ.expiry != exact) or (low and occ.expiry < low) or (high and occ.expiry > high):
                continue
            if not strike_low <= occ.strike <= strike_high:
                continue
            if q.get("type") and occ.right.value != q["type"][0].upper():
                continue
            if q.get("root_symbol") and occ.root != q["root_symbol"].upper():
                continue
            rows.append(wire.option_contract_json(symbol, oi, m.day, stale=fake.faults.stale_open_interest))
    chunk, token = page(rows, {**q, "limit": q.get("limit") or "100"}, min(fake.page_size, 10_000))
    return {"option_contracts": chunk, "next_page_token": token}


__all__ = ["order_request", "route"]
