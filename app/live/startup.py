"""Before any order: the venue, the account, the clock, the market's hours.

``load_venue`` imports the broker's adapter lazily (``brokers.<broker>.venue``) and
builds it from the environment; ``connect`` opens it; ``check_account`` refuses a
real-money account unless ``--live`` was given and the account number typed back;
``clock_skew`` warns when this machine's clock and the venue's differ by more than
5 seconds; ``check_symbols`` refuses a ``--symbols`` entry the venue lists no options
of within the strategy's DTE window; ``wait_for_open`` counts down to the session (or
``--exit-if-closed`` stops). Every refusal is a ``LiveStop``: one line and its exit code.
"""

from __future__ import annotations

import importlib
import time as wall
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from app import cli
from brokers.live.chain import tradable_expiries
from brokers.live.venue import AccountReport, LiveVenue, VenueClock, VenueError, VenueErrorKind
from options_scalper.calendar import session_date, to_eastern

MAX_SKEW_SECONDS = 5.0

KIND_EXIT = {
    VenueErrorKind.AUTH: cli.EXIT_AUTH,
    VenueErrorKind.PERMISSION: cli.EXIT_PERMISSION,
    VenueErrorKind.NETWORK: cli.EXIT_NETWORK,
    VenueErrorKind.LIVE_ACCOUNT: cli.EXIT_LIVE_REFUSED,
    VenueErrorKind.BAD_SYMBOL: cli.EXIT_BAD_INPUT,
}

_EXTRA = {"alpaca": "alpaca", "ibkr": "ibkr"}


class LiveStop(Exception):
    """Stop the command with one line (``str()``) and ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(cli.one_line(message))
        self.code = code


def stop_for(exc: VenueError, what: str = "") -> LiveStop:
    """The ``LiveStop`` of a venue failure: its line and the exit code of its kind."""
    prefix = f"{what}: " if what else ""
    return LiveStop(prefix + str(exc), KIND_EXIT.get(exc.kind, cli.EXIT_RUN_FAILED))


def load_venue(broker: str, options: Mapping[str, Any], env: Mapping[str, str]) -> LiveVenue:
    """``brokers.<broker>.venue.venue_from_environment(options, env)``, one line on failure."""
    module_name = f"brokers.{broker}.venue"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.startswith("brokers"):
            raise LiveStop(
                f"--broker {broker}: this build has no {module_name} adapter", cli.EXIT_BAD_INPUT
            ) from None
        raise LiveStop(
            f"--broker {broker} needs the package {exc.name!r}: pip install -e '.[{_EXTRA.get(broker, broker)}]'",
            cli.EXIT_BAD_INPUT,
        ) from None
    try:
        venue: LiveVenue = module.venue_from_environment(options, env)
    except VenueError as exc:
        raise stop_for(exc) from None
    return venue


def connect(venue: LiveVenue) -> None:
    try:
        venue.connect()
    except VenueError as exc:
        raise stop_for(exc) from None


def check_account(account: AccountReport, live: bool, ask: Callable[[str], str] | None) -> str:
    """The run's mode (``paper`` or ``live``) for ``account``; ``LiveStop`` for what is refused.

    A real-money account (``paper`` False) needs ``--live`` and the account number typed
    back at the prompt (``ask``: reads one line; None: no terminal, refused).
    """
    if not account.options_approved:
        raise LiveStop(
            f"account {account.account_number} has no options trading approval; ask the broker for "
            "options level 2 (long calls and puts) and run again",
            cli.EXIT_PERMISSION,
        )
    if account.paper:
        return "paper"
    if not live:
        raise LiveStop(
            f"account {account.account_number} is a REAL-MONEY account; run_live.py trades paper accounts "
            "unless you pass --live (and type the account number back)",
            cli.EXIT_LIVE_REFUSED,
        )
    if ask is None:
        raise LiveStop(
            "--live needs the account number typed at the prompt; no terminal to ask on",
            cli.EXIT_LIVE_REFUSED,
        )
    try:
        typed = ask(f"REAL MONEY: type the account number {account.account_number} to trade it: ").strip()
    except EOFError:
        typed = ""
    if typed != account.account_number:
        raise LiveStop("the typed account number does not match; nothing was traded", cli.EXIT_LIVE_REFUSED)
    return "live"


def clock_skew(clock: VenueClock, now: datetime | None = None) -> float:
    """Seconds this machine's clock is ahead of the venue's (negative: behind)."""
    return ((now or datetime.now(UTC)) - clock.now).total_seconds()


def skew_warning(clock: VenueClock, now: datetime | None = None) -> str | None:
    skew = clock_skew(clock, now)
    if abs(skew) <= MAX_SKEW_SECONDS:
        return None
    return (
        f"this machine's clock is {abs(skew):,.0f} s {'ahead of' if skew > 0 else 'behind'} the venue's "
        f"({clock.now:%Y-%m-%d %H:%M:%S} UTC); bars and cutoffs follow the venue's stamps, but check NTP"
    )


def trading_day(clock: VenueClock) -> date:
    """The session the run trades: today's while the market is open, else the next one."""
    return session_date(clock.now if clock.is_open else clock.next_open)


