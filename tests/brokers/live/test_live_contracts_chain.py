"""Live contract feeds (one bar per clock minute, many bind/release cycles) and LiveChain (one call a minute)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import backtrader as bt
import numpy as np
import pytest

from brokers.live.chain import LiveChain, tradable_expiries
from brokers.live.contracts import QuoteHub
from brokers.live.store import LiveStore
from brokers.live.venue import OptionQuote, VenueError, VenueErrorKind
from feeds.backtest.contracts import quote_bar
from feeds.catalog import Catalog
from feeds.catalog.chain import ChainProvider, to_ns
from options_scalper.calendar import expiry_time_utc
from options_scalper.quotes import ContractSpec
from tests.support.live_runs import FAST_CLOCK, TSLA_DAY, replay
from tests.support.replay_venue import Lockstep


class Cycler(bt.Strategy):
    """Binds and releases the contract feeds every minute; records every contract bar."""

    def __init__(self) -> None:
        self.clock = self.datas[0]
        self.feeds = [d for d in self.datas[1:] if hasattr(d, "bind")]
        self.rows: list[tuple[Any, ...]] = []
        self.k = 0
        self.binds = 0

    def next(self) -> None:
        for f in self.feeds:
            s = f.streaming
            self.rows.append((f._name, self.clock.datetime[0], f.datetime[0], None if s is None else s.option_symbol,
                              f.close[0], f.bid[0], f.ask[0], f.bidsize[0], f.asksize[0], f.quoteage[0]))  # fmt: skip
        if self.clock.datetime[0] < self.clock.trading_start_num:
            return
        self.k += 1
        now = bt.num2date(self.clock.datetime[0]).replace(tzinfo=UTC)
        snap = self.clock.chain.snapshot(now, self.clock.close[0])
        calls = np.flatnonzero(snap.is_call)
        near = calls[np.argsort(np.abs(snap.strike[calls] - self.clock.close[0]), kind="stable")][:3]
        for j, f in enumerate(self.feeds):
            if f.bound and (self.k + j) % 3 == 0:
                f.release()
            elif not f.bound and (self.k + j) % 3 == 1:
                i = int(near[(self.k + j) % len(near)])
                expiry = snap.expiry[i].astype(object)
                spec = ContractSpec(str(snap.symbol[i]), True, float(snap.strike[i]), expiry,
                                    expiry_time_utc(expiry).replace(tzinfo=None))  # fmt: skip
                f.bind(spec, self)
                self.binds += 1

    def stop(self) -> None:
        for f in self.feeds:
            if f.bound:
                f.release()


def test_contract_feeds_follow_the_clock_through_many_bind_release_cycles(tsla_catalog: Path) -> None:
    venue = replay(tsla_catalog, "TSLA", TSLA_DAY, "10:30")
    store = LiveStore(venue, clock_params=FAST_CLOCK)
    cerebro = bt.Cerebro(stdstats=False)
    clock = store.getdata("TSLA", fromdate=TSLA_DAY, todate=TSLA_DAY, warmup_days=1)
    cerebro.adddata(clock, name="TSLA")
    for feed in store.getcontracts(clock, 3):
        cerebro.adddata(feed, name=feed.p.name)
    cerebro.broker = store.getbroker()
    cerebro.addstrategy(Cycler)
    strat: Cycler = Lockstep(venue, cerebro).run()[0]
    # one bar per clock minute, on the clock's stamps
    assert all(r[1] == r[2] for r in strat.rows) and len(strat.rows) == 3 * clock.produced
    # subscriptions in pairs, nothing left streaming
    assert (
        venue.subscribe_calls == venue.unsubscribe_calls >= 5
        and strat.binds >= 30
        and store.hub.subscribed == ()
        and not venue.streamed
    )
    # the bound bars carry the catalog's quote of that minute (the backtest's contract bar), unbound bars NaN
    provider = ChainProvider(Catalog(tsla_catalog), "TSLA")
    marks: dict[str, float] = {}
    bound = 0
    for name, _, num, sym, *values in strat.rows:
        if sym is None:
            assert math.isnan(values[0]) and math.isnan(values[1])
            marks.pop(name, None)
            continue
        bound += 1
        at = to_ns(bt.num2date(num))
        expected, marks[name] = quote_bar(provider.quote(sym, at), marks.get(name, float("nan")))
        got = (values[0], values[1], values[2], values[3], values[4], values[5])
        want = (expected[3], *expected[6:])
        assert all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(got, want, strict=True)), (
            sym,
            num,
        )
    assert bound >= 30


class _Venue:
    """A plain venue value source for the chain: counts calls, returns fixed quotes."""

    name = "plain"

    def __init__(self, quotes: list[OptionQuote]) -> None:
        self.quotes = quotes
        self.requests: list[Any] = []

    def chain(self, request: Any) -> list[OptionQuote]:
        self.requests.append(request)
        return list(self.quotes)


def test_live_chain_one_call_a_minute_band_expiries_and_iv_history(tsla_catalog: Path) -> None:
    ts = datetime(2024, 10, 30, 15, 0, tzinfo=UTC)
    quotes = [
        OptionQuote("TSLA241030P00250000", ts - timedelta(minutes=2), 1.0, 1.1, 5, 7, delta=-0.4, iv=0.5),
        OptionQuote("TSLA241030C00250000", ts, 0.0, 1.2, 0, 3, open_interest=120.0),
        OptionQuote("NOT-OCC", ts, 1.0, 1.1, 1, 1),
    ]
    venue = _Venue(quotes)
    chain = LiveChain(venue, "TSLA", strike_band_pct=0.04, catalog=str(tsla_catalog))  # type: ignore[arg-type]
    snap = chain.snapshot(ts, 250.0)
    assert chain.snapshot(ts, 251.0) is snap and len(venue.requests) == 1
    chain.snapshot(ts + timedelta(minutes=1), 250.0)
    assert len(venue.requests) == 2
    req = venue.requests[0]
    assert (req.strike_low, req.strike_high) == (240.0, 260.0) and list(req.expiries) == [
        date(2024, 10, 30), date(2024, 10, 31)]  # fmt: skip
    assert list(snap.symbol) == ["TSLA241030C00250000", "TSLA241030P00250000"]  # sorted, non-OCC skipped
    assert math.isnan(snap.bid[0]) and snap.ask[0] == 1.2 and list(snap.quote_age_min) == [0.0, 2.0]
    assert snap.oi_known and snap.open_interest[0] == 120.0 and math.isnan(snap.open_interest[1])
    kept = chain.venue_quote("TSLA241030P00250000")  # the venue's greeks, for the journal only
    assert kept is not None and kept.delta == -0.4 and kept.iv == 0.5
    assert chain.iv_history(TSLA_DAY) == ChainProvider(Catalog(tsla_catalog), "TSLA").iv_history(TSLA_DAY)
    assert LiveChain(venue, "TSLA").iv_history(TSLA_DAY) == []  # type: ignore[arg-type]
    # a Friday's 1DTE is Monday's: every date in between is asked for (the venue lists what exists)
    assert tradable_expiries(date(2024, 11, 1), 1) == [date(2024, 11, d) for d in (1, 2, 3, 4)]


class _FlakyVenue(_Venue):
    """Fails the chain request of the minutes in ``failing`` with a venue error of ``kind``."""

    def __init__(self, quotes: list[OptionQuote], failing: set[datetime], kind: VenueErrorKind) -> None:
        super().__init__(quotes)
        self.failing, self.kind = failing, kind
        self.minute: datetime | None = None

    def chain(self, request: Any) -> list[OptionQuote]:
        if self.minute in self.failing:
            self.requests.append(request)
            raise VenueError(self.kind, f"chain at {self.minute}: {self.kind}")
        return super().chain(request)


def test_live_chain_listener_hears_each_fresh_snapshot_once_never_a_cached_or_failed_one() -> None:
    t0 = datetime(2024, 10, 30, 15, 0, tzinfo=UTC)
    t1, t2 = t0 + timedelta(minutes=1), t0 + timedelta(minutes=2)
    quotes = [OptionQuote("TSLA241030C00250000", t0, 1.0, 1.1, 5, 7)]
    venue = _FlakyVenue(quotes, {t1}, VenueErrorKind.SERVER)
    heard: list[tuple[LiveChain, Any]] = []
    chain = LiveChain(venue, "TSLA", listener=lambda c, snap: heard.append((c, snap)))  # type: ignore[arg-type]

    venue.minute = t0
    first = chain.snapshot(t0, 250.0)
    assert len(heard) == 1 and heard[0][0] is chain and heard[0][1] is first and len(first) == 1
    assert chain.snapshot(t0, 251.0) is first and chain.snapshot(t0, 250.0) is first  # re-served from cache
    assert len(heard) == 1 and len(venue.requests) == 1

    venue.minute = t1  # a passing venue failure: the minute goes without a chain, and unheard
    missed = chain.snapshot(t1, 250.0)
    assert len(missed) == 0 and len(venue.requests) == 2 and len(heard) == 1

    venue.minute = t2
    second = chain.snapshot(t2, 250.5)
    assert chain.snapshot(t2, 250.5) is second
    assert len(heard) == 2 and heard[1][1] is second and second.ts == t2 and second is not first
    assert chain.calls == len(heard) == 2  # one fresh venue answer, one call of the listener


def test_live_chain_listener_is_not_called_when_the_venue_refuses_for_good() -> None:
    t0 = datetime(2024, 10, 30, 15, 0, tzinfo=UTC)
    venue = _FlakyVenue([], {t0}, VenueErrorKind.PERMISSION)
    venue.minute = t0
    heard: list[Any] = []
    chain = LiveChain(venue, "TSLA", listener=lambda c, snap: heard.append(snap))  # type: ignore[arg-type]
    with pytest.raises(VenueError, match="permission"):
        chain.snapshot(t0, 250.0)
    assert heard == [] and chain.calls == 0


def test_quote_hub_counts_subscriptions_and_never_serves_a_later_quote() -> None:
    calls: list[tuple[str, tuple[str, ...]]] = []

    class V:
        def subscribe_quotes(self, syms: Any, cb: Any) -> None:
            calls.append(("sub", tuple(syms)))

        def unsubscribe_quotes(self, syms: Any) -> None:
            calls.append(("unsub", tuple(syms)))

    hub = QuoteHub(V())  # type: ignore[arg-type]
    t = datetime(2024, 10, 30, 15, 0, tzinfo=UTC)
    for _ in range(50):
        hub.acquire("X")
        hub.acquire("X")
        hub.on_quote(OptionQuote("X", t, 1.0, 1.1, 1, 1))
        hub.on_quote(OptionQuote("X", t + timedelta(minutes=1), 2.0, 2.1, 1, 1))
        assert hub.latest("X", to_ns(t)).bid == 1.0  # type: ignore[union-attr]
        hub.release("X")
        hub.release("X")
        hub.release("X")  # one too many: ignored
    assert calls == [("sub", ("X",)), ("unsub", ("X",))] * 50 and hub.subscribed == ()
