"""Alpaca connection settings, read once from the environment (keys never leave this object's fields).

Keys come from ``APCA_API_KEY_ID`` / ``APCA_API_SECRET_KEY`` only. Every endpoint can be
overridden (tests, proxies, the loopback fake): ``APCA_TRADING_URL`` and ``APCA_DATA_URL``
are REST bases (alpaca-py appends ``/v2/...``), the three ``*_STREAM_URL`` variables are full
websocket endpoints. Paper trading unless the options say ``live``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from brokers.live.venue import VenueError, VenueErrorKind

KEY_VAR = "APCA_API_KEY_ID"
SECRET_VAR = "APCA_API_SECRET_KEY"

PAPER_TRADING_URL = "https://paper-api.alpaca.markets"
LIVE_TRADING_URL = "https://api.alpaca.markets"
DATA_URL = "https://data.alpaca.markets"
STREAM_DATA_URL = "wss://stream.data.alpaca.markets"
PAPER_TRADING_STREAM_URL = "wss://paper-api.alpaca.markets/stream"
LIVE_TRADING_STREAM_URL = "wss://api.alpaca.markets/stream"

STOCK_FEEDS = ("iex", "sip")  # the only feeds alpaca-py's StockDataStream accepts
OPTION_FEEDS = ("indicative", "opra")
DEFAULT_DATA_TIMEOUT_S = 150.0  # bars arrive once a minute: a bar socket silent this long is down
DEFAULT_REQUEST_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class AlpacaConfig:
    """Where and how to reach Alpaca; ``repr`` shows endpoints and feeds, never the keys."""

    api_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    live: bool = False
    trading_url: str = PAPER_TRADING_URL
    data_url: str = DATA_URL
    stock_stream_url: str = f"{STREAM_DATA_URL}/v2/iex"
    option_stream_url: str = f"{STREAM_DATA_URL}/v1beta1/indicative"
    trading_stream_url: str = PAPER_TRADING_STREAM_URL
    stock_feed: str = "iex"
    option_feed: str = "indicative"
    data_timeout: float | None = DEFAULT_DATA_TIMEOUT_S
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S
    dry_run: bool = False

    @classmethod
    def from_environment(cls, options: Mapping[str, Any], env: Mapping[str, str]) -> AlpacaConfig:
        """Build the config; ``VenueError`` (one line naming the variable) when something is missing."""
        key, secret = env.get(KEY_VAR, "").strip(), env.get(SECRET_VAR, "").strip()
        missing = [name for name, value in ((KEY_VAR, key), (SECRET_VAR, secret)) if not value]
        if missing:
            raise VenueError(
                VenueErrorKind.AUTH,
                f"alpaca: {' and '.join(missing)} not set; export your Alpaca "
                f"{'live' if options.get('live') else 'paper'} API key id and secret "
                f"({KEY_VAR}, {SECRET_VAR})",
            )
        live = bool(options.get("live"))
        stock_feed = _feed(env, "APCA_STOCK_FEED", "iex", STOCK_FEEDS)
        option_feed = _feed(env, "APCA_OPTION_FEED", "indicative", OPTION_FEEDS)
        timeout = options.get("data_timeout")
        return cls(
            api_key=key,
            secret_key=secret,
            live=live,
            trading_url=_url(env, "APCA_TRADING_URL", LIVE_TRADING_URL if live else PAPER_TRADING_URL),
            data_url=_url(env, "APCA_DATA_URL", DATA_URL),
            stock_stream_url=_url(env, "APCA_STOCK_STREAM_URL", f"{STREAM_DATA_URL}/v2/{stock_feed}"),
            option_stream_url=_url(env, "APCA_OPTION_STREAM_URL", f"{STREAM_DATA_URL}/v1beta1/{option_feed}"),
            trading_stream_url=_url(
                env, "APCA_TRADING_STREAM_URL", LIVE_TRADING_STREAM_URL if live else PAPER_TRADING_STREAM_URL
            ),
            stock_feed=stock_feed,
            option_feed=option_feed,
            data_timeout=DEFAULT_DATA_TIMEOUT_S if timeout is None else _positive("data_timeout", timeout),
            dry_run=bool(options.get("dry_run")),
        )


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip().rstrip("/")
    if not value:
        return default
    if "://" not in value:
        raise VenueError(VenueErrorKind.NETWORK, f"alpaca: {name}={value!r} is not a URL; use e.g. {default}")
    return value


def _feed(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in allowed:
        raise VenueError(
            VenueErrorKind.PERMISSION,
            f"alpaca: {name}={value!r} is not a feed; use one of {', '.join(allowed)}",
        )
    return value


def _positive(name: str, value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds > 0:
        raise VenueError(
            VenueErrorKind.NETWORK, f"alpaca: {name}={value!r} must be a positive number of seconds"
        )
    return seconds


__all__ = ["KEY_VAR", "SECRET_VAR", "AlpacaConfig"]
