"""``AlpacaVenue``: the ``LiveVenue`` protocol on alpaca-py's own clients (REST and the three streams).

Six alpaca-py clients, each pointed at the configured endpoint with ``url_override``:
``TradingClient`` (account, clock, positions, orders), ``StockHistoricalDataClient`` (warm-up
and backfill bars), ``OptionHistoricalDataClient`` (the chain snapshot each minute),
``StockDataStream`` (bars), ``OptionDataStream`` (quotes of the bound contracts) and
``TradingStream`` (trade updates). Streams run on threads of their own (``streams.py``) and
report connects, drops and mute sockets through ``on_status``; every REST failure becomes
a one-line ``VenueError`` (``errors.py``); models become venue values in ``parsing.py``.

Open interest comes from the contracts listing (``GET /v2/options/contracts``, one
listing per underlying and session, cached), the previous session's volume from each
chain snapshot's daily bars: the option data client answers raw so those bars (which
alpaca-py's ``OptionsSnapshot`` drops) reach ``parsing.raw_snapshot``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed, OptionsFeed
from alpaca.data.historical.option import OptionHistoricalDataClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.models import Bar, Quote
from alpaca.data.requests import OptionChainRequest, StockBarsRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.models import TradeUpdate
from alpaca.trading.requests import GetOptionContractsRequest, GetOrdersRequest
from requests.adapters import HTTPAdapter

from brokers.alpaca import parsing
from brokers.alpaca.config import AlpacaConfig
from brokers.alpaca.errors import permission_error, venue_error
from brokers.alpaca.parsing import ListedContract
from brokers.alpaca.streams import BarStream, OrderStream, QuoteStream, StreamThread, websocket_params
from brokers.live.venue import (
    AccountReport,
    ChainRequest,
    ConnectionListener,
    EventKind,
    LiveBar,
    LiveVenue,
    OptionQuote,
    OrderEvent,
    OrderReport,
    OrderRequest,
    PositionReport,
    VenueClock,
    VenueError,
    VenueErrorKind,
)
from options_scalper.calendar import previous_session, session_date

log = logging.getLogger(__name__)
MINUTE = timedelta(minutes=1)
CONTRACTS_PAGE = 10_000  # Alpaca's maximum page of the contracts listing
CONTRACTS_MAX_PAGES = 100
# a listing whose open interest is older than the previous session (taken overnight, before
# the new figures) is asked again, at most this often (wall seconds)
STALE_LISTING_RETRY = 600.0


class _TimeoutAdapter(HTTPAdapter):
    """requests has no session-wide timeout; alpaca-py sets none: a hung reply must not hang the runtime."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


