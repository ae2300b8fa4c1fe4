"""AlpacaVenue's three streams through alpaca-py's real websocket clients against the fake Alpaca."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from brokers.alpaca.venue import AlpacaVenue
from brokers.live.venue import (
    ChainRequest,
    EventKind,
    LiveBar,
    OptionQuote,
    OrderEvent,
    OrderRequest,
    VenueError,
)
from tests.brokers.alpaca.conftest import DAY, make_venue, wait_for
from tests.support.fake_alpaca import FakeAlpaca
from tests.support.replay_market import ReplayMarket


def _step(market: ReplayMarket, n: int = 1) -> None:
    for _ in range(n):
        market.step()


def _contracts(venue: AlpacaVenue, market: ReplayMarket, n: int) -> list[OptionQuote]:
    price = market.last_price("SPY")
    return venue.chain(ChainRequest("SPY", [DAY], price - 6, price + 6))[:n]


def _statuses(venue: AlpacaVenue) -> list[tuple[str, bool, str]]:
    seen: list[tuple[str, bool, str]] = []
    venue.on_status(lambda stream, up, msg: seen.append((stream, up, msg)))
    return seen


def test_bars_stream_after_the_warmup_each_closed_minute(venue: AlpacaVenue, fake: FakeAlpaca) -> None:
    m = fake.market
    seen = _statuses(venue)
    bars: list[LiveBar] = []
    venue.subscribe_bars(["SPY"], bars.append)
    wait_for(
        lambda: ("bars", True, "connected") in seen and fake.streams.subscribed("bars", "bars"), what="bars"
    )
    warm = venue.historical_bars("SPY", m.now() - timedelta(days=3), m.now())
    for _ in range(5):
        _step(m)
        wait_for(lambda: bars and bars[-1].start == m.now() - timedelta(minutes=1), what="the minute's bar")
    assert bars == m.bars("SPY", warm[-1].start + timedelta(minutes=1), m.now())
    assert [b.start for b in bars] == [warm[-1].start + timedelta(minutes=i) for i in range(1, 6)]


def test_quotes_bind_and_release_many_times(venue: AlpacaVenue, fake: FakeAlpaca) -> None:
    """alpaca-py #491 reports the stream stuck after repeated re-subscription: bind/release 12 times."""
    m = fake.market
    a, b, c = _contracts(venue, m, 3)
    got: list[OptionQuote] = []
    for i in range(12):
        first, second = (a, b) if i % 2 == 0 else (b, c)
        venue.subscribe_quotes([first.option_symbol], got.append)
        venue.subscribe_quotes([second.option_symbol], got.append)
        want = {first.option_symbol, second.option_symbol}
        wait_for(lambda want=want: fake.streams.subscribed("quotes", "quotes") == want, what=f"bind {i}")
        got.clear()
        _step(m)
        wait_for(lambda want=want: {q.option_symbol for q in got} == want, what=f"quotes of bind {i}")
        assert all(q.ts <= m.now() and q.delayed for q in got)
        venue.unsubscribe_quotes([first.option_symbol, second.option_symbol, "SPY240104C00999000"])
        wait_for(lambda: not fake.streams.subscribed("quotes", "quotes"), what=f"release {i}")
    assert fake.streams.connects["quotes"] == 1  # one socket throughout, never stuck, never reopened


def test_partial_then_full_fill_is_booked_per_execution(venue: AlpacaVenue, fake: FakeAlpaca) -> None:
    m = fake.market
    events: list[OrderEvent] = []
    venue.subscribe_orders(events.append)
    wait_for(lambda: fake.streams.trading, what="the trade stream")
    q = _contracts(venue, m, 1)[0]
    fake.faults.split_next_fill()
    report = venue.submit(OrderRequest("r2-1", q.option_symbol, "buy", 3, round(q.ask + 0.5, 2)))
    _step(m, 2)
    wait_for(lambda: events and events[-1].kind is EventKind.FILL, what="the fill")
    kinds = [e.kind for e in events]
    assert kinds == [EventKind.ACCEPTED, EventKind.PARTIAL_FILL, EventKind.FILL]
    fills = [e.execution for e in events[1:]]
    assert [x.qty for x in fills if x] == [1, 2]  # each execution's own qty, not the cumulative 1 then 3
    fill_price = fills[0].price if fills[0] else None
    assert all(
        x is not None and x.price == fill_price and x.venue_order_id == report.venue_order_id for x in fills
    )
    assert len({x.execution_id for x in fills if x}) == 2
    assert [e.order.filled_qty for e in events] == [0, 1, 3]
    assert venue.positions()[0].qty == 3


