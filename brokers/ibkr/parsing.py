"""ib_async/ib_insync objects <-> the venue's plain values (``brokers/live/venue.py``).

Options: our compact OCC symbol <-> ``Option(symbol, YYYYMMDD, strike, right, 'SMART',
tradingClass=root)``. The underlying symbol stays the index for SPX weeklies/dailies
(``symbol='SPX', tradingClass='SPXW'``, PM-settled) and monthlies (``tradingClass='SPX'``,
AM-settled): the OCC root is the trading class, and it is always set, or IB calls the
request ambiguous. IB's "no value" prices are -1 (and NaN in the client): no quote.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from brokers.ibkr import ibapi
from brokers.live.venue import (
    Execution,
    LiveBar,
    OptionQuote,
    OrderReport,
    OrderStatus,
    Side,
)
from options_scalper.model import OptionRight
from options_scalper.occ import format_occ, parse_occ, settlement_of_root

# Index underlyings and their listing exchange; anything else is a SMART-routed stock/ETF.
INDEX_EXCHANGES: dict[str, str] = {
    "SPX": "CBOE",
    "XSP": "CBOE",
    "NDX": "NASDAQ",
    "RUT": "RUSSELL",
    "VIX": "CBOE",
}
DELAYED_TICK_TYPES = frozenset({66, 67, 68, 69, 70, 71, 72})
DELAYED_MARKET_DATA_TYPES = frozenset({3, 4})

_STATUS: dict[str, OrderStatus] = {
    "ApiPending": OrderStatus.PENDING,
    "PendingSubmit": OrderStatus.PENDING,
    "PreSubmitted": OrderStatus.ACCEPTED,
    "Submitted": OrderStatus.ACCEPTED,
    "ApiUpdate": OrderStatus.ACCEPTED,
    "PendingCancel": OrderStatus.ACCEPTED,  # still working until IB says Cancelled
    "ValidationError": OrderStatus.ACCEPTED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "ApiCancelled": OrderStatus.CANCELED,
    "Inactive": OrderStatus.REJECTED,
}


def underlying_contract(symbol: str) -> Any:
    """``Index('SPX', 'CBOE')`` for index underlyings, else ``Stock(symbol, 'SMART', 'USD')``."""
    if symbol in INDEX_EXCHANGES:
        return ibapi.Index(symbol, INDEX_EXCHANGES[symbol], "USD")
    return ibapi.Stock(symbol, "SMART", "USD")


def underlying_sec_type(symbol: str) -> str:
    return "IND" if symbol in INDEX_EXCHANGES else "STK"


def option_contract(option_symbol: str) -> Any:
    """The unqualified IB option of a compact/padded OCC symbol (tradingClass = the OCC root)."""
    occ = parse_occ(option_symbol)
    return ibapi.Option(
        occ.underlying,
        occ.expiry.strftime("%Y%m%d"),
        occ.strike,
        occ.right.value,
        "SMART",
        multiplier="100",
        currency="USD",
        tradingClass=occ.root,
    )


def ib_expiry(text: str) -> date:
    """IB's ``lastTradeDateOrContractMonth`` (``YYYYMMDD``, maybe followed by a time) as a date."""
    return datetime.strptime(str(text)[:8], "%Y%m%d").date()


def occ_of_contract(contract: Any) -> str:
    """Our compact OCC symbol of an IB option contract (root = tradingClass, else the symbol)."""
    root = (contract.tradingClass or contract.symbol).strip()
    return format_occ(
        root,
        ib_expiry(contract.lastTradeDateOrContractMonth),
        OptionRight(contract.right[:1]),
        float(contract.strike),
    )


def settlement_of_contract(contract: Any) -> str:
    """``AM`` for AM-settled classes (SPX monthlies), else ``PM`` (SPXW, equity options)."""
    return settlement_of_root((contract.tradingClass or contract.symbol).strip())


def aware_utc(value: Any) -> datetime:
    """An IB bar/fill time (aware datetime, naive UTC, a date, or epoch seconds) as aware UTC."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return datetime.fromtimestamp(int(value), UTC)


def bar_of(symbol: str, bar: Any) -> LiveBar:
    """One IB ``BarData`` (stamped at its start, like ours) as a ``LiveBar``."""
    return LiveBar(
        symbol=symbol,
        start=aware_utc(bar.date),
        open=float(bar.open),
        high=float(bar.high),
        low=float(bar.low),
        close=float(bar.close),
        volume=max(0.0, float(bar.volume)),
    )


def price(value: Any) -> float:
    """An IB price with its "no value" forms (-1, 0 for a side without quote, NaN) as NaN."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) and x > 0 else math.nan


