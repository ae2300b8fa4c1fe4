"""The one fill rule (backtest broker, dry run, fakes): the quoted side, limits, staleness, displayed size."""

from __future__ import annotations

import math

from options_scalper.fills import LIMIT_NOT_REACHED, NO_ASK, NO_BID, fill_price, fill_quantity


def test_buys_take_the_ask_and_sells_the_bid_never_the_mid() -> None:
    assert fill_price(True, None, 1.00, 1.10, 0, 5).price == 1.10
    assert fill_price(False, None, 1.00, 1.10, 0, 5).price == 1.00


def test_a_limit_trades_at_the_quote_only_once_reached() -> None:
    assert fill_price(True, 1.20, 1.00, 1.10, 0, 5).price == 1.10  # takes the offer, not its own limit
    assert fill_price(True, 1.05, 1.00, 1.10, 0, 5) == (None, LIMIT_NOT_REACHED)
    assert fill_price(False, 1.05, 1.00, 1.10, 0, 5) == (None, LIMIT_NOT_REACHED)
    assert fill_price(False, 0.95, 1.00, 1.10, 0, 5).price == 1.00


def test_missing_or_stale_sides_never_fill() -> None:
    assert fill_price(True, None, 1.0, math.nan, 0, 5) == (None, NO_ASK)
    assert fill_price(False, None, 0.0, 1.1, 0, 5) == (None, NO_BID)
    assert fill_price(True, None, 1.0, 1.1, 6, 5) == (None, NO_ASK)


def test_the_displayed_size_caps_each_fill_and_unknown_sizes_do_not() -> None:
    assert fill_quantity(10, 3, True) == 3
    assert fill_quantity(10, 0.4, True) == 1
    assert fill_quantity(10, 3, False) == 10
    assert fill_quantity(10, math.nan, True) == 10 and fill_quantity(10, 0, True) == 10
    assert fill_quantity(2, 30, True) == 2
