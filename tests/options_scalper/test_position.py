"""ScalpPosition: construction, marking at the bid, averaging, no averaging up."""

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from options_scalper.config import ScalpConfig
from options_scalper.model import Direction, OptionRight
from options_scalper.position import PositionError, ScalpPosition

T0 = datetime(2024, 1, 10, 15, 0, tzinfo=UTC)  # 10:00 ET


def make(entry=2.00, contracts=4, right=OptionRight.CALL, expiry=date(2024, 1, 10)) -> ScalpPosition:
    return ScalpPosition.open(
        ticker="SPY",
        option_symbol="SPY240110C00470000",
        right=right,
        strike=470.0,
        expiry=expiry,
        contracts=contracts,
        entry_price=entry,
        entry_time=T0,
        signal_id="sig-1",
        delta=0.42,
        theta=-0.30,
        iv=0.15,
    )


def test_open_fills_prd_fields():
    pos = make()
    assert (pos.option_type, pos.direction, pos.dte) == ("call", "long_call", 0)
    assert pos.current_price == 2.00 and pos.unrealized_pnl == 0.0
    assert pos.side is Direction.BULLISH and pos.right is OptionRight.CALL
    assert pos.cost_basis == 800.0
    put = make(right=OptionRight.PUT, expiry=date(2024, 1, 11))
    assert (put.option_type, put.direction, put.dte, put.side) == ("put", "long_put", 1, Direction.BEARISH)


def test_position_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        make().contracts = 5  # type: ignore[misc]


def test_mark_at_bid_returns_new_instance_with_pnl_x100():
    pos = make()
    marked = pos.mark(2.50, T0 + timedelta(minutes=1))
    assert marked is not pos and pos.current_price == 2.00
    assert marked.current_price == 2.50
    assert marked.unrealized_pnl == pytest.approx(0.50 * 4 * 100)
    assert marked.unrealized_pnl_pct == pytest.approx(0.25)


def test_mark_with_nan_bid_keeps_last_price():
    marked = make().mark(2.50, T0).mark(float("nan"), T0 + timedelta(minutes=2))
    assert marked.current_price == 2.50 and marked.last_update == T0 + timedelta(minutes=2)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"contracts": 0}, "contracts"),
        ({"entry_price": 0.0}, "entry_price"),
        ({"option_type": "straddle"}, "option_type"),
        ({"direction": "long_put"}, "direction"),
        ({"entry_time": datetime(2024, 1, 10, 15, 0)}, "naive"),
    ],
)
def test_invalid_position_rejected(kwargs, needle):
    with pytest.raises(PositionError, match=needle):
        dataclasses.replace(make(), **kwargs)


def test_add_averages_entry_price():
    grown = make(entry=2.00, contracts=2).add(2, 3.00, T0 + timedelta(minutes=1))
    assert grown.contracts == 4 and grown.entry_price == pytest.approx(2.50)


class TestNoAveragingUp:
    def test_adding_to_losing_position_refused(self):
        rejection = make(entry=2.00).can_add(1.90, ScalpConfig())
        assert rejection is not None and rejection.reason_code == "no_average_up"
        assert "1.90" in rejection.message

    def test_adding_to_winning_or_flat_position_allowed(self):
        assert make(entry=2.00).can_add(2.10, ScalpConfig()) is None
        assert make(entry=2.00).can_add(2.00, ScalpConfig()) is None

    def test_rule_can_be_disabled(self):
        assert make(entry=2.00).can_add(1.50, ScalpConfig(no_average_up=False)) is None

    def test_no_quote_is_refused(self):
        assert make().can_add(float("nan"), ScalpConfig()) is not None
