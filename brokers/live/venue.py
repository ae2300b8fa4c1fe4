"""The live venue protocol: what a broker adapter (Alpaca, IBKR) gives the live store.

A broker adapter (``brokers/alpaca/venue.py``, ``brokers/ibkr/venue.py``) turns its SDK
(alpaca-py, ib_async) into these calls and plain values; everything above it (the live
clock, the chain, the contract feeds, the broker, the runtime) is written once, in
``brokers/live/`` and ``app/live/``, for every venue. No SDK type crosses this line.

Conventions:

* Every time is an aware UTC ``datetime``. A ``LiveBar`` is stamped at its START, as
  both brokers send them; the live clock restamps it to its close, as the backtest does.
* Options are named by their compact OCC symbol (``SPY241105C00575000``; SPXW dailies
  ``SPXW241105C05800000``), whatever the venue calls them internally.
* Callbacks (``on_bar``, ``on_quote``, ``on_event``, ``on_status``) may be called from
  the adapter's own threads; the live store queues them and Backtrader drains the queues
  on its own thread. An adapter never blocks a callback on Backtrader.
* A failure a user can act on raises ``VenueError`` with one line saying what and what
  to do (``kind`` says which: the runtime maps kinds to exit codes and trading states).
* ``submit`` sends one limit order, ``time_in_force`` day, tagged with our
  ``client_order_id`` (Alpaca ``client_order_id``, IB ``orderRef``): the idempotency key.
  When the reply is lost (``VenueError(kind="lost_reply")``) the caller looks the order up
  with ``find_order(client_order_id)`` before it would ever resend.
* Fills arrive only as ``OrderEvent``s carrying one ``Execution`` each (that execution's
  qty and price, never cumulative figures); ``execution_id`` is unique per venue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable

Side = Literal["buy", "sell"]


class VenueErrorKind(StrEnum):
    AUTH = "auth"  # keys missing/rejected (401/403), a client id in use
    PERMISSION = "permission"  # no options approval, no market-data subscription, read-only API
    NETWORK = "network"  # nothing listening, connection refused/dropped, timeouts at start
    LOST_REPLY = "lost_reply"  # a request whose answer never came (the order may exist)
    RATE_LIMIT = "rate_limit"  # 429 / IB pacing violation (back off, never hammer)
    REJECTED = "rejected"  # the venue refused a request (with its message)
    BAD_SYMBOL = "bad_symbol"  # unknown or ambiguous contract / underlying without options
    SERVER = "server"  # 5xx and other venue-side failures
    LIVE_ACCOUNT = "live_account"  # a real-money account/port where paper was expected


class VenueError(Exception):
    """A venue failure, one line for the user (``str(err)``), with its ``kind``."""

    def __init__(self, kind: VenueErrorKind | str, message: str) -> None:
        super().__init__(message)
        self.kind = VenueErrorKind(kind)


class OrderStatus(StrEnum):
    """The venue's view of an order, normalised."""

    PENDING = "pending"  # sent, not yet acknowledged
    ACCEPTED = "accepted"  # working at the venue
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"  # e.g. a day order at the close
    REJECTED = "rejected"

    @property
    def done(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED)


class EventKind(StrEnum):
    ACCEPTED = "accepted"
    PARTIAL_FILL = "partial_fill"
    FILL = "fill"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    COMMISSION = "commission"  # a late commission report for an execution already sent (IB)
    LOST = "lost"  # ours, never a venue's: a submit whose reply was lost, found again by client_order_id


@dataclass(frozen=True)
class LiveBar:
    """One 1-minute bar of an underlying, stamped at its START (aware UTC)."""

    symbol: str
    start: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class OptionQuote:
    """One option's best bid/offer at ``ts``; the venue's own greeks (recorded, never decisive).

    Prices <= 0 or NaN mean no quote on that side (IB sends -1). ``delayed``: the venue
    said the quote is delayed (IB tick types 66-68, Alpaca's indicative feed).
    ``open_interest`` / ``volume``: what the backtest reads from DataBento's statistics, as
    known during the session: the open interest published before it (the previous
    session's) and the previous session's volume, never today's running figures. None when
    the venue gave none (the selector then skips those filters, as it does for a catalog
    without statistics).
    """

    option_symbol: str
    ts: datetime
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    delta: float | None = None
    gamma: float | None = None
    theta: float | None = None
    vega: float | None = None
    iv: float | None = None
    delayed: bool = False
    open_interest: float | None = None
    volume: float | None = None


@dataclass(frozen=True)
class OrderRequest:
    """A day limit order for one option contract."""

    client_order_id: str
    option_symbol: str
    side: Side
    qty: int
    limit_price: float


@dataclass(frozen=True)
class OrderReport:
    """An order as the venue reports it now (``filled_qty`` cumulative: for reconciliation only)."""

    venue_order_id: str
    client_order_id: str
    option_symbol: str
    side: Side
    qty: int
    filled_qty: int
    limit_price: float | None
    status: OrderStatus
    message: str = ""
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class Execution:
    """One execution (fill) of an order: this execution's qty and price."""

    execution_id: str
    venue_order_id: str
    client_order_id: str
    option_symbol: str
    side: Side
    qty: int
    price: float
    ts: datetime
    commission: float | None = None  # None: not reported (yet); the broker uses its model


