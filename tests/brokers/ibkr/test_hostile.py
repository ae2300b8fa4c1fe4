"""Bad input and hostile conditions: each one VenueError line of the right kind, through the real client."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

import pytest

from brokers.ibkr.config import IBConfig, config_from
from brokers.ibkr.venue import IBVenue, venue_from_environment
from brokers.live.venue import ChainRequest, OrderRequest, VenueError, VenueErrorKind
from tests.brokers.ibkr.conftest import DAY, make_venue


def _one_line(err: pytest.ExceptionInfo[VenueError], kind: VenueErrorKind, *needles: str) -> str:
    text = str(err.value)
    assert err.value.kind is kind, text
    assert "\n" not in text and "Traceback" not in text
    for n in needles:
        assert n in text, text
    return text


def _band(market: Any) -> ChainRequest:
    px = market.last_price("SPY")
    return ChainRequest("SPY", [DAY], px - 1, px + 1)


def test_nothing_listening_is_one_network_line() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the venue tries it
    venue = IBVenue(IBConfig(port=port, connect_timeout=2))
    with pytest.raises(VenueError) as err:
        venue.connect()
    _one_line(err, VenueErrorKind.NETWORK, f"127.0.0.1:{port}", "TWS or IB Gateway")
    venue.close()


@pytest.mark.parametrize(
    ("port", "live", "says"),
    [
        (7496, False, "LIVE trading port"),
        (4001, False, "LIVE"),
        (7497, True, "PAPER port"),
        (4002, True, "PAPER"),
    ],
)
def test_a_port_that_contradicts_live_is_refused_before_connecting(port: int, live: bool, says: str) -> None:
    venue = venue_from_environment({"live": live}, {"IB_PORT": str(port)})
    with pytest.raises(VenueError) as err:
        venue.connect()
    _one_line(err, VenueErrorKind.LIVE_ACCOUNT, says, str(port))


def test_cli_options_win_over_the_environment() -> None:
    cfg = config_from(
        {"host": None, "port": 4002, "client_id": None},
        {"IB_HOST": "gw", "IB_PORT": "7497", "IB_CLIENT_ID": "9"},
    )
    assert (cfg.host, cfg.port, cfg.client_id) == ("gw", 4002, 9)
    with pytest.raises(VenueError) as err:
        config_from({}, {"IB_PORT": "seven"})
    _one_line(err, VenueErrorKind.NETWORK, "IB_PORT", "'seven'")


def test_client_id_in_use_is_one_line(fake: Any) -> None:
    first = make_venue(fake, client_id=77)
    first.connect()
    second = make_venue(fake, client_id=77)
    with pytest.raises(VenueError) as err:
        second.connect()
    _one_line(err, VenueErrorKind.AUTH, "client id 77", "326", "--client-id")
    second.close()
    first.close()


def test_no_market_data_subscription_is_one_permission_line(venue: Any, market: Any, fake: Any) -> None:
    fake.faults.no_market_data = True
    with pytest.raises(VenueError) as err:
        venue.chain(_band(market))
    _one_line(err, VenueErrorKind.PERMISSION, "354", "--allow-delayed")


def test_delayed_data_is_refused_without_allow_delayed(venue: Any, market: Any, fake: Any) -> None:
    fake.faults.delayed = True
    with pytest.raises(VenueError) as err:
        venue.chain(_band(market))
    _one_line(err, VenueErrorKind.PERMISSION, "DELAYED", "10167", "--allow-delayed")


def test_delayed_data_is_flagged_with_allow_delayed(fake: Any, market: Any) -> None:
    fake.faults.delayed = True
    venue = make_venue(fake, allow_delayed=True)
    venue.connect()
    try:
        quotes = venue.chain(_band(market))
        assert quotes and all(q.delayed for q in quotes)  # tick types 66-70 and marketDataType 3
        q = quotes[0]
        expected = market.quote(q.option_symbol)
        assert (q.bid, q.ask) == (expected.bid, expected.ask)
        assert fake.requests(59)[-1][2] == "3"  # reqMarketDataType(3)
    finally:
        venue.close()


def test_pacing_violation_backs_off_then_succeeds(fake: Any, market: Any) -> None:
    venue = make_venue(fake, pacing_backoff=0.05)
    venue.connect()
    try:
        fake.faults.pacing_next = 2
        now = market.now()
        bars = venue.historical_bars("SPY", now - timedelta(hours=1), now)
        assert bars == market.bars("SPY", now - timedelta(hours=1), now)
        assert len(fake.requests(20)) == 3  # two refused, one served: a bounded number of retries
        assert sum("pacing violation" in n and "backing off" in n for n in venue.notices) == 2
        fake.faults.pacing_next = 10
        with pytest.raises(VenueError) as err:
            venue.historical_bars("SPY", now - timedelta(hours=1), now)
        _one_line(err, VenueErrorKind.RATE_LIMIT, "162", "pacing")
        assert len(fake.requests(20)) == 3 + 4
    finally:
        venue.close()


def test_read_only_api_refuses_orders_with_one_line(venue: Any, market: Any, fake: Any) -> None:
    quote = venue.chain(_band(market))[0]
    fake.faults.readonly = True
    with pytest.raises(VenueError) as err:
        venue.submit(OrderRequest("run1-ro", quote.option_symbol, "buy", 1, quote.ask))
    _one_line(err, VenueErrorKind.PERMISSION, "read-only", "Read-Only API")


def test_unknown_contract_is_one_bad_symbol_line(venue: Any) -> None:
    with pytest.raises(VenueError) as err:
        venue.submit(OrderRequest("run1-u", "SPY240104C09990000", "buy", 1, 1.0))
    _one_line(err, VenueErrorKind.BAD_SYMBOL, "SPY240104C09990000", "200")
    with pytest.raises(VenueError) as err2:
        venue.historical_bars("NOPE", market_start := DAY_START, market_start + timedelta(minutes=5))
    _one_line(err2, VenueErrorKind.BAD_SYMBOL, "NOPE")


from datetime import UTC, datetime  # noqa: E402

DAY_START = datetime(2024, 1, 4, 14, 30, tzinfo=UTC)