def check_symbols(venue: LiveVenue, broker: str, symbols: Sequence[str], day: date, max_dte: int) -> None:
    """Refuse (``LiveStop``, exit 2) the first of ``symbols`` with no options listed within 0-``max_dte`` DTE of ``day``."""
    last = tradable_expiries(day, max_dte)[-1]
    for symbol in symbols:
        try:
            expiries = venue.option_expiries(symbol, day, last)
        except VenueError as exc:
            raise stop_for(exc, f"--symbols {symbol}") from None
        if not expiries:
            window = f"expiring {day}" if last == day else f"expiring {day} to {last}"
            raise LiveStop(
                f"--symbols {symbol}: {broker} lists no options on {symbol} {window} (the strategy's "
                f"0-{max_dte} DTE window); drop it from --symbols or pick an underlying with listed options",
                cli.EXIT_BAD_INPUT,
            )


def countdown(clock: VenueClock) -> str:
    left = max(0, int((clock.next_open - clock.now).total_seconds()))
    h, rest = divmod(left, 3600)
    return (
        f"market closed: the session opens in {h} h {rest // 60:02d} min "
        f"({to_eastern(clock.next_open):%a %Y-%m-%d %H:%M} ET); waiting (Ctrl-C to stop)"
    )


def wait_for_open(
    venue: LiveVenue,
    clock: VenueClock,
    say: Callable[[str], None],
    *,
    exit_if_closed: bool,
    sleep: Callable[[float], None] = wall.sleep,
    every: float = 60.0,
) -> VenueClock:
    """Return the venue's clock once the market is open; count down meanwhile (wall ``every`` s)."""
    if clock.is_open:
        return clock
    if exit_if_closed:
        raise LiveStop(countdown(clock).split("; waiting")[0] + " (--exit-if-closed)", cli.EXIT_MARKET_CLOSED)
    last_said = -every
    started = wall.monotonic()
    while not clock.is_open:
        elapsed = wall.monotonic() - started
        if elapsed - last_said >= every:
            say(countdown(clock))
            last_said = elapsed
        left = (clock.next_open - clock.now).total_seconds()
        sleep(min(every / 4, max(0.2, left)))
        try:
            clock = venue.clock()
        except VenueError as exc:
            raise stop_for(exc, "while waiting for the open") from None
    return clock


__all__ = [
    "KIND_EXIT",
    "MAX_SKEW_SECONDS",
    "LiveStop",
    "check_account",
    "check_symbols",
    "clock_skew",
    "connect",
    "countdown",
    "load_venue",
    "skew_warning",
    "stop_for",
    "trading_day",
    "wait_for_open",
]
