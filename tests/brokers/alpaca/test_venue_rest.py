"""AlpacaVenue's REST side through alpaca-py's real clients against the fake Alpaca."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest

from brokers.alpaca.venue import AlpacaVenue
from brokers.live.venue import ChainRequest, OrderRequest, OrderStatus, VenueError, VenueErrorKind
from options_scalper.occ import parse_occ
from tests.brokers.alpaca.conftest import DAY, make_venue
from tests.support.fake_alpaca import FakeAlpaca
from tests.support.replay_market import ReplayMarket


def _chain(venue: AlpacaVenue, market: ReplayMarket) -> list:
    price = market.last_price("SPY")
    return venue.chain(ChainRequest("SPY", [DAY], price - 6, price + 6))


def test_account_clock_and_an_empty_book(venue: AlpacaVenue, market: ReplayMarket) -> None:
    a = venue.account()
    assert (a.account_number, a.paper, a.options_approved, a.cash) == ("PA0000REPLAY", True, True, 100_000.0)
    c = venue.clock()
    assert c.now == market.now() and c.is_open and c.next_close == market.close_utc
    assert venue.positions() == [] and venue.open_orders() == []
    assert venue.find_order("nobody") is None


def test_warmup_bars_come_in_pages_start_stamped_closed_only(venue: AlpacaVenue, fake: FakeAlpaca) -> None:
    now = fake.market.now()
    bars = venue.historical_bars("SPY", now - timedelta(days=3), now)
    assert bars == fake.market.bars("SPY", now - timedelta(days=3), now)
    assert len(bars) == 2 * 390 + 30  # two warm-up sessions and 09:30-10:00 today
    assert fake.requests.count(("GET", "/v2/stocks/bars")) == 5  # 810 bars in pages of 200
    assert bars[-1].start == now - timedelta(minutes=1)
    assert (
        venue.historical_bars("SPY", now - timedelta(minutes=3), now - timedelta(seconds=30)) == bars[-3:-1]
    )


def test_chain_snapshot_pages_with_alpacas_greeks(venue: AlpacaVenue, fake: FakeAlpaca) -> None:
    fake.page_size = 5
    quotes = _chain(venue, fake.market)
    price = fake.market.last_price("SPY")
    expected = fake.market.chain(ChainRequest("SPY", [DAY], price - 6, price + 6))
    assert len(quotes) == len(expected) > 10
    assert fake.requests.count(("GET", "/v1beta1/options/snapshots/SPY")) == -(-len(expected) // 5)
    by_symbol = {q.option_symbol: q for q in expected}
    for q in quotes:
        e = by_symbol[q.option_symbol]
        assert (q.bid, q.ask, q.bid_size, q.ask_size, q.ts) == (e.bid, e.ask, e.bid_size, e.ask_size, e.ts)
        assert q.delta == pytest.approx(e.delta) and q.iv == pytest.approx(e.iv) and q.delayed


def test_submit_then_cancel(venue: AlpacaVenue, market: ReplayMarket) -> None:
    q = _chain(venue, market)[0]
    report = venue.submit(OrderRequest("r1-1", q.option_symbol, "buy", 1, round(q.bid - 0.5, 2)))
    assert (report.client_order_id, report.status, report.qty, report.filled_qty) == (
        "r1-1",
        OrderStatus.ACCEPTED,
        1,
        0,
    )
    assert [o.venue_order_id for o in venue.open_orders()] == [report.venue_order_id]
    venue.cancel(report.venue_order_id)
    found = venue.find_order("r1-1")
    assert found is not None and found.status is OrderStatus.CANCELED
    assert venue.open_orders() == []
    with pytest.raises(VenueError) as err:
        venue.cancel(report.venue_order_id)
    assert err.value.kind is VenueErrorKind.REJECTED and "not cancelable" in str(err.value)


@pytest.mark.parametrize("status", [403, 422])
def test_an_http_rejection_carries_alpacas_message(venue: AlpacaVenue, fake: FakeAlpaca, status: int) -> None:
    q = _chain(venue, fake.market)[0]
    fake.faults.reject_next("insufficient options buying power for 1 contract", status=status)
    with pytest.raises(VenueError) as err:
        venue.submit(OrderRequest("r1-2", q.option_symbol, "buy", 1, q.ask))
    assert err.value.kind is VenueErrorKind.REJECTED
    assert "insufficient options buying power for 1 contract" in str(err.value) and "\n" not in str(err.value)
    assert venue.find_order("r1-2") is None


def test_the_markets_own_refusal_is_a_rejection_with_its_reason(
    venue: AlpacaVenue, market: ReplayMarket
) -> None:
    q = _chain(venue, market)[0]
    with pytest.raises(VenueError) as err:
        venue.submit(OrderRequest("r1-3", q.option_symbol, "sell", 1, q.bid))
    assert err.value.kind is VenueErrorKind.REJECTED and "insufficient qty" in str(err.value)


def test_a_lost_submit_reply_is_found_again_by_client_order_id(venue: AlpacaVenue, fake: FakeAlpaca) -> None:
    q = _chain(venue, fake.market)[0]
    fake.faults.lose_next_reply()
    with pytest.raises(VenueError) as err:
        venue.submit(OrderRequest("r1-4", q.option_symbol, "buy", 1, round(q.bid - 0.5, 2)))
    assert err.value.kind is VenueErrorKind.LOST_REPLY and "client_order_id" in str(err.value)
    found = venue.find_order("r1-4")
    assert (
        found is not None and found.status is OrderStatus.ACCEPTED and found.option_symbol == q.option_symbol
    )
    assert len(fake.market.open_orders()) == 1  # created once, never resent


@pytest.mark.parametrize(("status", "kind"), [(500, VenueErrorKind.SERVER), (503, VenueErrorKind.SERVER),
                                              (429, VenueErrorKind.RATE_LIMIT)])  # fmt: skip
def test_server_errors_and_rate_limits_are_their_own_kinds(
    venue: AlpacaVenue, fake: FakeAlpaca, status: int, kind: VenueErrorKind
) -> None:
    fake.faults.error_next(status, "/v2/account")
    with pytest.raises(VenueError) as err:
        venue.account()
    assert err.value.kind is kind and str(status) in str(err.value)
    assert venue.account().cash == 100_000.0  # once only


def test_a_429_is_retried_by_alpaca_py_when_retries_are_on(venue: AlpacaVenue, fake: FakeAlpaca) -> None:
    venue.trading._retry = 1
    fake.faults.error_next(429, "/v2/clock")
    assert venue.clock().now == fake.market.now()
    assert fake.requests.count(("GET", "/v2/clock")) == 1  # the 429 was answered before routing


def test_wrong_keys_are_one_auth_line_naming_the_variables(fake: FakeAlpaca) -> None:
    venue = make_venue(fake, {"APCA_API_SECRET_KEY": "not-the-secret"})
    with pytest.raises(VenueError) as err:
        venue.connect()
    assert err.value.kind is VenueErrorKind.AUTH and "\n" not in str(err.value)
    assert "APCA_API_KEY_ID" in str(err.value) and "APCA_API_SECRET_KEY" in str(err.value)
    with pytest.raises(VenueError) as data_err:  # the data host answers 403
        venue.historical_bars("SPY", fake.market.now() - timedelta(hours=1), fake.market.now())
    assert data_err.value.kind is VenueErrorKind.AUTH


def test_an_account_without_options_approval_is_a_permission_error(fake: FakeAlpaca) -> None:
    fake.faults.options_not_approved()
    with pytest.raises(VenueError) as err:
        make_venue(fake).connect()
    assert err.value.kind is VenueErrorKind.PERMISSION and "options level 0" in str(err.value)
    dry = make_venue(fake, dry_run=True)
    dry.connect()  # a dry run places no orders
    assert dry.account().options_approved is False
    with pytest.raises(VenueError) as order_err:
        dry.submit(OrderRequest("r1-5", "SPY240104C00571000", "buy", 1, 1.0))
    assert order_err.value.kind is VenueErrorKind.PERMISSION


def test_a_real_money_account_needs_live(fake: FakeAlpaca) -> None:
    fake.faults.real_money_account()
    with pytest.raises(VenueError) as err:
        make_venue(fake).connect()
    assert err.value.kind is VenueErrorKind.LIVE_ACCOUNT and "--live" in str(err.value)
    live = make_venue(fake, live=True)
    live.connect()
    assert live.account().paper is False


def test_nothing_listening_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"APCA_API_KEY_ID": "k", "APCA_API_SECRET_KEY": "s", "APCA_TRADING_URL": f"http://127.0.0.1:{port}"}
    from brokers.alpaca.venue import venue_from_environment

    venue = venue_from_environment({}, env)
    for call in (venue.connect, lambda: venue.submit(OrderRequest("x", "SPY240104C00571000", "buy", 1, 1.0))):
        with pytest.raises(VenueError) as err:
            call()
        assert err.value.kind is VenueErrorKind.NETWORK and f"127.0.0.1:{port}" in str(err.value)


def test_the_calendar_has_alpacas_shape_with_half_days(venue: AlpacaVenue) -> None:
    from datetime import date

    from alpaca.trading.requests import GetCalendarRequest

    days = venue.trading.get_calendar(GetCalendarRequest(start=date(2024, 11, 27), end=date(2024, 12, 2)))
    assert [(d.date.isoformat(), f"{d.open:%H:%M}", f"{d.close:%H:%M}") for d in days] == [  # type: ignore[union-attr]
        ("2024-11-27", "09:30", "16:00"), ("2024-11-29", "09:30", "13:00"), ("2024-12-02", "09:30", "16:00"),
    ]  # fmt: skip


def test_the_chain_carries_the_catalogs_open_interest_and_prior_volume_from_one_listing_a_day(
    venue: AlpacaVenue, fake: FakeAlpaca
) -> None:
    fake.page_size = 10
    market = fake.market
    price = market.last_price("SPY")
    expected = {q.option_symbol: q for q in market.chain(ChainRequest("SPY", [DAY], price - 6, price + 6))}
    assert any(q.open_interest for q in expected.values()) and any(q.volume for q in expected.values())
    for _ in range(3):
        quotes = _chain(venue, market)
        market.step()
    listed = [s for s, _ in market.listed("SPY") if s.startswith(f"SPY{DAY:%y%m%d}")]
    # one listing (all its pages of 10, DAY's expiry only) for the day, however many minutes
    assert fake.requests.count(("GET", "/v2/options/contracts")) == -(-len(listed) // 10) > 1
    assert len(quotes) == len(expected) > 10
    for q in quotes:
        e = expected[q.option_symbol]
        # open interest and volume are the previous session's: the same every minute of the day
        assert (q.open_interest, q.volume) == (e.open_interest, e.volume)


def test_listed_expiries_and_an_underlying_without_options(venue: AlpacaVenue, fake: FakeAlpaca) -> None:
    later = DAY + timedelta(days=10)
    expiries = sorted({parse_occ(s).expiry for s, _ in fake.market.listed("SPY")})
    assert venue.option_expiries("SPY", DAY, later) == [d for d in expiries if DAY <= d <= later]
    assert venue.option_expiries("SPY", DAY, DAY) == [DAY]
    assert venue.option_expiries("XYZ", DAY, later) == []


def test_a_listing_without_the_previous_sessions_open_interest_is_asked_again_not_every_minute(
    venue: AlpacaVenue, fake: FakeAlpaca, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run started overnight lists the contracts before the new open interest is out: the listing's
    older figures are still published ones (used), and it is asked again at most every
    ``STALE_LISTING_RETRY`` seconds until one is dated the previous session; then never again that day."""
    import brokers.alpaca.venue as alpaca_venue

    fake.faults.open_interest_not_updated()
    stale = {q.option_symbol: q.open_interest for q in _chain(venue, fake.market)}
    assert any(stale.values())  # dated two sessions back: still published before the session
    _chain(venue, fake.market)
    assert fake.requests.count(("GET", "/v2/options/contracts")) == 1  # within the retry interval
    monkeypatch.setattr(alpaca_venue, "STALE_LISTING_RETRY", 0.0)
    fake.faults.open_interest_not_updated(False)
    fresh = {q.option_symbol: q.open_interest for q in _chain(venue, fake.market)}
    for _ in range(3):
        _chain(venue, fake.market)
    assert fake.requests.count(("GET", "/v2/options/contracts")) == 2  # asked again once, then fresh
    assert fresh == stale  # the replayed day's figures; only their date changed
