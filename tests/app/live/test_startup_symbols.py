"""Start-up: a ``--symbols`` entry the venue lists no options of (in the strategy's DTE window) is refused.

``check_symbols`` asks the venue for the listed expiries of the session the run will trade
(``trading_day``: today's while open, else the next session's, so a run started overnight is
told at once instead of after the wait); every refusal is a ``LiveStop`` line and its code.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app import cli
from app.live.startup import LiveStop, check_symbols, trading_day
from brokers.live.venue import VenueError, VenueErrorKind
from tests.app.live.conftest import SPY_DAY
from tests.support.replay_market import ReplayMarket
from tests.support.replay_venue import ReplayVenue

NEXT = date(2024, 10, 30)


@pytest.mark.parametrize(("start_et", "day"), [("08:00", SPY_DAY), ("11:00", SPY_DAY), ("16:30", NEXT)])
def test_the_trading_day_is_todays_session_until_the_close_then_the_next(
    spy_catalog: Path, start_et: str, day: date
) -> None:
    venue = ReplayVenue(ReplayMarket(spy_catalog, ["SPY"], SPY_DAY, warmup_days=0, start_et=start_et))
    assert trading_day(venue.clock()) == day


def test_each_symbol_needs_an_expiry_listed_within_the_dte_window(spy_catalog: Path) -> None:
    market = ReplayMarket(spy_catalog, ["SPY"], SPY_DAY, warmup_days=0, start_et="08:00")
    venue = ReplayVenue(market)
    check_symbols(venue, "replay", ["SPY"], SPY_DAY, 1)  # 0DTE and 1DTE listed: no refusal
    with pytest.raises(LiveStop) as stop:
        check_symbols(venue, "replay", ["SPY", "XYZ"], SPY_DAY, 1)
    assert stop.value.code == cli.EXIT_BAD_INPUT
    assert str(stop.value) == (
        "--symbols XYZ: replay lists no options on XYZ expiring 2024-10-29 to 2024-10-30 (the strategy's 0-1 DTE "
        "window); drop it from --symbols or pick an underlying with listed options"
    )
    last = max(market.option_expiries("SPY", SPY_DAY, date(2099, 1, 1)))
    after = date.fromordinal(last.toordinal() + 1)
    with pytest.raises(LiveStop) as stop:  # listed, but nothing in a window past its last expiry
        check_symbols(venue, "replay", ["SPY"], after, 0)
    assert stop.value.code == cli.EXIT_BAD_INPUT and f"expiring {after} (the strategy's 0-0 DTE" in str(
        stop.value
    )


class _Down:
    name = "down"

    def option_expiries(self, underlying: str, first: date, last: date) -> list[date]:
        raise VenueError(VenueErrorKind.NETWORK, "down: GET /v2/options/contracts: connection refused")


def test_a_venue_failure_while_listing_is_its_kinds_line_and_code() -> None:
    with pytest.raises(LiveStop) as stop:
        check_symbols(_Down(), "down", ["SPY"], SPY_DAY, 1)  # type: ignore[arg-type]
    assert stop.value.code == cli.EXIT_NETWORK
    assert str(stop.value) == "--symbols SPY: down: GET /v2/options/contracts: connection refused"
