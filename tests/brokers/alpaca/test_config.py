"""AlpacaConfig from the environment: paper unless live, every endpoint overridable, keys never shown."""

from __future__ import annotations

import pytest

from brokers.alpaca.config import AlpacaConfig
from brokers.live.venue import VenueError, VenueErrorKind
from tests.support.fake_keys import fake_keys

KEY, SECRET = fake_keys("config")
KEYS = {"APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET}


def test_defaults_are_paper_endpoints_and_the_free_feeds() -> None:
    c = AlpacaConfig.from_environment({}, KEYS)
    assert c.trading_url == "https://paper-api.alpaca.markets"
    assert c.trading_stream_url == "wss://paper-api.alpaca.markets/stream"
    assert c.data_url == "https://data.alpaca.markets"
    assert c.stock_stream_url == "wss://stream.data.alpaca.markets/v2/iex"
    assert c.option_stream_url == "wss://stream.data.alpaca.markets/v1beta1/indicative"
    assert (c.stock_feed, c.option_feed, c.live) == ("iex", "indicative", False)


def test_live_only_when_the_options_say_so() -> None:
    c = AlpacaConfig.from_environment({"live": True}, KEYS)
    assert c.live and c.trading_url == "https://api.alpaca.markets"
    assert c.trading_stream_url == "wss://api.alpaca.markets/stream"


def test_every_endpoint_and_feed_comes_from_the_environment() -> None:
    env = {
        **KEYS,
        "APCA_TRADING_URL": "http://127.0.0.1:1/",
        "APCA_DATA_URL": "http://127.0.0.1:2",
        "APCA_STOCK_STREAM_URL": "ws://127.0.0.1:3/v2/sip",
        "APCA_OPTION_STREAM_URL": "ws://127.0.0.1:3/v1beta1/opra",
        "APCA_TRADING_STREAM_URL": "ws://127.0.0.1:3/stream",
        "APCA_STOCK_FEED": "SIP",
        "APCA_OPTION_FEED": "opra",
    }
    c = AlpacaConfig.from_environment({"data_timeout": "7"}, env)
    assert (c.trading_url, c.data_url) == ("http://127.0.0.1:1", "http://127.0.0.1:2")
    assert c.stock_stream_url.endswith("/v2/sip") and c.option_stream_url.endswith("/v1beta1/opra")
    assert c.trading_stream_url == "ws://127.0.0.1:3/stream"
    assert (c.stock_feed, c.option_feed, c.data_timeout) == ("sip", "opra", 7.0)


def test_repr_never_shows_the_keys() -> None:
    c = AlpacaConfig.from_environment({}, KEYS)
    text = repr(c) + str(c)
    assert KEY not in text and SECRET not in text
    assert "paper-api.alpaca.markets" in text


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "APCA_API_KEY_ID and APCA_API_SECRET_KEY not set"),
        ({"APCA_API_KEY_ID": "k"}, "APCA_API_SECRET_KEY not set"),
        ({"APCA_API_SECRET_KEY": "s", "APCA_API_KEY_ID": " "}, "APCA_API_KEY_ID not set"),
    ],
)
def test_missing_keys_are_one_auth_line_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(VenueError) as err:
        AlpacaConfig.from_environment({}, env)
    assert err.value.kind is VenueErrorKind.AUTH
    assert named in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"APCA_STOCK_FEED": "delayed_sip"}, "APCA_STOCK_FEED"),
        ({"APCA_OPTION_FEED": "iex"}, "APCA_OPTION_FEED"),
        ({"APCA_TRADING_URL": "localhost:80"}, "APCA_TRADING_URL"),
    ],
)
def test_bad_settings_are_one_line_naming_the_variable(extra: dict[str, str], named: str) -> None:
    with pytest.raises(VenueError) as err:
        AlpacaConfig.from_environment({}, {**KEYS, **extra})
    assert named in str(err.value) and "\n" not in str(err.value)


def test_a_bad_data_timeout_is_refused() -> None:
    with pytest.raises(VenueError, match="data_timeout"):
        AlpacaConfig.from_environment({"data_timeout": "0"}, KEYS)
