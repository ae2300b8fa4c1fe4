"""Start-up reconciliation over plain venue values and journal rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.live.reconcile import reconcile
from brokers.live.venue import OrderReport, OrderStatus, PositionReport
from journal.live_read import JournalOrder, JournalScalp

TODAY = date(2024, 11, 5)
CALL = "SPY241105C00575000"
PUT = "SPY241105P00570000"


def jscalp(symbol: str = CALL, contracts: int = 2, row_id: int = 1, expiry: date = TODAY) -> JournalScalp:
    return JournalScalp(
        row_id=row_id, run_id="r1", signal_id="s1", ticker="SPY", option_symbol=symbol, option_type="call",
        strike=575.0, expiry=expiry, dte=0, direction="long_call", contracts=contracts, entry_premium=1.2,
        entry_time=datetime(2024, 11, 5, 15, 0, tzinfo=UTC),
    )  # fmt: skip


def jorder(coid: str, symbol: str = CALL, filled: int = 0, last: str = "accepted") -> JournalOrder:
    return JournalOrder(coid, "r1", "v-" + coid, symbol, "buy", 2, "entry", last, filled)


def vorder(coid: str, symbol: str = CALL, status: OrderStatus = OrderStatus.ACCEPTED) -> OrderReport:
    return OrderReport("v-" + coid, coid, symbol, "sell", 2, 0, 1.5, status)


def test_a_known_scalp_is_adopted_and_our_working_order_cancelled() -> None:
    r = reconcile(
        [PositionReport(CALL, 2, 1.2)],
        [vorder("r1-2"), vorder("r1-3", status=OrderStatus.FILLED)],
        [jscalp()],
        [jorder("r1-1", filled=2, last="fill"), jorder("r1-2")],
        TODAY,
    )
    assert r.ok
    assert [a.scalp.row_id for a in r.adopt] == [1]
    assert [o.client_order_id for o in r.cancel] == ["r1-2"]
    assert not r.unknown_positions and not r.foreign_orders and not r.blocked
    assert any(line.startswith("adopted SPY241105C00575000 x2") for line in r.lines())


def test_an_unknown_position_and_a_foreign_order_are_reported_and_blocked() -> None:
    r = reconcile(
        [PositionReport(PUT, 1, 2.0), PositionReport("SPY", 10, 570.0, asset_class="equity")],
        [vorder("manual-1", symbol="SPY241105C00580000")],
        [],
        [],
        TODAY,
    )
    assert r.ok  # unknown is not a mismatch: reported and never traded against
    assert {p.symbol for p in r.unknown_positions} == {PUT, "SPY"}
    assert set(r.blocked) == {PUT, "SPY", "SPY241105C00580000"}
    assert [o.client_order_id for o in r.foreign_orders] == ["manual-1"]


def test_mismatches_fail_closed_with_one_line_each() -> None:
    missing = reconcile([], [], [jscalp()], [], TODAY)
    assert not missing.ok and "holds none" in missing.mismatches[0]
    other_qty = reconcile([PositionReport(CALL, 1, 1.2)], [], [jscalp()], [], TODAY)
    assert not other_qty.ok and "holds x1" in other_qty.mismatches[0]
    lost = reconcile([PositionReport(CALL, 2, 1.2)], [], [], [jorder("r1-1", filled=2, last="fill")], TODAY)
    assert not lost.ok and "no open scalp" in lost.mismatches[0] and CALL in lost.blocked
    assert all(line.count("\n") == 0 for line in lost.lines())


def test_a_scalp_that_expired_while_nobody_watched_is_settled_not_a_mismatch() -> None:
    r = reconcile([], [], [jscalp(expiry=date(2024, 11, 4))], [], TODAY)
    assert r.ok and [s.row_id for s in r.settled] == [1]
