"""``ReplayVenue``: an in-process ``LiveVenue`` over ``ReplayMarket``, the live core's test venue.

No product logic: it hands the market's venue values to the live store as an adapter
would hand its SDK's. Each minute (``ReplayMarket.on_minute``) it pushes the quotes of
the subscribed contracts, then the underlying's bar that just closed (quotes first, so
the contract feeds have the minute's quote when the clock emits it). ``clock()`` waits
for a step in progress (a real venue's bar arrives a moment after its minute; here the
step publishes before the time can be read).

Faults (``faults``): ``reject_next(message)``, ``lose_next_reply()`` (the order is placed
but ``submit`` raises ``lost_reply``), ``drop_bars(minutes, at)`` (from minute ``at`` the
bar stream reports down, sends nothing for that many minutes, then reports up again),
``hide_bars(starts)`` (minutes the venue has no bar for: the clock's gaps); ``late`` /
``repeat`` (bar starts the stream sends a minute late, after the next one, or twice).

``Lockstep`` drives a Cerebro and the market in step (a thread steps the market once the
strategy has processed the market's current minute; tests never wait real minutes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import backtrader as bt

from brokers.live.venue import (
    STREAM_BARS,
    ChainRequest,
    LiveBar,
    OptionQuote,
    OrderEvent,
    OrderReport,
    OrderRequest,
    VenueError,
    VenueErrorKind,
)
from tests.support.replay_market import ReplayMarket

MINUTE = timedelta(minutes=1)


@dataclass
class Faults:
    reject_message: str | None = None
    lose_reply: bool = False
    drop_minutes: int = 0
    drop_at: datetime | None = None  # with drop_bars(n, at=...): the minute the drop starts
    hidden: set[datetime] = field(default_factory=set)  # bar starts the venue never has (gaps)
    late: set[datetime] = field(default_factory=set)  # bar starts the stream sends a minute late
    repeat: set[datetime] = field(default_factory=set)  # bar starts the stream sends twice
    history_failures_after_drop: int = 0  # the first n history requests after a drop fail (network)
    history_failures: int = 0

    def reject_next(self, message: str) -> None:
        self.reject_message = message

    def lose_next_reply(self) -> None:
        self.lose_reply = True

    def drop_bars(self, minutes: int, at: datetime | None = None) -> None:
        self.drop_minutes = int(minutes)
        self.drop_at = at

    def hide_bars(self, starts: set[datetime]) -> None:
        """The venue has no bar starting at these minutes (neither history nor stream)."""
        self.hidden |= set(starts)


class ReplayVenue:
    """``LiveVenue`` over a ``ReplayMarket`` (see module doc)."""

    name = "replay"

    def __init__(self, market: ReplayMarket) -> None:
        self.market = market
        self.faults = Faults()
        self._lock = threading.RLock()
        self._status: list[Callable[[str, bool, str], None]] = []
        self._bar_subs: list[tuple[set[str], Callable[[LiveBar], None]]] = []
        self._quote_subs: dict[str, Callable[[OptionQuote], None]] = {}
        self._dropping = 0
        self.chain_calls = 0
        self.history_calls: list[tuple[str, datetime, datetime]] = []
        self.subscribe_calls = 0
        self.unsubscribe_calls = 0
        market.on_minute(self._publish)

    # connection ----------------------------------------------------------------
    def connect(self) -> None:
        pass

    def close(self) -> None:
        self._bar_subs.clear()
        self._quote_subs.clear()

    def on_status(self, listener: Callable[[str, bool, str], None]) -> None:
        self._status.append(listener)

    # account --------------------------------------------------------------------
    def clock(self) -> Any:
        with self._lock:
            return self.market.clock()

    def account(self) -> Any:
        return self.market.account()

    def positions(self) -> Any:
        return self.market.positions()

    def open_orders(self) -> list[OrderReport]:
        return self.market.open_orders()

    def find_order(self, client_order_id: str) -> OrderReport | None:
        return self.market.find_order(client_order_id)

    # market data -----------------------------------------------------------------
    def historical_bars(self, symbol: str, start: datetime, end: datetime) -> list[LiveBar]:
        self.history_calls.append((symbol, start, end))
        if self.faults.history_failures:
            self.faults.history_failures -= 1
            raise VenueError(VenueErrorKind.NETWORK, "replay: the history request timed out")
        return [b for b in self.market.bars(symbol, start, end) if b.start not in self.faults.hidden]

    def subscribe_bars(self, symbols: Sequence[str], on_bar: Callable[[LiveBar], None]) -> None:
        self._bar_subs.append(({s.upper() for s in symbols}, on_bar))

    def option_expiries(self, underlying: str, first: date, last: date) -> list[date]:
        return self.market.option_expiries(underlying, first, last)

    def chain(self, request: ChainRequest) -> list[OptionQuote]:
        self.chain_calls += 1
        return self.market.chain(request)

    def subscribe_quotes(
        self, option_symbols: Sequence[str], on_quote: Callable[[OptionQuote], None]
    ) -> None:
        self.subscribe_calls += 1
        for s in option_symbols:
            self._quote_subs[s] = on_quote

    def unsubscribe_quotes(self, option_symbols: Sequence[str]) -> None:
        self.unsubscribe_calls += 1
        for s in option_symbols:
            self._quote_subs.pop(s, None)

    @property
    def streamed(self) -> tuple[str, ...]:
        return tuple(sorted(self._quote_subs))

    # orders -------------------------------------------------------------------------
    def submit(self, request: OrderRequest) -> OrderReport:
        if self.faults.reject_message is not None:
            message, self.faults.reject_message = self.faults.reject_message, None
            raise VenueError(VenueErrorKind.REJECTED, message)
        report = self.market.submit(request)
        if self.faults.lose_reply:
            self.faults.lose_reply = False
            raise VenueError(VenueErrorKind.LOST_REPLY, f"no reply to {request.client_order_id}")
        return report

    def cancel(self, venue_order_id: str) -> None:
        self.market.cancel(venue_order_id)

    def subscribe_orders(self, on_event: Callable[[OrderEvent], None]) -> None:
        self.market.on_event(on_event)

    # time -----------------------------------------------------------------------------
    def step(self) -> datetime:
        with self._lock:
            return self.market.step()

    def _publish(self, now: datetime) -> None:
        for symbol, cb in list(self._quote_subs.items()):
            q = self.market.quote(symbol)
            if q is not None:
                cb(q)
        if self.faults.drop_minutes and (self.faults.drop_at is None or now >= self.faults.drop_at):
            self.faults.drop_minutes, self._dropping = 0, self.faults.drop_minutes
            self.faults.history_failures = self.faults.history_failures_after_drop
            for listener in self._status:
                listener(STREAM_BARS, False, "replay: bar stream dropped")
        if self._dropping:
            self._dropping -= 1
            if self._dropping:
                return
            for listener in self._status:
                listener(STREAM_BARS, True, "replay: bar stream back")
            return  # the minute that closed while reconnecting comes from the backfill
        for symbols, cb in self._bar_subs:
            for symbol in symbols:
                for bar in self.market.bars(symbol, now - 2 * MINUTE, now - MINUTE):
                    if bar.start in self.faults.late:
                        late = bar  # after this minute's bar: out of order
                        break
                else:
                    late = None
                for bar in self.market.bars(symbol, now - MINUTE, now):
                    if bar.start not in self.faults.hidden and bar.start not in self.faults.late:
                        cb(bar)
                        if bar.start in self.faults.repeat:
                            cb(bar)
                if late is not None:
                    cb(late)


class _Processed(bt.Analyzer):
    """Tells the lockstep which clock minute the strategy has just processed."""

    params: Any = (("lockstep", None),)

    def next(self) -> None:
        clock = self.strategy.datas[0]
        self.p.lockstep.processed(clock)


class Lockstep:
    """Step ``venue``'s market each time the strategy has processed its current minute; stop at the end."""

    def __init__(self, venue: ReplayVenue, cerebro: bt.Cerebro, timeout: float = 20.0) -> None:
        self.venue = venue
        self.cerebro = cerebro
        self.timeout = timeout
        self._cond = threading.Condition()
        self._seen: datetime | None = None
        self._clock: Any = None
        self.error: BaseException | None = None
        cerebro.addanalyzer(_Processed, lockstep=self)

    def processed(self, clock: Any) -> None:
        with self._cond:
            self._clock = clock
            self._seen = bt.num2date(clock.datetime[0]).replace(tzinfo=self.venue.market.open_utc.tzinfo)
            self._cond.notify_all()

    def _caught_up(self, target: datetime) -> bool:
        clock = self._clock
        if clock is None or clock.haslivedata():
            return False
        if clock._laststatus == clock.CONNBROKEN:
            return True  # nothing can arrive before the stream is back: let the market move on
        return self._seen is not None and self._seen >= target and clock._laststatus == clock.LIVE

    def _drive(self) -> None:
        market = self.venue.market
        try:
            target = last_grid_minute(market)
            while True:
                deadline = time.monotonic() + self.timeout
                with self._cond:
                    while not self._caught_up(target):  # polled too: a dropped stream processes nothing
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"the strategy never processed {target} (last {self._seen})")
                        self._cond.wait(0.005)
                if market.now() >= market.end_utc:
                    break
                target = self.venue.step()
        except BaseException as err:  # reported by run()
            self.error = err
        finally:
            self.cerebro.runstop()

    def run(self) -> list[Any]:
        thread = threading.Thread(target=self._drive, name="lockstep", daemon=True)
        thread.start()
        result: list[Any] = self.cerebro.run()
        thread.join(timeout=self.timeout)
        if self.error is not None:
            raise self.error
        return result


def last_grid_minute(market: ReplayMarket) -> datetime:
    """The close stamp of the last bar the market has closed on a session grid (before its first step)."""
    from options_scalper.calendar import previous_session

    now = market.now()
    if now > market.open_utc:
        return now
    from feeds.backtest.gridfeed import day_grid

    grid = day_grid(previous_session(market.day))
    assert grid.close_utc is not None
    return grid.close_utc