def size(value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0.0
    return x if math.isfinite(x) and x > 0 else 0.0


def _greek(value: Any) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and abs(x) < 1e100 else None


def is_delayed(ticker: Any) -> bool:
    """The ticker carries delayed data: IB said market-data type 3/4, or ticks came as types 66-72."""
    if int(getattr(ticker, "marketDataType", 1) or 1) in DELAYED_MARKET_DATA_TYPES:
        return True
    return any(getattr(t, "tickType", 0) in DELAYED_TICK_TYPES for t in getattr(ticker, "ticks", ()) or ())


def quote_of(option_symbol: str, ticker: Any, ts: datetime, *, delayed: bool = False) -> OptionQuote:
    """An IB ``Ticker`` of an option as an ``OptionQuote`` (IB's model greeks recorded)."""
    greeks = getattr(ticker, "modelGreeks", None)
    return OptionQuote(
        option_symbol=option_symbol,
        ts=ts,
        bid=price(ticker.bid),
        ask=price(ticker.ask),
        bid_size=size(ticker.bidSize),
        ask_size=size(ticker.askSize),
        delta=_greek(getattr(greeks, "delta", None)),
        gamma=_greek(getattr(greeks, "gamma", None)),
        theta=_greek(getattr(greeks, "theta", None)),
        vega=_greek(getattr(greeks, "vega", None)),
        iv=_greek(getattr(greeks, "impliedVol", None)),
        delayed=delayed or is_delayed(ticker),
    )


def status_of(ib_status: str) -> OrderStatus:
    return _STATUS.get(ib_status, OrderStatus.PENDING)


def side_of(action: str) -> Side:
    """IB ``BUY``/``SELL`` (orders) or ``BOT``/``SLD`` (executions) as ours."""
    return "buy" if action.upper() in ("BUY", "BOT") else "sell"


def action_of(side: Side) -> str:
    return "BUY" if side == "buy" else "SELL"


def report_of(trade: Any, *, message: str = "", submitted_at: datetime | None = None) -> OrderReport:
    """An ib ``Trade`` (order + status + contract) as an ``OrderReport`` (``submitted_at``: venue time)."""
    order, status = trade.order, trade.orderStatus
    qty = round(float(order.totalQuantity))
    lmt = float(order.lmtPrice)
    return OrderReport(
        venue_order_id=str(order.permId or "") or f"o{order.orderId}",
        client_order_id=str(order.orderRef or ""),
        option_symbol=occ_of_contract(trade.contract)
        if trade.contract.secType == "OPT"
        else trade.contract.symbol,
        side=side_of(order.action),
        qty=qty,
        filled_qty=round(float(status.filled or sum(f.execution.shares for f in trade.fills))),
        limit_price=lmt if math.isfinite(lmt) and 0 < lmt < 1e300 else None,
        status=status_of(status.status),
        message=message,
        submitted_at=submitted_at,
    )


def execution_of(trade: Any, fill: Any, *, commission: float | None = None) -> Execution:
    """One IB ``Fill`` as one ``Execution`` (this fill's shares and price; venue time)."""
    ex = fill.execution
    return Execution(
        execution_id=str(ex.execId),
        venue_order_id=str(trade.order.permId or ex.permId or "") or f"o{ex.orderId}",
        client_order_id=str(trade.order.orderRef or ex.orderRef or ""),
        option_symbol=occ_of_contract(fill.contract),
        side=side_of(ex.side),
        qty=round(float(ex.shares)),
        price=float(ex.price),
        ts=aware_utc(ex.time),
        commission=commission,
    )


__all__ = [
    "DELAYED_TICK_TYPES",
    "INDEX_EXCHANGES",
    "action_of",
    "aware_utc",
    "bar_of",
    "execution_of",
    "ib_expiry",
    "is_delayed",
    "occ_of_contract",
    "option_contract",
    "price",
    "quote_of",
    "report_of",
    "settlement_of_contract",
    "side_of",
    "size",
    "status_of",
    "underlying_contract",
    "underlying_sec_type",
]