def test_cancel_and_reject_events(venue: AlpacaVenue, fake: FakeAlpaca) -> None:
    m = fake.market
    events: list[OrderEvent] = []
    venue.subscribe_orders(events.append)
    wait_for(lambda: fake.streams.trading, what="the trade stream")
    q = _contracts(venue, m, 1)[0]
    working = venue.submit(OrderRequest("r2-2", q.option_symbol, "buy", 1, round(q.bid - 0.5, 2)))
    venue.cancel(working.venue_order_id)
    fake.faults.reject_next("order rejected: price away from the market", status=None)
    rejected = venue.submit(OrderRequest("r2-3", q.option_symbol, "buy", 1, q.ask))
    wait_for(lambda: len(events) == 3, what="three events")
    assert [(e.kind, e.order.client_order_id) for e in events] == [
        (EventKind.ACCEPTED, "r2-2"), (EventKind.CANCELED, "r2-2"), (EventKind.REJECTED, "r2-3"),
    ]  # fmt: skip
    assert events[2].order.venue_order_id == rejected.venue_order_id and events[2].message


def test_a_dropped_bar_socket_is_reported_refused_then_recovered(
    venue: AlpacaVenue, fake: FakeAlpaca
) -> None:
    m = fake.market
    seen = _statuses(venue)
    bars: list[LiveBar] = []
    venue.subscribe_bars(["SPY"], bars.append)
    wait_for(lambda: fake.streams.subscribed("bars", "bars"), what="bars")
    fake.faults.drop_bars_after(2)
    _step(m, 2)
    wait_for(lambda: any(s == "bars" and not up and "dropped" in msg for s, up, msg in seen), what="the drop")
    fake.faults.refuse_reconnects()
    wait_for(
        lambda: any("connect failed" in msg for _, _, msg in seen), timeout=15, what="a refused reconnect"
    )
    fake.faults.refuse_reconnects(False)
    wait_for(lambda: seen[-1][:2] == ("bars", True), timeout=15, what="the reconnect")
    wait_for(lambda: fake.streams.subscribed("bars", "bars"), what="the resubscription")
    _step(m)
    wait_for(lambda: bars[-1].start == m.now() - timedelta(minutes=1), what="bars again")
    assert fake.streams.connects["bars"] == 2


def test_a_mute_bar_socket_is_reported_and_replaced(venue: AlpacaVenue, fake: FakeAlpaca) -> None:
    m = fake.market
    seen = _statuses(venue)
    bars: list[LiveBar] = []
    venue.subscribe_bars(["SPY"], bars.append)
    wait_for(lambda: fake.streams.subscribed("bars", "bars"), what="bars")
    _step(m)
    wait_for(lambda: bars, what="a first bar")
    fake.faults.mute_bars()
    m.start()  # minutes keep coming; the muted socket gets none of them
    wait_for(lambda: any("mute socket" in msg for _, _, msg in seen), timeout=15, what="the mute report")
    wait_for(lambda: fake.streams.connects["bars"] == 2 and len(bars) > 3, timeout=15, what="a fresh socket")
    m.stop()
    assert ("bars", True, "connected") in seen[seen.index(next(s for s in seen if "mute" in s[2])) :]


def test_wrong_keys_on_a_stream_are_reported(fake: FakeAlpaca) -> None:
    venue = make_venue(fake, {"APCA_API_KEY_ID": "wrong"})
    seen = _statuses(venue)
    venue.subscribe_bars(["SPY"], lambda b: None)
    try:
        wait_for(lambda: any("auth failed" in msg for _, _, msg in seen), what="the auth failure")
    finally:
        venue.close()
    assert all(not up for _, up, _ in seen)


def test_the_keys_appear_in_no_log_record(fake: FakeAlpaca, caplog: pytest.LogCaptureFixture) -> None:
    """A whole session at DEBUG (alpaca-py, websockets, urllib3, ours) and a failure: no key in any line."""
    caplog.set_level(logging.DEBUG)
    key, secret = fake.key, fake.secret
    venue = make_venue(fake)
    venue.connect()
    m = fake.market
    events: list[OrderEvent] = []
    venue.subscribe_bars(["SPY"], lambda b: None)
    venue.subscribe_orders(events.append)
    q = _contracts(venue, m, 1)[0]
    venue.subscribe_quotes([q.option_symbol], lambda x: None)
    wait_for(lambda: fake.streams.trading and fake.streams.subscribed("quotes", "quotes"), what="streams")
    venue.submit(OrderRequest("r2-9", q.option_symbol, "buy", 1, round(q.ask + 0.5, 2)))
    _step(m, 3)
    wait_for(lambda: any(e.kind is EventKind.FILL for e in events), what="the fill")
    fake.faults.drop_bars_after(1)
    _step(m)
    wait_for(lambda: fake.streams.connects["bars"] == 2, timeout=15, what="the reconnect")
    venue.close()
    bad = make_venue(fake, {"APCA_API_SECRET_KEY": "a-wrong-secret-0001"})
    with pytest.raises(VenueError, match="APCA_API_KEY_ID"):
        bad.connect()
    text = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    assert len(caplog.records) > 20 and "connected" in text
    for secret_text in (key, secret, "a-wrong-secret-0001"):
        assert secret_text not in text
