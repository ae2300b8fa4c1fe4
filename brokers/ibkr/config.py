"""Where the IB session goes: host, port, client id (CLI options, else ``IB_HOST/IB_PORT/IB_CLIENT_ID``).

TWS listens on 7497 (paper) / 7496 (live), IB Gateway on 4002 (paper) / 4001 (live). A port
from the other side of ``--live`` is refused with one line before anything connects; any
other port (a loopback fake, a custom gateway) is taken as given, and the account the
session reports decides (paper accounts start with ``D``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from brokers.live.venue import VenueError, VenueErrorKind

PAPER_PORTS = frozenset({7497, 4002})
LIVE_PORTS = frozenset({7496, 4001})
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7497
DEFAULT_CLIENT_ID = 1


@dataclass(frozen=True)
class IBConfig:
    """One IB API session. Times are wall seconds (watchdogs and request timeouts only)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    client_id: int = DEFAULT_CLIENT_ID
    live: bool = False
    allow_delayed: bool = False
    readonly: bool = False
    account: str = ""
    connect_timeout: float = 5.0
    request_timeout: float = 15.0
    data_timeout: float = 120.0  # a connected but silent bar stream counts as down after this
    reconnect_initial: float = 0.5
    reconnect_max: float = 30.0
    pacing_backoff: float = 1.0  # first wait after a pacing violation (doubles, bounded)
    max_quote_lines: int = 90  # market-data lines we may hold (IB's default allowance is 100)
    band_strikes: int = 0  # 0: every listed strike inside the requested band

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise VenueError(
                VenueErrorKind.NETWORK,
                f"IB port {self.port}: use 1-65535 (7497 paper TWS, 4002 paper Gateway)",
            )
        if self.client_id < 0:
            raise VenueError(VenueErrorKind.NETWORK, f"IB client id {self.client_id}: use an integer >= 0")

    def check_port(self) -> None:
        """Refuse a well-known port from the other side of ``live`` (one line, kind live_account)."""
        if not self.live and self.port in LIVE_PORTS:
            raise VenueError(
                VenueErrorKind.LIVE_ACCOUNT,
                f"IB port {self.port} is a LIVE trading port (TWS 7496 / Gateway 4001) but --live was not given: "
                "use the paper port 7497 (TWS) or 4002 (Gateway), or pass --live to trade real money",
            )
        if self.live and self.port in PAPER_PORTS:
            raise VenueError(
                VenueErrorKind.LIVE_ACCOUNT,
                f"IB port {self.port} is a PAPER port (TWS 7497 / Gateway 4002) but --live was given: "
                "use 7496 (TWS) or 4001 (Gateway) for the live account, or drop --live",
            )

    def check_account(self, accounts: list[str]) -> str:
        """The account to trade: ``account`` if given (must be managed), else the only one; paper unless live."""
        if self.account and self.account not in accounts:
            raise VenueError(
                VenueErrorKind.AUTH,
                f"IB account {self.account} is not managed by this session (it has {', '.join(accounts) or 'none'})",
            )
        if not self.account and len(accounts) != 1:
            raise VenueError(
                VenueErrorKind.AUTH,
                f"this IB session manages {len(accounts)} accounts ({', '.join(accounts)}): choose one with IB_ACCOUNT",
            )
        account = self.account or accounts[0]
        paper = is_paper_account(account)
        if not self.live and not paper:
            raise VenueError(
                VenueErrorKind.LIVE_ACCOUNT,
                f"IB account {account} is a live (real-money) account but --live was not given: connect to the paper session",
            )
        if self.live and paper:
            raise VenueError(
                VenueErrorKind.LIVE_ACCOUNT,
                f"IB account {account} is a paper account but --live was given: drop --live",
            )
        return account


def is_paper_account(account: str) -> bool:
    """IB paper accounts are ``DU…`` (individual) or ``DF…`` (advisor)."""
    return account.upper().startswith("D")


def _pick(options: Mapping[str, Any], env: Mapping[str, str], key: str, env_key: str) -> Any:
    value = options.get(key)
    if value is not None and value != "":
        return value
    return env.get(env_key) or None


def _as_int(value: Any, what: str, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise VenueError(VenueErrorKind.NETWORK, f"{what}={value!r}: use an integer") from None


def _as_float(value: Any, what: str, default: float) -> float:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise VenueError(VenueErrorKind.NETWORK, f"{what}={value!r}: use a number of seconds") from None


def config_from(options: Mapping[str, Any], env: Mapping[str, str]) -> IBConfig:
    """The session settings: CLI ``options`` first (``host``, ``port``, ``client_id``, ``live``…), then env."""
    return IBConfig(
        host=str(_pick(options, env, "host", "IB_HOST") or DEFAULT_HOST),
        port=_as_int(_pick(options, env, "port", "IB_PORT"), "port (--port / IB_PORT)", DEFAULT_PORT),
        client_id=_as_int(
            _pick(options, env, "client_id", "IB_CLIENT_ID"),
            "client id (--client-id / IB_CLIENT_ID)",
            DEFAULT_CLIENT_ID,
        ),
        live=bool(options.get("live", False)),
        allow_delayed=bool(options.get("allow_delayed", False)),
        readonly=bool(options.get("readonly", False)),
        account=str(_pick(options, env, "account", "IB_ACCOUNT") or ""),
        data_timeout=_as_float(options.get("data_timeout"), "data_timeout", IBConfig.data_timeout),
    )


__all__ = ["LIVE_PORTS", "PAPER_PORTS", "IBConfig", "config_from", "is_paper_account"]
