"""``LiveStore``: a live venue's feeds and broker, in the shape of ``BacktestStore``.

``getdata(symbol, ...)`` gives the live clock (``brokers.live.clock.LiveClock``,
carrying its ``LiveChain`` as ``clock.chain`` and ``trading_start_num``),
``getmacro(clock, minutes)`` None (``app.cerebro`` then resamples the clock with
``cerebro.resampledata``, which delivers the same bars as the backtest's macro
view), ``getcontracts(clock, n)`` the live contract feeds over one quote hub, and
``getbroker()`` the ``LiveBroker`` (or, with ``dry_run``, the same broker over a
venue that simulates the orders at the live quotes: ``brokers.live.dryrun``).
``app.cerebro.cerebro_for(LiveStore(venue), Strategy, symbols)`` builds the live
Cerebro exactly as the backtest's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT
from brokers.live.broker import EventListener, LiveBroker, OrderGate
from brokers.live.chain import DEFAULT_MAX_DTE, DEFAULT_STRIKE_BAND_PCT, LiveChain
from brokers.live.clock import LiveClock
from brokers.live.contracts import LiveContractFeed, QuoteHub, make_live_contract_feeds
from brokers.live.venue import LiveVenue
from feeds.backtest.gridfeed import CONTRACT_KEEP_BARS
from options_scalper.constants import DEFAULT_CAP_TO_SIZE, DEFAULT_MAX_QUOTE_AGE_MIN


class LiveStore:
    """Feeds and broker of a live (or dry) run on ``venue`` (see module doc).

    ``cash``: the dry run's starting cash (None: the account's); a live run's cash is the
    account's. ``cap_to_size`` / ``max_quote_age_min``: the dry run's fill rule (the
    backtest's); a venue fills real orders by its own. ``catalog``: the user's catalog,
    for the ATM IV history the IV gate ranks against (None: no history, the gate says so).
    """

    def __init__(
        self,
        venue: LiveVenue,
        *,
        cash: float | None = None,
        commission: float = DEFAULT_COMMISSION_PER_CONTRACT,
        cap_to_size: bool = DEFAULT_CAP_TO_SIZE,
        max_quote_age_min: float = DEFAULT_MAX_QUOTE_AGE_MIN,
        dry_run: bool = False,
        catalog: Any = None,
        run_id: str = "run",
        listener: EventListener | None = None,
        gate: OrderGate | None = None,
        clock_keep_bars: int = CONTRACT_KEEP_BARS,
        strike_band_pct: float = DEFAULT_STRIKE_BAND_PCT,
        max_dte: int = DEFAULT_MAX_DTE,
        exit_slippage_pct: float = 0.10,
        exit_slippage_max: float = 0.25,
        refresh_minutes: int = 5,
        clock_params: dict[str, Any] | None = None,
    ) -> None:
        self.dry_run = bool(dry_run)
        if self.dry_run:
            from brokers.live.dryrun import DryRunVenue

            venue = DryRunVenue(venue, cash=cash, cap_to_size=cap_to_size, max_quote_age_min=max_quote_age_min,
                                commission=commission)  # fmt: skip
        self.venue = venue
        self.commission = float(commission)
        self.catalog = catalog
        self.run_id = run_id
        self.listener = listener
        self.gate = gate
        self.clock_keep_bars = int(clock_keep_bars)
        self.strike_band_pct = float(strike_band_pct)
        self.max_dte = int(max_dte)
        self.broker_params = dict(
            exit_slippage_pct=exit_slippage_pct,
            exit_slippage_max=exit_slippage_max,
            refresh_minutes=refresh_minutes,
        )
        self.clock_params = dict(clock_params or {})
        self.hub = QuoteHub(venue)
        self.clocks: list[LiveClock] = []
        self.feeds: list[LiveContractFeed] = []
        self._broker: LiveBroker | None = None

    def getdata(
        self, symbol: str, fromdate: date | None = None, todate: date | None = None, warmup_days: int = 0
    ) -> LiveClock:
        """The live clock of ``symbol``: ``warmup_days`` sessions of history, then the stream (today only).

        ``fromdate`` is ignored (a live run trades today); ``todate`` ends the feed after that session.
        """
        make: Any = LiveClock
        clock: LiveClock = make(
            venue=self.venue,
            symbol=symbol,
            warmup_days=warmup_days,
            keep_bars=self.clock_keep_bars,
            last_day=todate,
            **self.clock_params,
        )
        clock.chain = LiveChain(
            self.venue,
            symbol,
            strike_band_pct=self.strike_band_pct,
            max_dte=self.max_dte,
            catalog=self.catalog,
        )
        self.clocks.append(clock)
        if self._broker is not None:
            self._broker.clocks.append(clock)
        return clock

    def getmacro(self, clock: LiveClock, minutes: int) -> None:
        """None: ``cerebro.resampledata`` over the live clock is the macro view (the backtest's bars)."""
        return None

    def getcontracts(self, clock: LiveClock, n: int) -> list[LiveContractFeed]:
        feeds = make_live_contract_feeds(n, clock.symbol)
        for feed in feeds:
            feed.attach(clock, self.hub, clock.chain.venue_quote)
        self.feeds.extend(feeds)
        if self._broker is not None:
            self._broker.feeds.extend(feeds)
        return feeds

    def getbroker(self) -> LiveBroker:
        if self._broker is None:
            make: Any = LiveBroker
            self._broker = make(
                self.venue,
                run_id=self.run_id,
                commission=self.commission,
                gate=self.gate,
                listener=self.listener,
                clocks=self.clocks,
                **self.broker_params,
            )
            self._broker.feeds.extend(self.feeds)
        return self._broker


__all__ = ["LiveStore"]
