"""alpaca-py models -> the venue values of ``brokers.live.venue`` (and our order -> Alpaca's request).

Pure conversions, no I/O. Option symbols stay compact OCC (``SPY241105C00575000``, what
Alpaca uses); a padded one is compacted with ``options_scalper.occ``. Fills are booked
from a trade update's own ``qty`` / ``price`` (this execution), never from the order's
cumulative ``filled_qty`` / ``filled_avg_price``.

Open interest and volume mean what the backtest reads from DataBento's statistics during
a session: the open interest published before it (``GET /v2/options/contracts``:
``open_interest`` dated by ``open_interest_date`` before the session) and the previous
session's volume (the chain snapshot's daily bar of that session), never today's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from alpaca.data.models import Bar, OptionsSnapshot, Quote
from alpaca.trading.enums import OrderSide, OrderType, PositionSide, TimeInForce
from alpaca.trading.models import Clock, OptionContract, Order, Position, TradeAccount, TradeUpdate
from alpaca.trading.requests import LimitOrderRequest

from brokers.live.venue import (
    AccountReport,
    EventKind,
    Execution,
    LiveBar,
    OptionQuote,
    OrderEvent,
    OrderReport,
    OrderRequest,
    OrderStatus,
    PositionReport,
    Side,
    VenueClock,
)
from options_scalper.calendar import previous_session, to_eastern
from options_scalper.occ import InvalidSymbolError, parse_occ

# Alpaca order status -> ours. Anything not listed is still working (accepted).
_STATUS = {
    "pending_new": OrderStatus.PENDING,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "done_for_day": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
    "suspended": OrderStatus.REJECTED,
}

# Trade-update event -> ours; the others (pending_new, pending_cancel, replaced...) carry no news for us.
_EVENTS = {
    "new": EventKind.ACCEPTED,
    "accepted": EventKind.ACCEPTED,
    "partial_fill": EventKind.PARTIAL_FILL,
    "fill": EventKind.FILL,
    "canceled": EventKind.CANCELED,
    "expired": EventKind.EXPIRED,
    "done_for_day": EventKind.EXPIRED,
    "rejected": EventKind.REJECTED,
}


def compact_symbol(symbol: str) -> str:
    """The compact OCC form of an option symbol; other symbols (equities) unchanged."""
    try:
        return parse_occ(symbol).compact
    except InvalidSymbolError:
        return symbol.strip()


def is_option_symbol(symbol: str) -> bool:
    try:
        parse_occ(symbol)
    except InvalidSymbolError:
        return False
    return True


def utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _value(x: Any) -> str:
    return str(getattr(x, "value", x) or "")


def _float(x: Any, default: float = 0.0) -> float:
    try:
        return default if x is None or x == "" else float(x)
    except (TypeError, ValueError):
        return default


def bar(b: Bar) -> LiveBar:
    """One 1-minute bar, stamped at its start as Alpaca sends it."""
    return LiveBar(b.symbol, utc(b.timestamp), b.open, b.high, b.low, b.close, b.volume)


def quote(q: Quote, *, delayed: bool) -> OptionQuote:
    return OptionQuote(
        compact_symbol(q.symbol), utc(q.timestamp), q.bid_price, q.ask_price, q.bid_size, q.ask_size,
        delayed=delayed,
    )  # fmt: skip


def snapshot(
    symbol: str, s: OptionsSnapshot, *, delayed: bool, open_interest: float | None = None,
    volume: float | None = None,
) -> OptionQuote | None:  # fmt: skip
    """A chain snapshot's latest quote with Alpaca's greeks (recorded, never decisive); None without a quote."""
    q = s.latest_quote
    if q is None:
        return None
    g = s.greeks
    return OptionQuote(
        compact_symbol(symbol), utc(q.timestamp), q.bid_price, q.ask_price, q.bid_size, q.ask_size,
        delta=None if g is None else g.delta, gamma=None if g is None else g.gamma,
        theta=None if g is None else g.theta, vega=None if g is None else g.vega,
        iv=s.implied_volatility, delayed=delayed, open_interest=open_interest, volume=volume,
    )  # fmt: skip


def raw_snapshot(
    symbol: str, raw: Mapping[str, Any], *, delayed: bool, session: date, open_interest: float | None = None
) -> OptionQuote | None:
    """A raw chain snapshot (alpaca-py's ``OptionsSnapshot`` drops the daily bars) with the previous
    session's volume; ``open_interest`` from the day's contracts listing."""
    return snapshot(
        symbol, OptionsSnapshot(symbol, dict(raw)), delayed=delayed, open_interest=open_interest,
        volume=previous_volume(symbol, raw, session),
    )  # fmt: skip


def previous_volume(symbol: str, raw: Mapping[str, Any], session: date) -> float | None:
    """The volume of the session before ``session`` from a raw snapshot's ``dailyBar`` / ``prevDailyBar``.

    Alpaca's ``dailyBar`` is the contract's latest trading day (today once it traded today,
    else an earlier day) and ``prevDailyBar`` the one before it, each stamped at midnight ET
    of its day. The bar of the previous session gives its volume; bars of other days only
    say the contract did not trade then (0); no bar at all: unknown (None).
    """
    days: dict[date, float] = {}
    for key in ("dailyBar", "prevDailyBar"):
        if raw.get(key):
            b = Bar(symbol, raw[key])
            day = to_eastern(utc(b.timestamp)).date()
            if day <= session:
                days[day] = float(b.volume)
    if not days:
        return None
    return days.get(previous_session(session), 0.0)


@dataclass(frozen=True)
class ListedContract:
    """One contract of ``GET /v2/options/contracts``: its OCC symbol, expiry and usable open interest."""

    symbol: str
    expiry: date
    open_interest: float | None  # None: none published before the session
    open_interest_date: date | None = None  # the day Alpaca dates its open interest


def open_interest(c: OptionContract, session: date) -> float | None:
    """``open_interest`` when dated before ``session`` (published before it, as the backtest's); else None."""
    if c.open_interest is None or c.open_interest_date is None or c.open_interest_date >= session:
        return None
    value = _float(c.open_interest, float("nan"))
    return value if value == value else None


def listed_contract(c: OptionContract, session: date) -> ListedContract:
    return ListedContract(
        compact_symbol(c.symbol), c.expiration_date, open_interest(c, session), c.open_interest_date
    )


def limit_order(request: OrderRequest) -> LimitOrderRequest:
    """Our day limit order as alpaca-py's request (OCC symbol compact, tagged with our client id)."""
    return LimitOrderRequest(
        symbol=compact_symbol(request.option_symbol),
        qty=request.qty,
        side=OrderSide.BUY if request.side == "buy" else OrderSide.SELL,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.DAY,
        limit_price=request.limit_price,
        client_order_id=request.client_order_id,
    )


def order_status(status: Any) -> OrderStatus:
    return _STATUS.get(_value(status), OrderStatus.ACCEPTED)


def order(o: Order, message: str = "") -> OrderReport:
    side: Side = "sell" if _value(o.side) == "sell" else "buy"
    return OrderReport(
        venue_order_id=str(o.id),
        client_order_id=o.client_order_id,
        option_symbol=compact_symbol(o.symbol or ""),
        side=side,
        qty=int(_float(o.qty)),
        filled_qty=int(_float(o.filled_qty)),
        limit_price=None if o.limit_price is None else _float(o.limit_price),
        status=order_status(o.status),
        message=message,
        submitted_at=utc(o.submitted_at) if o.submitted_at else None,
    )


def event_kind(update: TradeUpdate) -> EventKind | None:
    """Our kind of a trade update; None for the updates that change nothing for us (pending_*)."""
    return _EVENTS.get(_value(update.event))


def trade_update(update: TradeUpdate) -> OrderEvent | None:
    """One trade update as an ``OrderEvent``; a fill carries this execution's own qty and price."""
    kind = event_kind(update)
    if kind is None:
        return None
    ts = utc(update.timestamp)
    message = f"Alpaca {_value(update.event)}" if kind is EventKind.REJECTED else ""
    report = order(update.order, message)
    execution = None
    if kind in (EventKind.PARTIAL_FILL, EventKind.FILL):
        if update.qty is None or update.price is None:
            raise ValueError(f"alpaca: {kind} of order {report.venue_order_id} carries no qty/price")
        execution = Execution(
            execution_id=str(update.execution_id or f"{report.venue_order_id}-{ts.isoformat()}"),
            venue_order_id=report.venue_order_id,
            client_order_id=report.client_order_id,
            option_symbol=report.option_symbol,
            side=report.side,
            qty=int(update.qty),
            price=float(update.price),
            ts=ts,
        )
    return OrderEvent(kind, report, ts, execution, message)


def position(p: Position) -> PositionReport:
    qty = int(_float(p.qty))
    if _value(p.side) == PositionSide.SHORT.value and qty > 0:
        qty = -qty
    kind = "option" if _value(p.asset_class) == "us_option" else "equity"
    return PositionReport(compact_symbol(p.symbol), qty, _float(p.avg_entry_price), kind)


LONG_OPTIONS_LEVEL = 2  # Alpaca's level 2: buy calls and puts (level 1 is covered calls / cash-secured puts)


def options_level(a: TradeAccount) -> int | None:
    """The account's options level (``options_trading_level``, else ``options_approved_level``); None: not said."""
    for level in (a.options_trading_level, a.options_approved_level):
        if level is not None:
            return int(level)
    return None


def is_paper_account(a: TradeAccount) -> bool:
    """Alpaca numbers paper accounts ``PA...``; any other account number is real money."""
    return a.account_number.upper().startswith("PA")


def account(a: TradeAccount) -> AccountReport:
    level = options_level(a)
    buying_power = a.options_buying_power if a.options_buying_power is not None else a.buying_power
    return AccountReport(
        account_number=a.account_number,
        cash=_float(a.cash),
        equity=_float(a.equity, _float(a.portfolio_value)),
        buying_power=_float(buying_power),
        paper=is_paper_account(a),
        options_approved=level is None or level >= LONG_OPTIONS_LEVEL,
        currency=a.currency or "USD",
    )


def clock(c: Clock) -> VenueClock:
    return VenueClock(utc(c.timestamp), bool(c.is_open), utc(c.next_open), utc(c.next_close))


__all__ = [
    "LONG_OPTIONS_LEVEL",
    "ListedContract",
    "account",
    "bar",
    "clock",
    "compact_symbol",
    "event_kind",
    "is_option_symbol",
    "is_paper_account",
    "limit_order",
    "listed_contract",
    "open_interest",
    "options_level",
    "order",
    "order_status",
    "position",
    "previous_volume",
    "quote",
    "raw_snapshot",
    "snapshot",
    "trade_update",
]
