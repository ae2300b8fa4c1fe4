"""``ReplayMarket``: one catalog day replayed on a fast clock, filling orders by the backtest's rules.

The engine behind the loopback fakes of Alpaca (``tests/support/fake_alpaca``) and of
TWS (``tests/support/fake_tws``), and behind the in-process replay venue of the live
core's tests. It speaks the venue values of ``brokers.live.venue`` (aware UTC times),
never a wire protocol: the fakes turn it into Alpaca's JSON/msgpack or TWS messages.

Time is a minute-close stamp ``now()``. Before ``start()`` / the first ``step()`` it is
the replay's start (``start_et``, default the open): bars closed before it are history.
Each minute, in the backtest's order (the broker fills at bar m before the strategy
sees bar m):

1. advance ``now`` to minute m;
2. match the working orders submitted before m against the quotes of minute m with
   ``options_scalper.fills`` (buy at the ask when ask <= limit, sell at the bid when
   bid >= limit, at most the displayed size, never in the submission minute), events out
   (the book is the dry run's: ``brokers.live.paper.PaperBook``);
3. call the ``on_minute`` listeners with m (the fakes publish bar m-1..m and the quotes).

The underlying's bars and the chain come from the catalog (``ChainProvider``: the
chain of minute m is the catalog's rows stamped m, with open interest and volume only
from their publication time). Cash and positions are the account's; commission per
contract is reported on each ``Execution`` (a fake may withhold it, as Alpaca does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT
from brokers.live.paper import MINUTE, PaperBook, emit
from brokers.live.venue import (
    AccountReport,
    ChainRequest,
    LiveBar,
    OptionQuote,
    OrderEvent,
    OrderReport,
    OrderRequest,
    PositionReport,
    VenueClock,
)
from feeds.catalog.api import open_catalog
from feeds.catalog.chain import ChainProvider
from options_scalper.calendar import next_session, previous_session, session_open_close
from options_scalper.constants import CONTRACT_MULTIPLIER, DEFAULT_MAX_QUOTE_AGE_MIN
from options_scalper.eastern import ET
from options_scalper.greeks import bs_greeks, implied_vol, time_to_expiry_years
from options_scalper.occ import parse_occ


class ReplayMarket:
    """One session of ``symbols`` from the catalog at ``catalog_root``, replayed minute by minute."""

    def __init__(
        self,
        catalog_root: str | Path | Any,
        symbols: Sequence[str],
        day: date,
        *,
        warmup_days: int = 2,
        start_et: str = "09:30",
        end_et: str | None = None,
        minute_seconds: float = 0.05,
        cash: float = 100_000.0,
        cap_to_size: bool = True,
        max_quote_age_min: float = DEFAULT_MAX_QUOTE_AGE_MIN,
        commission: float = DEFAULT_COMMISSION_PER_CONTRACT,
        account_number: str = "PA0000REPLAY",
        paper: bool = True,
    ) -> None:
        self.catalog = open_catalog(catalog_root)
        self.symbols = [s.upper() for s in symbols]
        self.day = day
        self.open_utc, self.close_utc = session_open_close(day)
        self.start_utc = _at(day, start_et, self.open_utc)
        self.end_utc = min(_at(day, end_et, self.close_utc), self.close_utc) if end_et else self.close_utc
        self.minute_seconds = float(minute_seconds)
        self.book = PaperBook(cash, id_prefix="replay", cap_to_size=cap_to_size,
                              max_quote_age_min=max_quote_age_min, commission=commission)  # fmt: skip
        self.account_number, self.paper = account_number, paper
        self._now = self.start_utc
        self._bars = {s: self._load_bars(s, warmup_days) for s in self.symbols}
        self._chains = {s: ChainProvider(self.catalog, s) for s in self.symbols}
        self._listed: dict[str, list[str]] = {}
        self._statistics: dict[str, Any] = {}
        self._oi_known: dict[str, tuple[datetime, dict[str, float]]] = {}
        self._lock = threading.RLock()
        self._minute_listeners: list[Callable[[datetime], None]] = []
        self._event_listeners: list[Callable[[OrderEvent], None]] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.finished = threading.Event()

    # ------------------------------------------------------------------ data
    def _load_bars(self, symbol: str, warmup_days: int) -> list[LiveBar]:
        days = [self.day]
        for _ in range(warmup_days):
            days.insert(0, previous_session(days[0]))
        bars: list[LiveBar] = []
        for d in days:
            frame = self.catalog.read_bars(symbol, d)
            if frame is None:
                continue
            for ts, o, h, lo, c, v in zip(
                frame["ts"],
                frame["open"],
                frame["high"],
                frame["low"],
                frame["close"],
                frame["volume"],
                strict=False,
            ):
                start = ts.to_pydatetime().astimezone(UTC)
                bars.append(LiveBar(symbol, start, float(o), float(h), float(lo), float(c), float(v)))
        return bars

    def now(self) -> datetime:
        return self._now

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[LiveBar]:
        """Closed bars of ``symbol`` starting in ``[start, end)`` (closed: start + 1 minute <= now)."""
        now = self._now
        return [
            b
            for b in self._bars.get(symbol.upper(), [])
            if start <= b.start < end and b.start + MINUTE <= now
        ]

    def last_price(self, symbol: str) -> float:
        closed = self.bars(symbol, datetime.min.replace(tzinfo=UTC), self._now)
        return closed[-1].close if closed else float("nan")

    def chain(self, request: ChainRequest) -> list[OptionQuote]:
        """The quotes of the current minute for the request's expiries and strike band."""
        symbol = request.underlying.upper()
        provider = self._chains.get(symbol)
        if provider is None:
            return []
        price = self.last_price(symbol)
        snap = provider.snapshot(self._now, price)
        keep = (snap.strike >= request.strike_low) & (snap.strike <= request.strike_high)
        if request.expiries:
            wanted = np.array([np.datetime64(d, "D") for d in request.expiries])
            keep &= np.isin(snap.expiry, wanted)
        idx = np.flatnonzero(keep)
        greeks = self._greeks(snap, idx, price)
        return [self._quote(snap, int(i), greeks, k) for k, i in enumerate(idx)]

    def _greeks(self, snap: Any, idx: np.ndarray, price: float) -> Any:
        if not idx.size or price != price:
            return None
        mid = (snap.bid[idx] + snap.ask[idx]) / 2.0
        t = time_to_expiry_years(self._now, snap.expiry[idx])
        iv = implied_vol(mid, price, snap.strike[idx], t, 0.0, 0.0, snap.is_call[idx])
        return iv, bs_greeks(price, snap.strike[idx], t, 0.0, 0.0, iv, snap.is_call[idx])

    def _quote(self, snap: Any, i: int, greeks: Any, k: int) -> OptionQuote:
        age = float(snap.quote_age_min[i])
        ts = self._now - timedelta(minutes=age if age == age else 0.0)
        extra: dict[str, Any] = {}
        if greeks is not None:
            iv, g = greeks
            extra = dict(
                delta=_f(g.delta[k]), gamma=_f(g.gamma[k]), theta=_f(g.theta_per_day[k]),
                vega=_f(g.vega_per_vol_point[k]), iv=_f(iv[k]),
            )  # fmt: skip
        return OptionQuote(
            str(snap.symbol[i]), ts, float(snap.bid[i]), float(snap.ask[i]),
            float(snap.bid_size[i]), float(snap.ask_size[i]),
            open_interest=_f(snap.open_interest[i]) if snap.oi_known else None,
            volume=_f(snap.volume[i]) if snap.volume_known else None,
            **extra,
        )  # fmt: skip

    def listed(self, underlying: str) -> list[tuple[str, float | None]]:
        """Every option of ``underlying`` quoted on the replayed day (sorted), with the open interest
        published by ``now`` (None: none yet), as a venue's contract listing holds them."""
        symbol = underlying.upper()
        if symbol not in self._chains:
            return []
        if symbol not in self._listed:
            read = getattr(self.catalog, "read_quotes_arrow", None)
            if read is not None:
                names = read(symbol, self.day, columns=["symbol"]).column("symbol").unique().to_pylist()
            else:
                names = self.catalog.read_quotes(symbol, self.day)["symbol"].unique().tolist()
            self._listed[symbol] = sorted(str(n) for n in names)
        oi = self.open_interest(symbol)
        return [(name, oi.get(name)) for name in self._listed[symbol]]

    def open_interest(self, underlying: str) -> dict[str, float]:
        """The day's statistics as known at ``now``: each contract's last open interest published by then."""
        symbol = underlying.upper()
        known = self._oi_known.get(symbol)
        if known is not None and known[0] == self._now:
            return known[1]
        if symbol not in self._statistics:
            self._statistics[symbol] = self.catalog.read_open_interest(symbol, self.day)
        oi = _published_by(self._statistics[symbol], self._now)
        self._oi_known[symbol] = (self._now, oi)
        return oi

    def option_expiries(self, underlying: str, first: date, last: date) -> list[date]:
        """The expiries in ``[first, last]`` of the options ``listed`` for ``underlying``."""
        days = {parse_occ(name).expiry for name, _ in self.listed(underlying)}
        return sorted(d for d in days if first <= d <= last)

    def quote(self, option_symbol: str) -> OptionQuote | None:
        """``option_symbol``'s quote of the current minute (None: no row this minute)."""
        for symbol, provider in self._chains.items():
            if option_symbol.startswith(symbol) or len(self._chains) == 1:
                q = provider.quote(option_symbol, self._now)
                if q is not None:
                    ts = self._now - timedelta(minutes=q.age_min if q.age_min == q.age_min else 0.0)
                    return OptionQuote(option_symbol, ts, q.bid, q.ask, q.bid_size, q.ask_size)
        return None

    # ------------------------------------------------------------------ account
    @property
    def cash(self) -> float:
        return self.book.cash

    @property
    def commission(self) -> float:
        return self.book.commission

    def clock(self) -> VenueClock:
        now = self._now
        is_open = self.open_utc <= now < self.close_utc
        nxt_open = self.open_utc if now < self.open_utc else session_open_close(next_session(self.day))[0]
        return VenueClock(now, is_open, nxt_open, self.close_utc if now < self.close_utc else nxt_open)

    def account(self) -> AccountReport:
        with self._lock:
            held = 0.0
            for sym, (qty, avg) in self.book.holdings.items():
                q = self.quote(sym)
                mark = (q.bid + q.ask) / 2.0 if q is not None and q.bid > 0 and q.ask > 0 else avg
                held += qty * mark * CONTRACT_MULTIPLIER
            return AccountReport(self.account_number, self.cash, self.cash + held, self.cash, self.paper)

    def positions(self) -> list[PositionReport]:
        with self._lock:
            return self.book.positions()

    def open_orders(self) -> list[OrderReport]:
        with self._lock:
            return self.book.open_orders()

    def find_order(self, client_order_id: str) -> OrderReport | None:
        with self._lock:
            return self.book.find_order(client_order_id)

    def order(self, venue_order_id: str) -> OrderReport | None:
        with self._lock:
            return self.book.order(venue_order_id)

    # ------------------------------------------------------------------ orders
    def submit(self, request: OrderRequest) -> OrderReport:
        """Accept ``request`` (or reject it: bad quantity/price, no buying power, nothing to sell)."""
        with self._lock:
            event = self.book.submit(request, self._now, self._now)
        self._emit([event])
        return event.order

    def cancel(self, venue_order_id: str) -> OrderReport | None:
        """Cancel a working order (a CANCELED event); None for an unknown id, the report when done."""
        with self._lock:
            event = self.book.cancel(venue_order_id, self._now)
            if event is None:
                return self.book.order(venue_order_id)
        self._emit([event])
        return event.order

    # ------------------------------------------------------------------ time
    def step(self) -> datetime:
        """Advance one minute: match orders at the new minute's quotes, then tell the listeners."""
        with self._lock:
            if self._now >= self.end_utc:
                self.finished.set()
                return self._now
            self._now = self._now + MINUTE
            events = self.book.match(self._now, self.quote)
            if self._now >= self.close_utc:
                events += self.book.expire(self._now)
            now = self._now
        self._emit(events)
        for listener in list(self._minute_listeners):
            listener(now)
        if now >= self.end_utc:
            self.finished.set()
        return now

    def start(self) -> None:
        """Advance one minute every ``minute_seconds`` on a thread of its own until the end or ``stop()``."""
        if self._thread is not None:
            return

        def run() -> None:
            while not self._stop.wait(self.minute_seconds) and not self.finished.is_set():
                self.step()

        self._thread = threading.Thread(target=run, name="replay-market", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def on_minute(self, listener: Callable[[datetime], None]) -> None:
        self._minute_listeners.append(listener)

    def on_event(self, listener: Callable[[OrderEvent], None]) -> None:
        self._event_listeners.append(listener)

    def _emit(self, events: list[OrderEvent]) -> None:
        emit(events, self._event_listeners)


def _published_by(frame: Any, now: datetime) -> dict[str, float]:
    """Each contract's last open interest in the statistics ``frame`` published by ``now``."""
    if frame is None or "open_interest" not in frame:
        return {}
    if "published" in frame:
        published = pd.to_datetime(frame["published"], utc=True)
        frame = frame[published <= pd.Timestamp(now)].assign(_at=published).sort_values("_at", kind="stable")
    frame = frame[frame["open_interest"].notna()]
    return {str(k): float(v) for k, v in zip(frame["symbol"], frame["open_interest"], strict=True)}


def _at(day: date, hhmm: str | None, default: datetime) -> datetime:
    if not hhmm:
        return default
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=ET).astimezone(UTC)


def _f(x: Any) -> float | None:
    v = float(x)
    return v if v == v else None


__all__ = ["ReplayMarket"]
