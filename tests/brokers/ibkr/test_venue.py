"""IBVenue through the REAL ib_async (or ib_insync) client against the fake TWS serving a replayed day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from brokers.ibkr import ibapi
from brokers.live.venue import (
    ChainRequest,
    EventKind,
    OrderRequest,
    OrderStatus,
    VenueError,
    VenueErrorKind,
)
from tests.brokers.ibkr.conftest import DAY, make_venue, wait_for

MINUTE = timedelta(minutes=1)


def _band(market: Any, width: float = 3.0) -> ChainRequest:
    px = market.last_price("SPY")
    return ChainRequest("SPY", [DAY], px - width, px + width)


def _call_near_money(venue: Any, market: Any) -> Any:
    quotes = venue.chain(_band(market))
    calls = [q for q in quotes if q.option_symbol[9] == "C" and q.ask > 0 and q.bid > 0]
    return min(calls, key=lambda q: abs(q.delta - 0.5) if q.delta is not None else 9)


def test_connects_to_the_paper_account_on_venue_time(venue: Any, market: Any) -> None:
    assert venue.library == ibapi.LIBRARY
    account = venue.account()
    assert account.account_number == "DU1234567" and account.paper
    assert account.cash == pytest.approx(100_000.0)
    clock = venue.clock()
    assert clock.now == market.now() and clock.is_open  # the fake's replayed minute, not this machine's clock
    assert clock.next_close == market.close_utc


def test_warm_up_history_then_only_closed_live_bars(venue: Any, market: Any) -> None:
    now = market.now()
    history = venue.historical_bars("SPY", now - timedelta(days=3), now)
    assert history == market.bars("SPY", now - timedelta(days=3), now)
    assert {b.start.date() for b in history} == {date(2024, 1, 2), date(2024, 1, 3), DAY}
    assert all(b.start + MINUTE <= now for b in history)

    got: list[Any] = []
    venue.subscribe_bars(["SPY"], got.append)
    for _ in range(3):
        market.step()
    wait_for(lambda: len(got) == 3)
    assert got == market.bars("SPY", now, market.now())  # the final bars, never a forming one
    assert [b.start for b in got] == [now, now + MINUTE, now + 2 * MINUTE]
    assert venue.venue_now() == market.now()


def test_chain_band_is_qualified_and_quoted_with_model_greeks(venue: Any, market: Any, fake: Any) -> None:
    request = _band(market)
    quotes = venue.chain(request)
    assert quotes and all(
        request.strike_low <= float(q.option_symbol[-8:]) / 1000 <= request.strike_high for q in quotes
    )
    for q in quotes:
        expected = market.quote(q.option_symbol)
        assert (q.bid, q.ask, q.bid_size, q.ask_size) == (
            expected.bid,
            expected.ask,
            expected.bid_size,
            expected.ask_size,
        )
        assert q.delta is not None and q.iv is not None and not q.delayed
        assert q.ts == market.now()
    assert venue.market_data_lines() == len(quotes)  # the band, not the chain
    assert len(quotes) < len(fake.universe.options)
    narrow = venue.chain(ChainRequest("SPY", [DAY], request.strike_low + 2, request.strike_high - 2))
    assert venue.market_data_lines() == len(narrow) < len(quotes)  # lines leaving the band are cancelled
    wait_for(
        lambda: len(fake.requests(2)) == len(quotes) - len(narrow)
    )  # cancelMktData reaches the fake a moment later


def test_bind_and_release_a_contract_many_times(venue: Any, market: Any, fake: Any) -> None:
    venue.subscribe_bars(["SPY"], lambda bar: None)  # the venue's minute comes from the bars
    band = venue.chain(_band(market, 1.0))
    outside = next(s for s in sorted(fake.universe.options) if s.startswith("SPY240105"))
    got: list[Any] = []
    for _ in range(15):
        venue.subscribe_quotes([outside], got.append)
        assert venue.market_data_lines() == len(band) + 1
        venue.unsubscribe_quotes([outside])
        assert venue.market_data_lines() == len(band)
    venue.subscribe_quotes([outside], got.append)
    n = len(got)
    market.step()
    expected = market.quote(outside)
    wait_for(lambda: any(q.ts == market.now() and q.bid == expected.bid for q in got[n:]))
    assert {q.option_symbol for q in got} == {outside}


def test_limit_order_fills_at_the_next_minute_and_books_its_commission(venue: Any, market: Any) -> None:
    events: list[Any] = []
    venue.subscribe_orders(events.append)
    q = _call_near_money(venue, market)
    report = venue.submit(OrderRequest("run1-e1", q.option_symbol, "buy", 2, q.ask + 0.20))
    assert report.status is OrderStatus.ACCEPTED and report.client_order_id == "run1-e1"
    assert report.submitted_at == market.now()
    market.step()
    wait_for(lambda: any(e.kind is EventKind.COMMISSION for e in events))
    kinds = [e.kind for e in events]
    assert kinds == [EventKind.ACCEPTED, EventKind.FILL, EventKind.COMMISSION]
    fill = events[1].execution
    assert (
        fill.qty == 2 and fill.price == market.quote(q.option_symbol).ask
    )  # buy at the ask of the fill minute
    assert fill.commission is None and fill.ts == market.now()  # booked without waiting for the report
    assert events[2].execution.execution_id == fill.execution_id and events[
        2
    ].execution.commission == pytest.approx(1.30)
    wait_for(lambda: venue.positions())
    assert [(p.symbol, p.qty) for p in venue.positions()] == [(q.option_symbol, 2)]
    assert venue.positions()[0].avg_price == pytest.approx(fill.price)
    wait_for(lambda: venue.account().cash == pytest.approx(market.cash))


@pytest.mark.parametrize("commission", ["late", "never"])
def test_partial_then_full_fill_booked_per_execution(
    venue: Any, market: Any, fake: Any, commission: str
) -> None:
    events: list[Any] = []
    venue.subscribe_orders(events.append)
    fake.faults.split_next_fill, fake.faults.commission = True, commission
    q = _call_near_money(venue, market)
    venue.submit(OrderRequest("run1-p1", q.option_symbol, "buy", 3, q.ask + 0.20))
    market.step()
    wait_for(lambda: any(e.kind is EventKind.FILL for e in events))
    fills = [e for e in events if e.execution is not None and e.kind is not EventKind.COMMISSION]
    assert [(e.kind, e.execution.qty) for e in fills] == [(EventKind.PARTIAL_FILL, 1), (EventKind.FILL, 2)]
    assert fills[0].order.filled_qty == 1 and fills[1].order.filled_qty == 3
    assert len({e.execution.execution_id for e in fills}) == 2
    assert all(e.execution.commission is None for e in fills)
    market.step()
    market.step()
    if commission == "late":
        wait_for(lambda: sum(e.kind is EventKind.COMMISSION for e in events) == 2)
        assert sum(e.execution.commission for e in events if e.kind is EventKind.COMMISSION) == pytest.approx(
            3 * 0.65
        )
    else:
        venue.clock()  # a round trip: everything the fake sent before it has been handled
        assert not [e for e in events if e.kind is EventKind.COMMISSION]


def test_cancel_is_reported_as_canceled(venue: Any, market: Any) -> None:
    events: list[Any] = []
    venue.subscribe_orders(events.append)
    q = _call_near_money(venue, market)
    report = venue.submit(OrderRequest("run1-c1", q.option_symbol, "buy", 1, round(q.bid / 2, 2)))
    venue.cancel(report.venue_order_id)
    wait_for(lambda: any(e.kind is EventKind.CANCELED for e in events))
    assert venue.find_order("run1-c1").status is OrderStatus.CANCELED
    assert venue.open_orders() == []


def test_rejection_carries_ibs_text(venue: Any, market: Any, fake: Any) -> None:
    q = _call_near_money(venue, market)
    fake.faults.reject_next = "The account has insufficient buying power"
    with pytest.raises(VenueError) as err:
        venue.submit(OrderRequest("run1-r1", q.option_symbol, "buy", 1, q.ask))
    assert err.value.kind is VenueErrorKind.REJECTED
    assert "insufficient buying power" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(
        VenueError
    ) as err2:  # the market's own refusal (more than the cash) travels the same way
        venue.submit(OrderRequest("run1-r2", q.option_symbol, "buy", 5000, q.ask))
    assert err2.value.kind is VenueErrorKind.REJECTED and "insufficient buying power" in str(err2.value)


def test_lost_order_reply_is_found_by_its_order_ref(venue: Any, market: Any, fake: Any) -> None:
    q = _call_near_money(venue, market)
    fake.faults.lose_next_reply = True
    with pytest.raises(VenueError) as err:
        venue.submit(OrderRequest("run1-l1", q.option_symbol, "buy", 1, q.ask + 0.2))
    assert err.value.kind is VenueErrorKind.LOST_REPLY and "orderRef" in str(err.value)
    found = venue.find_order("run1-l1")
    assert found is not None and found.status is OrderStatus.ACCEPTED and found.qty == 1
    assert len(fake.requests(3)) == 1  # never resent


def test_dropped_connection_reconnects_resubscribes_and_books_missed_fills(
    venue: Any, market: Any, fake: Any
) -> None:
    status: list[tuple[str, bool, str]] = []
    venue.on_status(lambda *s: status.append(s))
    events: list[Any] = []
    venue.subscribe_orders(events.append)
    bars: list[Any] = []
    venue.subscribe_bars(["SPY"], bars.append)
    q = _call_near_money(venue, market)
    venue.submit(OrderRequest("run1-d1", q.option_symbol, "buy", 1, q.ask + 0.2))
    fake.faults.refuse_connections = True
    fake.drop_connections()
    wait_for(lambda: any(not up for _, up, _ in status))
    market.step()  # the order fills while the session is down
    fake.faults.refuse_connections = False
    wait_for(lambda: venue.reconnects == 1 and sum(up for _, up, _ in status) == 3, timeout=10)
    wait_for(lambda: any(e.kind is EventKind.FILL for e in events))
    fill = next(e for e in events if e.kind is EventKind.FILL)
    assert fill.execution.client_order_id == "run1-d1" and fill.execution.ts == market.now()
    assert {s for s, up, _ in status if not up} == {"bars", "quotes", "orders"}
    market.step()
    wait_for(lambda: bars and bars[-1].start == market.now() - MINUTE)  # live bars again after the reconnect
    assert venue.market_data_lines() >= 1


def test_connectivity_lost_and_restored_is_reported(venue: Any, fake: Any) -> None:
    status: list[tuple[str, bool, str]] = []
    venue.on_status(lambda *s: status.append(s))
    fake.connectivity_blip()
    wait_for(lambda: len(status) == 6)
    assert [up for _, up, _ in status] == [False] * 3 + [True] * 3
    assert "1100" in status[0][2] and "1102" in status[-1][2]


def test_a_silent_bar_stream_counts_as_down_after_the_data_timeout(fake: Any, market: Any) -> None:
    venue = make_venue(fake, data_timeout=0.4)
    venue.connect()
    try:
        status: list[tuple[str, bool, str]] = []
        venue.on_status(lambda *s: status.append(s))
        bars: list[Any] = []
        venue.subscribe_bars(["SPY"], bars.append)
        fake.faults.mute_bars = True  # connected, but no bar comes
        market.step()
        wait_for(lambda: any(s == "bars" and not up and "silent" in m for s, up, m in status))
        fake.faults.mute_bars = False
        wait_for(lambda: venue.reconnects == 1 and status[-1][1])
        market.step()
        wait_for(lambda: bars and bars[-1].start == market.now() - MINUTE)
    finally:
        venue.close()


def test_a_band_wider_than_the_request_throttle_is_quoted_whole(fake: Any, market: Any) -> None:
    """The client throttles its requests (45 a second by default, 20 here): a band of more new lines
    goes out over seconds, and the snapshot waits for the last of them (a line asked late must not
    be missing at the signal)."""
    venue = make_venue(fake, max_quote_lines=400, request_timeout=10.0)
    venue.connect()
    try:
        venue.ib.client.MaxRequests = 20
        px = market.last_price("SPY")
        request = ChainRequest("SPY", [], px - 100.0, px + 100.0)  # every expiry and strike listed
        wanted = venue._band_symbols(request)
        assert len(wanted) > 2 * venue.ib.client.MaxRequests  # more than two seconds of requests
        quoted = {q.option_symbol for q in venue.chain(request)}
        assert quoted == {s for s in wanted if market.quote(s) is not None}
    finally:
        venue.close()