@dataclass(frozen=True)
class OrderEvent:
    """A change of one order: accepted, an execution, a cancel, an expiry, a rejection (message)."""

    kind: EventKind
    order: OrderReport
    ts: datetime
    execution: Execution | None = None
    message: str = ""


@dataclass(frozen=True)
class PositionReport:
    """A position the venue holds (options by OCC symbol; ``qty`` > 0 long)."""

    symbol: str
    qty: int
    avg_price: float
    asset_class: str = "option"  # option, equity


@dataclass(frozen=True)
class AccountReport:
    account_number: str
    cash: float
    equity: float
    buying_power: float
    paper: bool
    options_approved: bool = True
    currency: str = "USD"


@dataclass(frozen=True)
class VenueClock:
    """The venue's clock and today's session (``next_open``/``next_close`` aware UTC)."""

    now: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


@dataclass(frozen=True)
class ChainRequest:
    """Which part of an underlying's chain to quote: expiries and a strike band (market-data lines)."""

    underlying: str
    expiries: Sequence[date]
    strike_low: float
    strike_high: float
    roots: Sequence[str] = field(default_factory=tuple)  # e.g. ("SPXW",); empty: the venue's default
    # the session the quotes are for (the venue dates open interest / volume by it); None: today's
    session: date | None = None


ConnectionListener = Callable[[str, bool, str], None]  # (stream name, connected, message)

# The stream names ``on_status`` listeners receive (an adapter with one socket for several
# streams reports each of them): the live clock backfills after ``bars`` comes back.
STREAM_BARS = "bars"
STREAM_QUOTES = "quotes"
STREAM_ORDERS = "orders"


@runtime_checkable
class LiveVenue(Protocol):
    """A broker adapter. ``name`` is ``alpaca`` or ``ibkr``."""

    name: str

    # connection -------------------------------------------------------------
    def connect(self) -> None:
        """Open the venue's sessions (REST/socket); raise ``VenueError`` (auth, network, permission)."""
        ...

    def close(self) -> None:
        """Stop every stream and socket; idempotent."""
        ...

    def on_status(self, listener: ConnectionListener) -> None:
        """Call ``listener(stream, connected, message)`` when a stream connects, drops or goes mute."""
        ...

    # account ------------------------------------------------------------------
    def clock(self) -> VenueClock: ...

    def account(self) -> AccountReport: ...

    def positions(self) -> list[PositionReport]: ...

    def open_orders(self) -> list[OrderReport]: ...

    def find_order(self, client_order_id: str) -> OrderReport | None:
        """The order we tagged ``client_order_id`` (any status), None when the venue has none."""
        ...

    # market data ----------------------------------------------------------------
    def historical_bars(self, symbol: str, start: datetime, end: datetime) -> list[LiveBar]:
        """Closed 1-minute bars starting in ``[start, end)``, oldest first (warm-up and backfill)."""
        ...

    def subscribe_bars(self, symbols: Sequence[str], on_bar: Callable[[LiveBar], None]) -> None:
        """Stream closed 1-minute bars of ``symbols`` (only bars the venue has closed)."""
        ...

    def option_expiries(self, underlying: str, first: date, last: date) -> list[date]:
        """The expiries in ``[first, last]`` the venue lists options of ``underlying`` for, sorted.

        Empty when it lists none (an underlying without options, or none in that window);
        ``VenueError`` (bad_symbol) for an underlying the venue does not know at all.
        """
        ...

    def chain(self, request: ChainRequest) -> list[OptionQuote]:
        """The current quotes of the requested part of the chain (a snapshot, one call per minute)."""
        ...

    def subscribe_quotes(
        self, option_symbols: Sequence[str], on_quote: Callable[[OptionQuote], None]
    ) -> None:
        """Stream quotes of these contracts (adds to what is streamed; repeated binds must work)."""
        ...

    def unsubscribe_quotes(self, option_symbols: Sequence[str]) -> None: ...

    # orders -----------------------------------------------------------------------
    def submit(self, request: OrderRequest) -> OrderReport:
        """Send a day limit order; ``VenueError`` kinds: rejected (message), lost_reply, rate_limit."""
        ...

    def cancel(self, venue_order_id: str) -> None:
        """Ask the venue to cancel; the outcome arrives as an ``OrderEvent``."""
        ...

    def subscribe_orders(self, on_event: Callable[[OrderEvent], None]) -> None:
        """Stream every order event of the account (trade updates / execDetails, orderStatus)."""
        ...


__all__ = [
    "STREAM_BARS",
    "STREAM_ORDERS",
    "STREAM_QUOTES",
    "AccountReport",
    "ChainRequest",
    "ConnectionListener",
    "EventKind",
    "Execution",
    "LiveBar",
    "LiveVenue",
    "OptionQuote",
    "OrderEvent",
    "OrderReport",
    "OrderRequest",
    "OrderStatus",
    "PositionReport",
    "Side",
    "VenueClock",
    "VenueError",
    "VenueErrorKind",
]
