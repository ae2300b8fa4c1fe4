"""Trading states and the order gate: what each state lets through, each limit refused once and said once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.live.limits import LiveLimits, OrderAsk, OrderGate
from app.live.states import Cause, TradingState, TradingStates

T0 = datetime(2024, 11, 5, 15, 0, tzinfo=UTC)  # 10:00 ET


def entry(now: datetime = T0, **kw: object) -> OrderAsk:
    fields: dict[str, object] = {
        "role": "entry", "option_symbol": "SPY241105C00575000", "side": "buy", "qty": 2,
        "limit_price": 1.20, "now": now, "open_scalps": 0,
    }  # fmt: skip
    fields.update(kw)
    return OrderAsk(**fields)  # type: ignore[arg-type]


def test_states_are_the_worst_cause_and_sticky_causes_stay() -> None:
    heard: list[tuple[TradingState, TradingState, str]] = []
    st = TradingStates(listener=lambda a, b, why: heard.append((a, b, why)))
    assert st.state is TradingState.ACTIVE and st.allows("entry")
    assert st.enter(Cause.DISCONNECTED, "the bar stream dropped")
    assert st.state is TradingState.REDUCING
    assert not st.allows("entry") and st.allows("exit") and st.allows("cancel")
    assert not st.enter(Cause.DISCONNECTED, "again")  # no second line
    assert st.leave(Cause.DISCONNECTED, "reconnected and reconciled")
    assert st.state is TradingState.ACTIVE
    st.enter(Cause.INTERRUPTED, "Ctrl-C")
    assert not st.leave(Cause.INTERRUPTED, "no") and st.state is TradingState.REDUCING
    st.enter(Cause.KILL_SWITCH, "KILL file")
    assert st.state is TradingState.HALTED
    assert not st.allows("exit") and st.allows("cancel")
    assert [(a.value, b.value) for a, b, _ in heard] == [
        ("ACTIVE", "REDUCING"), ("REDUCING", "ACTIVE"), ("ACTIVE", "REDUCING"), ("REDUCING", "HALTED"),
    ]  # fmt: skip
    assert heard[0][2] == "REDUCING: the bar stream dropped"


def test_each_limit_refuses_entries_and_is_said_once_per_day() -> None:
    said: list[str] = []
    gate = OrderGate(
        LiveLimits(max_orders_per_minute=2, max_open_scalps=1, max_premium_per_order=300.0),
        TradingStates(),
        say=lambda key, line: said.append(key),
    )
    assert gate.check(entry(open_scalps=1)) is not None  # max open scalps
    assert gate.check(entry(open_scalps=1)) is not None
    why = gate.check(entry(qty=3))  # 3 x 1.20 x 100 = $360 > $300
    assert why is not None and "$360.00" in why
    assert gate.check(entry()) is None
    assert gate.check(entry(now=T0 + timedelta(seconds=20))) is None
    assert gate.check(entry(now=T0 + timedelta(seconds=40))) is not None  # 2 orders in the last minute
    assert (
        gate.check(OrderAsk("exit", "SPY241105C00575000", "sell", 2, 1.0, T0 + timedelta(seconds=41))) is None
    )
    assert gate.check(entry(now=T0 + timedelta(seconds=61))) is not None  # the exit counted too
    assert gate.check(entry(now=T0 + timedelta(seconds=102))) is None
    assert said == ["max-open-scalps", "max-premium", "max-orders-per-minute"]
    assert gate.check(entry(now=T0 + timedelta(days=1), open_scalps=1)) is not None
    assert said[-1] == "max-open-scalps"  # a new session day says it again


def test_blocked_symbols_expiry_safety_and_states_in_the_gate() -> None:
    states = TradingStates()
    gate = OrderGate(LiveLimits(), states)
    gate.block("SPY241105P00570000", "the broker holds a position this runtime does not own")
    why = gate.check(entry(option_symbol="SPY241105P00570000"))
    assert why is not None and "does not own" in why
    exit_blocked = OrderAsk("exit", "SPY241105P00570000", "sell", 1, 1.0, T0)
    assert gate.check(exit_blocked) is not None  # never traded against, not even to sell
    flat = T0 + timedelta(hours=4, minutes=10)
    assert gate.check(entry(now=flat, zero_dte_flat_by=flat)) is not None
    assert gate.check(entry(now=flat - timedelta(minutes=1), zero_dte_flat_by=flat)) is None
    states.enter(Cause.STALE_DATA, "no bar for 90 s")
    assert gate.check(entry()) is not None
    assert gate.check(OrderAsk("exit", "SPY241105C00575000", "sell", 1, 1.0, T0)) is None
    assert gate.check(OrderAsk("cancel", "SPY241105C00575000", "buy", 1, None, T0)) is None


def test_daily_loss_halts_once() -> None:
    said: list[str] = []
    states = TradingStates()
    gate = OrderGate(LiveLimits(max_daily_loss=200.0), states, say=lambda key, line: said.append(line))
    assert not gate.check_daily_loss(-199.99, T0)
    assert states.state is TradingState.ACTIVE
    assert gate.check_daily_loss(-200.0, T0)
    assert states.state is TradingState.HALTED
    assert not gate.check_daily_loss(-250.0, T0)
    assert len(said) == 1 and "--max-daily-loss $200.00" in said[0]
    assert gate.check(OrderAsk("exit", "SPY241105C00575000", "sell", 1, 1.0, T0)) is not None


def test_limits_name_bad_values() -> None:
    assert LiveLimits().problems() == []
    bad = LiveLimits(max_daily_loss=0, max_orders_per_minute=0, max_open_scalps=0, max_premium_per_order=-1)
    assert len(bad.problems()) == 4