class AlpacaVenue:
    """Alpaca as a ``LiveVenue``; construct with an ``AlpacaConfig``, then ``connect()``."""

    name = "alpaca"

    def __init__(self, config: AlpacaConfig) -> None:
        self.config = config
        key, secret = config.api_key, config.secret_key
        self.trading = TradingClient(key, secret, paper=not config.live, url_override=config.trading_url)
        self.stock_data = StockHistoricalDataClient(key, secret, url_override=config.data_url)
        # raw: the chain's daily bars (previous session's volume) are not in alpaca-py's model
        self.option_data = OptionHistoricalDataClient(
            key, secret, raw_data=True, url_override=config.data_url
        )
        for client in (self.trading, self.stock_data, self.option_data):
            adapter = _TimeoutAdapter(config.request_timeout)
            client._session.mount("http://", adapter)
            client._session.mount("https://", adapter)
        self._delayed = config.option_feed == "indicative"
        self._listeners: list[ConnectionListener] = []
        self._lock = threading.RLock()
        self._accepted: set[str] = set()
        # (underlying, session, first expiry, last expiry) -> (contracts, wall time listed)
        self._listings: dict[tuple[str, date, date, date], tuple[list[ListedContract], float]] = {}
        self._bars = StreamThread(
            "bars",
            BarStream(
                key, secret, feed=DataFeed(config.stock_feed), url_override=config.stock_stream_url,
                data_timeout=config.data_timeout, report=self._reporter("bars"), websocket_params=websocket_params(),
            ),
        )  # fmt: skip
        self._quotes = StreamThread(
            "quotes",
            QuoteStream(
                key, secret, feed=OptionsFeed(config.option_feed), url_override=config.option_stream_url,
                report=self._reporter("quotes"), websocket_params=websocket_params(),
            ),
        )  # fmt: skip
        self._orders = StreamThread(
            "orders",
            OrderStream(
                key, secret, paper=not config.live, url_override=config.trading_stream_url,
                report=self._reporter("orders"), websocket_params=websocket_params(),
            ),
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"AlpacaVenue({self.config!r})"

    # connection -------------------------------------------------------------
    def connect(self) -> None:
        """Check keys, account kind and options approval with one ``GET /v2/account``."""
        raw = self._rest("GET /v2/account", self.trading.get_account)
        if not parsing.is_paper_account(raw) and not self.config.live:
            raise VenueError(
                VenueErrorKind.LIVE_ACCOUNT,
                f"alpaca: account {raw.account_number} is a real-money account but this run is paper; "
                "use paper keys, or pass --live and confirm the account number",
            )
        level = parsing.options_level(raw)
        if level is not None and level < parsing.LONG_OPTIONS_LEVEL and not self.config.dry_run:
            raise permission_error(f"account {raw.account_number} has options level {level}")
        log.info("alpaca: connected to %s, account %s", self.config.trading_url, raw.account_number)

    def close(self) -> None:
        for stream in (self._orders, self._quotes, self._bars):
            stream.stop()

    def on_status(self, listener: ConnectionListener) -> None:
        self._listeners.append(listener)

    def _reporter(self, stream: str) -> Callable[[bool, str], None]:
        def report(connected: bool, message: str) -> None:
            (log.info if connected else log.warning)("alpaca %s stream: %s", stream, message)
            for listener in list(self._listeners):
                try:
                    listener(stream, connected, message)
                except Exception:
                    log.exception("alpaca: a status listener failed")

        return report

    def _rest(self, what: str, call: Callable[..., Any], *args: Any, order: bool = False) -> Any:
        """One REST call (alpaca-py models: ``raw_data`` is off), failures as ``VenueError``."""
        try:
            return call(*args)
        except Exception as exc:
            raise venue_error(exc, what, order=order) from exc

    # account ------------------------------------------------------------------
    def clock(self) -> VenueClock:
        return parsing.clock(self._rest("GET /v2/clock", self.trading.get_clock))

    def account(self) -> AccountReport:
        return parsing.account(self._rest("GET /v2/account", self.trading.get_account))

    def positions(self) -> list[PositionReport]:
        raw = self._rest("GET /v2/positions", self.trading.get_all_positions)
        return [parsing.position(p) for p in raw]

    def open_orders(self) -> list[OrderReport]:
        query = GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500)
        raw = self._rest("GET /v2/orders", self.trading.get_orders, query)
        return [parsing.order(o) for o in raw]

    def find_order(self, client_order_id: str) -> OrderReport | None:
        try:
            raw = self.trading.get_order_by_client_id(client_order_id)
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise venue_error(exc, "GET /v2/orders:by_client_order_id") from exc
        except Exception as exc:
            raise venue_error(exc, "GET /v2/orders:by_client_order_id") from exc
        return parsing.order(raw)  # type: ignore[arg-type]

    # market data ----------------------------------------------------------------
    def historical_bars(self, symbol: str, start: datetime, end: datetime) -> list[LiveBar]:
        request = StockBarsRequest(
            symbol_or_symbols=symbol, timeframe=TimeFrame.Minute, start=start, end=end,
            feed=DataFeed(self.config.stock_feed), adjustment=Adjustment.RAW,
        )  # fmt: skip
        raw = self._rest("GET /v2/stocks/bars", self.stock_data.get_stock_bars, request)
        bars = [parsing.bar(b) for b in raw.data.get(symbol, [])]
        return sorted(
            (b for b in bars if start <= b.start and b.start + MINUTE <= end), key=lambda b: b.start
        )

    def subscribe_bars(self, symbols: Sequence[str], on_bar: Callable[[LiveBar], None]) -> None:
        async def handler(b: Bar) -> None:
            _deliver(on_bar, parsing.bar(b), "bar")

        with self._lock:
            _send(lambda: self._bars.stream.subscribe_bars(handler, *symbols), "subscribe bars")
            self._bars.start()

    def option_expiries(self, underlying: str, first: date, last: date) -> list[date]:
        """The listed expiries in ``[first, last]`` (the contracts listing of the session ``first``)."""
        contracts = self.listing(underlying, first, first, last)
        return sorted({c.expiry for c in contracts if first <= c.expiry <= last})

    def listing(self, underlying: str, session: date, first: date, last: date) -> list[ListedContract]:
        """``underlying``'s active contracts expiring in ``[first, last]``, open interest as of ``session``.

        One ``GET /v2/options/contracts`` listing (all its pages) per underlying and session,
        cached; asked again (at most every ``STALE_LISTING_RETRY`` s) while none of its open
        interest is dated the previous session yet, so a run started overnight picks up the
        figures published before the open.
        """
        key = (underlying.upper(), session, first, last)
        with self._lock:
            cached = next(
                (v for k, v in self._listings.items()
                 if k[:2] == key[:2] and k[2] <= first and last <= k[3]),
                None,
            )  # fmt: skip
        if cached is not None:
            contracts, listed_at = cached
            if _fresh(contracts, session) or time.monotonic() - listed_at < STALE_LISTING_RETRY:
                return contracts
        contracts = self._list_contracts(key[0], session, first, last)
        with self._lock:
            self._listings[key] = (contracts, time.monotonic())
        return contracts

    def _list_contracts(
        self, underlying: str, session: date, first: date, last: date
    ) -> list[ListedContract]:
        out: list[ListedContract] = []
        token: str | None = None
        for _ in range(CONTRACTS_MAX_PAGES):
            query = GetOptionContractsRequest(
                underlying_symbols=[underlying], expiration_date_gte=first, expiration_date_lte=last,
                limit=CONTRACTS_PAGE, page_token=token,
            )  # fmt: skip
            page = self._rest("GET /v2/options/contracts", self.trading.get_option_contracts, query)
            out.extend(
                parsing.listed_contract(c, session)
                for c in page.option_contracts or []
                if c.underlying_symbol.upper() == underlying
            )
            token = page.next_page_token
            if not token:
                return out
        raise VenueError(
            VenueErrorKind.SERVER,
            f"alpaca: GET /v2/options/contracts for {underlying} did not end after {CONTRACTS_MAX_PAGES} pages",
        )

    def chain(self, request: ChainRequest) -> list[OptionQuote]:
        expiries = sorted(set(request.expiries))
        session = request.session or (expiries[0] if expiries else session_date(datetime.now(UTC)))
        listed = self.listing(request.underlying, session, session, expiries[-1]) if expiries else []
        oi = {c.symbol: c.open_interest for c in listed}
        roots = {r.upper() for r in request.roots}
        query = OptionChainRequest(
            underlying_symbol=request.underlying.upper(),
            feed=OptionsFeed(self.config.option_feed),
            strike_price_gte=request.strike_low,
            strike_price_lte=request.strike_high,
            expiration_date=expiries[0] if len(expiries) == 1 else None,
            expiration_date_gte=expiries[0] if len(expiries) > 1 else None,
            expiration_date_lte=expiries[-1] if len(expiries) > 1 else None,
            root_symbol=next(iter(roots)) if len(roots) == 1 else None,
        )
        raw = self._rest(
            f"GET /v1beta1/options/snapshots/{query.underlying_symbol}",
            self.option_data.get_option_chain,
            query,
        )
        out: list[OptionQuote] = []
        for symbol, snap in sorted(raw.items()):
            if not parsing.is_option_symbol(symbol):
                continue
            q = parsing.raw_snapshot(
                symbol, snap, delayed=self._delayed, session=session,
                open_interest=oi.get(parsing.compact_symbol(symbol)),
            )  # fmt: skip
            if q is None:
                continue
            occ = parsing.parse_occ(q.option_symbol)
            if (expiries and occ.expiry not in expiries) or (roots and occ.root not in roots):
                continue
            out.append(q)
        return out

    def subscribe_quotes(
        self, option_symbols: Sequence[str], on_quote: Callable[[OptionQuote], None]
    ) -> None:
        symbols = [parsing.compact_symbol(s) for s in option_symbols]
        delayed = self._delayed

        async def handler(q: Quote) -> None:
            _deliver(on_quote, parsing.quote(q, delayed=delayed), "quote")

        with self._lock:
            _send(lambda: self._quotes.stream.subscribe_quotes(handler, *symbols), "subscribe quotes")
            self._quotes.start()

    def unsubscribe_quotes(self, option_symbols: Sequence[str]) -> None:
        stream = self._quotes.stream
        with self._lock:
            handlers: dict[str, Any] = stream._handlers["quotes"]
            present = [s for s in (parsing.compact_symbol(x) for x in option_symbols) if s in handlers]
            if not present:
                return
            if not _send(lambda: stream.unsubscribe_quotes(*present), "unsubscribe quotes"):
                for s in present:  # the socket is down: forget them, the reconnect subscribes the rest
                    handlers.pop(s, None)

    # orders -----------------------------------------------------------------------
    def submit(self, request: OrderRequest) -> OrderReport:
        raw = self._rest(
            "POST /v2/orders", self.trading.submit_order, parsing.limit_order(request), order=True
        )
        return parsing.order(raw)

    def cancel(self, venue_order_id: str) -> None:
        self._rest(f"DELETE /v2/orders/{venue_order_id}", self.trading.cancel_order_by_id, venue_order_id)

    def subscribe_orders(self, on_event: Callable[[OrderEvent], None]) -> None:
        async def handler(update: TradeUpdate) -> None:
            event = parsing.trade_update(update)
            if event is None or not self._first_accept(event):
                return
            _deliver(on_event, event, "order event")

        with self._lock:
            _send(lambda: self._orders.stream.subscribe_trade_updates(handler), "subscribe trade updates")
            self._orders.start()

    def _first_accept(self, event: OrderEvent) -> bool:
        """Alpaca sends ``new`` and may send ``accepted`` for one order: pass one ACCEPTED on."""
        if event.kind is not EventKind.ACCEPTED:
            return True
        with self._lock:
            if event.order.venue_order_id in self._accepted:
                return False
            self._accepted.add(event.order.venue_order_id)
            return True


def _fresh(contracts: Sequence[ListedContract], session: date) -> bool:
    """Some open interest is dated the session before ``session`` (an empty listing has nothing to wait for)."""
    prior = previous_session(session)
    return not contracts or any(
        c.open_interest_date is not None and c.open_interest_date >= prior for c in contracts
    )


def _deliver(callback: Callable[[Any], None], value: Any, what: str) -> None:
    try:
        callback(value)
    except Exception:
        log.exception("alpaca: the %s callback failed", what)


def _send(action: Callable[[], None], what: str) -> bool:
    """Run a (un)subscribe; a socket that is down right now is not an error: the reconnect resends."""
    try:
        action()
    except Exception as exc:
        log.warning("alpaca: %s not sent now (%s); it is resent on reconnect", what, type(exc).__name__)
        return False
    return True


def venue_from_environment(options: Mapping[str, Any], env: Mapping[str, str]) -> LiveVenue:
    """The runtime's entry point: ``AlpacaVenue`` configured from the CLI options and the environment."""
    return AlpacaVenue(AlpacaConfig.from_environment(options, env))


__all__ = ["AlpacaVenue", "venue_from_environment"]
