"""The IB adapter's pure parts: OCC <-> IB option contracts, prices, statuses, error lines."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from brokers.ibkr import ibapi
from brokers.ibkr.errors import Connectivity, classify
from brokers.ibkr.parsing import (
    bar_of,
    is_delayed,
    occ_of_contract,
    option_contract,
    price,
    settlement_of_contract,
    status_of,
    underlying_contract,
)
from brokers.live.venue import OrderStatus, VenueErrorKind


@pytest.mark.parametrize(
    ("occ", "symbol", "tc", "settles"),
    [
        ("SPXW240119C04750000", "SPX", "SPXW", "PM"),
        ("SPX240119P04750000", "SPX", "SPX", "AM"),
        ("SPY241029C00592500", "SPY", "SPY", "PM"),
    ],
)
def test_occ_and_ib_option_contracts_round_trip(occ: str, symbol: str, tc: str, settles: str) -> None:
    c = option_contract(occ)
    assert (c.symbol, c.tradingClass, c.exchange, c.multiplier, c.secType) == (
        symbol,
        tc,
        "SMART",
        "100",
        "OPT",
    )
    assert occ_of_contract(c) == occ and settlement_of_contract(c) == settles


def test_spx_is_an_index_and_spy_a_stock() -> None:
    spx, spy = underlying_contract("SPX"), underlying_contract("SPY")
    assert (spx.secType, spx.exchange) == ("IND", "CBOE") and isinstance(spx, ibapi.Index)
    assert (spy.secType, spy.exchange) == ("STK", "SMART")


def test_minus_one_and_nan_are_no_quote() -> None:
    assert (
        math.isnan(price(-1))
        and math.isnan(price(float("nan")))
        and math.isnan(price(0))
        and price(1.25) == 1.25
    )


def test_delayed_ticks_and_market_data_type_flag_a_ticker() -> None:
    assert is_delayed(SimpleNamespace(marketDataType=3, ticks=[]))
    assert is_delayed(SimpleNamespace(marketDataType=1, ticks=[SimpleNamespace(tickType=66)]))
    assert not is_delayed(SimpleNamespace(marketDataType=1, ticks=[SimpleNamespace(tickType=1)]))


def test_bars_are_stamped_at_their_start_in_utc() -> None:
    bar = SimpleNamespace(
        date=datetime(2024, 1, 4, 15, 0, tzinfo=UTC), open=1, high=2, low=0.5, close=1.5, volume=-1
    )
    b = bar_of("SPY", bar)
    assert b.start == datetime(2024, 1, 4, 15, 0, tzinfo=UTC) and b.volume == 0.0


def test_ib_statuses() -> None:
    assert (
        status_of("Submitted") is OrderStatus.ACCEPTED and status_of("PreSubmitted") is OrderStatus.ACCEPTED
    )
    assert status_of("Inactive") is OrderStatus.REJECTED and status_of("Cancelled") is OrderStatus.CANCELED
    assert status_of("PendingSubmit") is OrderStatus.PENDING and status_of("Filled") is OrderStatus.FILLED


@pytest.mark.parametrize(
    ("code", "text", "kind"),
    [
        (326, "client id is already in use", VenueErrorKind.AUTH),
        (354, "Requested market data is not subscribed.", VenueErrorKind.PERMISSION),
        (200, "No security definition has been found", VenueErrorKind.BAD_SYMBOL),
        (201, "Order rejected - reason:margin", VenueErrorKind.REJECTED),
        (162, "API historical data query cancelled: pacing violation", VenueErrorKind.RATE_LIMIT),
        (162, "HMDS query returned no data", VenueErrorKind.SERVER),
        (502, "Couldn't connect to TWS.", VenueErrorKind.NETWORK),
        (321, "The API interface is currently in Read-Only mode.", VenueErrorKind.PERMISSION),
    ],
)
def test_error_codes_are_one_line_each(code: int, text: str, kind: VenueErrorKind) -> None:
    err = classify(code, text, what="SPY240104C00575000", host="127.0.0.1", port=7497, client_id=3)
    assert err.kind is kind and "\n" not in err.line
    assert (text in err.line) if code == 201 else (str(code) in err.line)  # a rejection: IB's own words
    assert err.venue_error().kind is kind


def test_notices_are_ignored_and_connectivity_reported() -> None:
    for code in (2104, 2106, 2158):
        assert classify(code, "farm connection is OK").ignored
    assert classify(1100, "lost").connectivity is Connectivity.LOST
    assert classify(1101, "restored, data lost").connectivity is Connectivity.RESTORED_DATA_LOST
    assert classify(1102, "restored").connectivity is Connectivity.RESTORED
    delayed = classify(10167, "Displaying delayed market data")
    assert delayed.delayed and not delayed.ignored and "--allow-delayed" in delayed.line
