"""IB market data for ``IBVenue``: bars (warm-up, backfill, live closed bars), the chain band, bound contracts.

* Bars: ``reqHistoricalData`` (1 min, RTH, epoch stamps) for warm-up and backfill, backing off
  on pacing violations; live bars with ``keepUpToDate``, where IB keeps REPLACING the forming
  last bar: only when ``hasNewBar`` says a new one started is ``bars[-2]`` final, and only
  that closed bar reaches ``on_bar`` (no look-ahead).
* Chain: ``reqSecDefOptParams`` lists expiries and strikes per trading class (SPX monthlies
  AM-settled, SPXW PM-settled); the requested band is qualified (``reqContractDetails`` with
  ``tradingClass``: an ambiguous contract is one line, an unlisted strike is skipped) and
  streamed with ``reqMktData``, bounded by ``max_quote_lines``; contracts leaving the band are
  cancelled, so the market-data lines held are the band plus the bound contracts. The snapshot
  waits for the new lines' first ticks, timed from when the client's request throttle has sent
  the last of them (a band wider than 45 lines goes out over more than a second).
* Open interest: every option line asks generic tick 101; IB answers a call's open interest in
  tick 27 and a put's in 28, the figure OCC published overnight (the previous session's, as the
  backtest's statistics). IB has no tick for the previous session's volume (8 and 100 are today's
  running volume): ``volume`` stays None and the selector skips that filter on IB, saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from brokers.ibkr import ibapi
from brokers.ibkr.errors import IBError, is_pacing
from brokers.ibkr.loop import awaited
from brokers.ibkr.parsing import (
    bar_of,
    ib_expiry,
    occ_of_contract,
    option_contract,
    quote_of,
    underlying_contract,
    underlying_sec_type,
)
from brokers.live.venue import ChainRequest, LiveBar, OptionQuote, VenueError, VenueErrorKind

MINUTE = timedelta(minutes=1)
_HISTORY_TRIES = 4
OPEN_INTEREST_TICKS = "101"  # generic tick list of an option line: its open interest (ticks 27/28)
FIRST_TICKS_WAIT = 1.0  # seconds a new line has to answer once its request went out


class StreamsMixin:
    """The market-data half of ``IBVenue`` (it provides ``ib``, ``_loop``, ``_run``, ``config``…)."""

    ib: Any
    config: Any
    _loop: Any
    notices: list[str]
    _run: Callable[..., Any]  # IBVenue's: run a coroutine on the IB loop, VenueError on timeout
    _request_error: Callable[[BaseException, str], VenueError]

    def __init__(self) -> None:
        self._contracts: dict[str, Any] = {}  # OCC -> qualified Contract
        self._underlyings: dict[str, Any] = {}
        self._option_chains: dict[str, list[Any]] = {}
        self._tickers: dict[str, Any] = {}  # OCC -> Ticker (a market-data line held)
        self._band: set[str] = set()
        self._bound: set[str] = set()
        self._quote_cb: Callable[[OptionQuote], None] | None = None
        self._bar_cb: Callable[[LiveBar], None] | None = None
        self._bar_lists: dict[str, Any] = {}
        self._last_bar: dict[str, datetime] = {}
        self._now: datetime | None = None
        self._delayed: set[str] = set()
        self._line_errors: dict[str, IBError] = {}  # OCC -> the market-data error IB sent for it
        self._bars_heard = time.monotonic()  # wall time of the last bar update (the mute-stream watchdog)
        self._closed_bars: list[LiveBar] = []  # closed by the packet being read, out at its end
        self._throttled = False  # the client holds requests back (its throttle), see ``_first_ticks``

    # ------------------------------------------------------------------ helpers
    def venue_now(self) -> datetime | None:
        """The latest minute-close the venue told us (bar stamps); None before the first bar."""
        return self._now

    def _advance(self, ts: datetime) -> None:
        if self._now is None or ts > self._now:
            self._now = ts

    def _stream_error(self, req_id: int, err: IBError) -> None:
        ticker = self.ib.wrapper.reqId2Ticker.get(req_id)
        if ticker is None or ticker.contract is None or ticker.contract.secType != "OPT":
            return
        occ = occ_of_contract(ticker.contract)
        if err.delayed:
            self._delayed.add(occ)
            if not self.config.allow_delayed:
                self._line_errors[occ] = err
        elif err.kind is not None:
            self._line_errors[occ] = err

    # ------------------------------------------------------------------ contracts
    def underlying(self, symbol: str) -> Any:
        if symbol not in self._underlyings:
            found = self._run(
                self._details(underlying_contract(symbol), symbol), what=f"IB contract {symbol}"
            )
            self._underlyings[symbol] = found
        return self._underlyings[symbol]

    async def _details(self, contract: Any, what: str) -> Any:
        """The one contract IB lists for ``contract``; VenueError for none or several."""
        try:
            details = await self.ib.reqContractDetailsAsync(contract)
        except ibapi.RequestError as exc:
            raise self._request_error(exc, what) from None
        if not details:
            raise VenueError(
                VenueErrorKind.BAD_SYMBOL, f"IB lists no contract {what}: check the symbol (and tradingClass)"
            )
        if len(details) > 1:
            classes = sorted({d.contract.tradingClass for d in details})
            raise VenueError(
                VenueErrorKind.BAD_SYMBOL,
                f"IB finds {len(details)} contracts for {what} (trading classes {', '.join(classes)}): "
                "the request is ambiguous; name the tradingClass (SPXW for dailies/weeklies, SPX for AM-settled monthlies)",
            )
        return details[0].contract

    def qualify(self, contract: Any, what: str) -> Any:
        """The one contract IB lists for ``contract`` (an ambiguous or unknown one is a VenueError line)."""
        return self._run(self._details(contract, what), what=f"IB contract {what}")

    def qualified(self, option_symbol: str) -> Any:
        if option_symbol not in self._contracts:
            self._run(self._qualify([option_symbol], strict=True), what=f"IB contract {option_symbol}")
        return self._contracts[option_symbol]

    async def _qualify(self, symbols: Sequence[str], *, strict: bool) -> None:
        todo = [s for s in symbols if s not in self._contracts]

        async def one(sym: str) -> None:
            try:
                self._contracts[sym] = await self._details(option_contract(sym), sym)
            except VenueError as err:
                if strict or "ambiguous" in str(err):
                    raise
            # not listed (a strike of another expiry): not part of the band

        await asyncio.gather(*(one(s) for s in todo))

    def _listed_chains(self, symbol: str) -> list[Any]:
        """``reqSecDefOptParams``' chains of ``symbol`` (SMART's when listed there); empty: no options."""
        if symbol not in self._option_chains:
            under = self.underlying(symbol)
            chains = self._run(
                awaited(
                    self.ib.reqSecDefOptParamsAsync, symbol, "", underlying_sec_type(symbol), under.conId
                ),
                what=f"IB option chains of {symbol}",
            )
            self._option_chains[symbol] = [c for c in chains if c.exchange == "SMART"] or list(chains)
        return self._option_chains[symbol]

    def _chains_of(self, symbol: str) -> list[Any]:
        chains = self._listed_chains(symbol)
        if not chains:
            raise VenueError(VenueErrorKind.BAD_SYMBOL, f"IB lists no options on {symbol}")
        return chains

    def option_expiries(self, underlying: str, first: date, last: date) -> list[date]:
        """The expiries ``reqSecDefOptParams`` lists for ``underlying`` in ``[first, last]`` (every trading class)."""
        days = {ib_expiry(e) for ch in self._listed_chains(underlying) for e in ch.expirations}
        return sorted(d for d in days if first <= d <= last)

    # ------------------------------------------------------------------ chain
    def chain(self, request: ChainRequest) -> list[OptionQuote]:
        symbols = self._band_symbols(request)
        self._run(self._qualify(symbols, strict=False), what=f"IB contracts of the {request.underlying} band")
        listed = [s for s in symbols if s in self._contracts]
        self._run(self._set_band(set(listed)), what=f"IB market data of the {request.underlying} band")
        self._raise_line_errors(listed)
        ts = self._now or datetime.now(UTC)
        return self._loop.call(self._quotes_now, listed, ts)

    def _band_symbols(self, request: ChainRequest) -> list[str]:
        from options_scalper.model import OptionRight
        from options_scalper.occ import format_occ

        wanted = {d.strftime("%Y%m%d") for d in request.expiries}
        roots = set(request.roots)
        candidates: list[tuple[float, str]] = []
        mid = (request.strike_low + request.strike_high) / 2.0
        for ch in self._chains_of(request.underlying):
            if roots and ch.tradingClass not in roots:
                continue
            for exp in sorted(set(ch.expirations) & wanted if wanted else ch.expirations):
                day = datetime.strptime(exp, "%Y%m%d").date()
                for k in ch.strikes:
                    if request.strike_low <= k <= request.strike_high:
                        for right in (OptionRight.CALL, OptionRight.PUT):
                            candidates.append(
                                (abs(k - mid), format_occ(ch.tradingClass, day, right, float(k)))
                            )
        candidates.sort()
        limit = max(0, self.config.max_quote_lines - len(self._bound))
        return sorted({s for _, s in candidates[:limit]})

    async def _barrier(self) -> None:
        """One round trip: every tick IB sent before it has been applied to the tickers (TCP keeps order)."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ib.reqCurrentTimeAsync(), self.config.request_timeout)

    async def _set_band(self, band: set[str]) -> None:
        await self._barrier()  # the snapshot is of the minute the clock has just seen, not the one before
        old, self._band = self._band, band
        for occ in old - band - self._bound:
            self._drop_line(occ)
        new = [occ for occ in band if occ not in self._tickers]
        for occ in new:
            self._add_line(occ)
        await self._first_ticks(new)

    def _add_line(self, occ: str) -> None:
        self._line_errors.pop(occ, None)
        self._tickers[occ] = self.ib.reqMktData(self._contracts[occ], OPEN_INTEREST_TICKS, False, False)

    def _drop_line(self, occ: str) -> None:
        if self._tickers.pop(occ, None) is not None:
            self.ib.cancelMktData(self._contracts[occ])

    def _on_throttle(self, throttling: bool) -> None:
        """The client's request throttle (``throttleStart`` / ``throttleEnd``): requests queued, not sent yet."""
        self._throttled = throttling

    async def _first_ticks(self, symbols: Sequence[str], wait: float = FIRST_TICKS_WAIT) -> None:
        """Until every new line has its first whole snapshot or IB's error, at most ``wait`` s after the
        last request went out (and half the request's ``request_timeout`` at worst, the rest left to it).

        The client throttles requests (45 a second, under TWS's 50): a band of more lines goes out
        over seconds, so the wait starts when the throttle has sent them all, never at the first
        request (a line still queued then cannot have answered; snapshotting without it loses the trade).
        """
        loop = asyncio.get_running_loop()
        cap = loop.time() + max(wait, self.config.request_timeout / 2)
        deadline = loop.time() + wait
        while symbols and loop.time() < min(deadline, cap):
            if all(
                _complete(self._tickers[s]) or s in self._line_errors for s in symbols if s in self._tickers
            ):
                return
            if self._throttled:
                deadline = loop.time() + wait
            await asyncio.sleep(0.01)

    def _raise_line_errors(self, symbols: Sequence[str]) -> None:
        for s in symbols:
            err = self._line_errors.get(s)
            if err is not None:
                if err.delayed:
                    raise VenueError(VenueErrorKind.PERMISSION, err.line)
                raise err.venue_error()

    def _quote(self, occ: str, ticker: Any, ts: datetime) -> OptionQuote:
        """The line's quote with its open interest (tick 27 for a call, 28 for a put; None before IB sent it)."""
        q = quote_of(occ, ticker, ts, delayed=occ in self._delayed)
        right = getattr(ticker.contract, "right", "")[:1]
        oi = getattr(ticker, "callOpenInterest" if right == "C" else "putOpenInterest", None)
        if oi is None or oi != oi or oi < 0:
            return q
        return replace(q, open_interest=float(oi))

    def _quotes_now(self, symbols: Sequence[str], ts: datetime) -> list[OptionQuote]:
        out = []
        for s in symbols:
            t = self._tickers.get(s)
            if t is not None and _ticked(t):
                out.append(self._quote(s, t, ts))
        return out

    # ------------------------------------------------------------------ bound contracts
    def subscribe_quotes(
        self, option_symbols: Sequence[str], on_quote: Callable[[OptionQuote], None]
    ) -> None:
        self._quote_cb = on_quote
        for s in option_symbols:
            self.qualified(s)
        self._run(self._bind(list(option_symbols)), what="IB market data of bound contracts")
        self._raise_line_errors(list(option_symbols))

    async def _bind(self, symbols: list[str]) -> None:
        await self._barrier()
        self._bound.update(symbols)
        new = [s for s in symbols if s not in self._tickers]
        for s in new:
            self._add_line(s)
        await self._first_ticks(new)
        ts = self._now or datetime.now(UTC)
        for s in symbols:
            t = self._tickers.get(s)
            if t is not None and _ticked(t) and self._quote_cb is not None:
                self._quote_cb(self._quote(s, t, ts))

    def unsubscribe_quotes(self, option_symbols: Sequence[str]) -> None:
        def release() -> None:
            for s in option_symbols:
                self._bound.discard(s)
                if s not in self._band:
                    self._drop_line(s)

        self._loop.call(release)

    def _on_tickers(self, tickers: Any) -> None:
        try:
            self._push_quotes(tickers)
        finally:
            self._flush_bars()

    def _push_quotes(self, tickers: Any) -> None:
        if self._quote_cb is None or not self._bound:
            return
        ts = self._now or datetime.now(UTC)
        for t in tickers:
            c = t.contract
            if c is None or c.secType != "OPT":
                continue
            occ = occ_of_contract(c)
            if occ in self._bound and _ticked(t):
                self._quote_cb(self._quote(occ, t, ts))

    def market_data_lines(self) -> int:
        """Market-data lines held now (the band plus the bound contracts)."""
        return len(self._tickers)

    # ------------------------------------------------------------------ bars
    def historical_bars(self, symbol: str, start: datetime, end: datetime) -> list[LiveBar]:
        contract = self.underlying(symbol)
        bars = self._run(self._history(contract, symbol, start, end), self.config.request_timeout * _HISTORY_TRIES,
                         what=f"IB historical bars of {symbol}")  # fmt: skip
        out = [bar_of(symbol, b) for b in bars]
        return [b for b in out if start <= b.start < end and b.start + MINUTE <= end]

    async def _history(
        self, contract: Any, symbol: str, start: datetime, end: datetime, *, keep: bool = False
    ) -> Any:
        seconds = max(60.0, (end - start).total_seconds())
        duration = f"{math.ceil(seconds)} S" if seconds <= 86_400 else f"{math.ceil(seconds / 86_400) + 1} D"
        end_text = "" if keep else end.astimezone(UTC).strftime("%Y%m%d-%H:%M:%S")
        wait = self.config.pacing_backoff
        for attempt in range(_HISTORY_TRIES):
            try:
                return await self.ib.reqHistoricalDataAsync(
                    contract, end_text, duration, "1 min", "TRADES", True, formatDate=2, keepUpToDate=keep,
                    timeout=self.config.request_timeout,
                )  # fmt: skip
            except ibapi.RequestError as exc:
                if not is_pacing(int(exc.code), str(exc.message)) or attempt == _HISTORY_TRIES - 1:
                    raise self._request_error(exc, f"{symbol} 1-minute bars") from None
                # the line is in ``notices`` already (IBVenue._on_error)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 60.0)
        raise AssertionError("unreachable")

    def subscribe_bars(self, symbols: Sequence[str], on_bar: Callable[[LiveBar], None]) -> None:
        self._bar_cb = on_bar
        for s in symbols:
            self.underlying(s)
        self._run(self._keep_bars(list(symbols)), self.config.request_timeout * _HISTORY_TRIES,
                  what="IB live bars")  # fmt: skip

    async def _keep_bars(self, symbols: list[str]) -> None:
        for s in symbols:
            old = self._bar_lists.pop(s, None)
            if old is not None:
                with contextlib.suppress(Exception):
                    self.ib.cancelHistoricalData(old)
            now = self._now or datetime.now(UTC)
            bars = await self._history(self._underlyings[s], s, now - timedelta(minutes=30), now, keep=True)
            if len(bars) >= 2:
                first_live = bar_of(s, bars[-1])
                self._advance(first_live.start)
                self._last_bar.setdefault(s, bar_of(s, bars[-2]).start)
            bars.updateEvent += self._bar_handler(s)
            self._bar_lists[s] = bars

    def _bar_handler(self, symbol: str) -> Callable[[Any, bool], None]:
        def on_update(bars: Any, has_new_bar: bool) -> None:
            self._bars_heard = time.monotonic()
            if not has_new_bar or len(bars) < 2:
                return
            closed = bar_of(symbol, bars[-2])
            self._advance(closed.start + MINUTE)
            last = self._last_bar.get(symbol)
            if last is not None and closed.start <= last:
                return
            self._last_bar[symbol] = closed.start
            self._closed_bars.append(closed)

        return on_update

    def _on_packet(self) -> None:
        """End of one socket read: hand on the bars it closed, unless its quotes are still to be applied."""
        if self._closed_bars and not self.ib.wrapper.pendingTickers:
            self._flush_bars()

    def _flush_bars(self) -> None:
        """Closed bars go out after the quotes that came with them (IB sends the minute's ticks with its bar)."""
        bars, self._closed_bars = self._closed_bars, []
        if self._bar_cb is not None:
            for bar in bars:
                self._bar_cb(bar)

    async def _resubscribe(self) -> None:
        """After a reconnect (or 1101): market data and live bars again; backfill is the caller's."""
        for occ in list(self._tickers):
            self._tickers.pop(occ)
        for occ in sorted(self._band | self._bound):
            if occ in self._contracts:
                self._add_line(occ)
        if self._bar_lists:
            await self._keep_bars(list(self._bar_lists))


def _complete(ticker: Any) -> bool:
    """Quoted and IB's model greeks in: a new line's first snapshot is whole."""
    return _ticked(ticker) and ticker.modelGreeks is not None


def _ticked(ticker: Any) -> bool:
    """IB sent something for this line (a price or a size on either side)."""
    for v in (ticker.bid, ticker.ask, ticker.bidSize, ticker.askSize):
        if v is not None and v == v and v != -1:
            return True
    return False


__all__ = ["StreamsMixin"]
