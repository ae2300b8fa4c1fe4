"""The live runtime's journal writes and what a restart reads back (SQLite)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from journal.live import HeartbeatRow, LiveJournal, OpenScalpRow, OrderEventRow
from journal.live_read import account_orders, latest_live_run, open_scalps, realized_today, run_closed_scalps
from journal.models import HeartbeatRecord, LiveOrderRecord, RunRecord
from journal.writer import RunEntry
from options_scalper.calendar import ET
from tests.journal.test_journal import scalp

T0 = datetime(2024, 1, 10, 14, 40, tzinfo=UTC)
SYM = "TSLA  240110C00250000"


def journal(tmp_path: Path, run_id: str = "20240110T144000Z-aaaa0001", account: str = "PA1") -> LiveJournal:
    j = LiveJournal(f"sqlite:///{tmp_path}/journal.sqlite", run_id, "alpaca")
    j.start_run(RunEntry(run_id=run_id, strategy="ema_cloud", symbols=("TSLA",)), "paper", account)
    return j


def ev(event: str, coid: str = "r-1", **kw: object) -> OrderEventRow:
    fields: dict[str, object] = {"ts": T0, "client_order_id": coid, "option_symbol": SYM, "side": "buy", "qty": 2,
                                 "event": event, "role": "entry", "venue_order_id": "v1", "limit_price": 1.05}  # fmt: skip
    fields.update(kw)
    return OrderEventRow(**fields)  # type: ignore[arg-type]


def open_row() -> OpenScalpRow:
    return OpenScalpRow(
        signal_id="sig-0", ticker="TSLA", option_symbol=SYM, option_type="call", strike=250.0,
        expiry=date(2024, 1, 10), dte=0, direction="long_call", contracts=1, entry_premium=1.05,
        entry_time=T0, entry_delta=0.41, order_id="r-1",
    )  # fmt: skip


def test_the_live_run_row_says_mode_broker_and_account(tmp_path: Path) -> None:
    j = journal(tmp_path)
    j.finish_run("interrupted")
    row = j.run_row()
    assert row is not None and (row.mode, row.broker, row.account, row.status) == (
        "paper",
        "alpaca",
        "PA1",
        "interrupted",
    )
    assert latest_live_run(j.engine) == j.run_id


def test_order_events_are_idempotent_on_execution_id_and_event(tmp_path: Path) -> None:
    j = journal(tmp_path)
    assert j.order_event(ev("submitted"))
    assert j.order_event(ev("accepted"))
    assert not j.order_event(ev("accepted"))  # replayed
    assert j.order_event(ev("partial_fill", execution_id="x1", fill_qty=1, fill_price=1.05))
    assert not j.order_event(ev("partial_fill", execution_id="x1", fill_qty=1, fill_price=1.05))
    assert j.order_event(ev("fill", execution_id="x2", fill_qty=1, fill_price=1.04))
    with j.engine.connect() as conn:
        events = [r.event for r in conn.execute(select(LiveOrderRecord).order_by(LiveOrderRecord.id))]
    assert events == ["submitted", "accepted", "partial_fill", "fill"]
    [order] = account_orders(j.engine, "alpaca", "PA1")
    assert (order.filled_qty, order.last_event, order.working) == (2, "fill", False)
    assert account_orders(j.engine, "alpaca", "OTHER") == []


def test_a_working_order_reads_back_as_working(tmp_path: Path) -> None:
    j = journal(tmp_path)
    j.order_event(ev("submitted", coid="r-2"))
    j.order_event(ev("accepted", coid="r-2"))
    j.order_event(ev("submitted", coid="r-3"))
    j.order_event(ev("canceled", coid="r-3"))
    working = {o.client_order_id: o.working for o in account_orders(j.engine, "alpaca", "PA1")}
    assert working == {"r-2": True, "r-3": False}


def test_a_scalp_row_is_written_open_and_updated_on_close(tmp_path: Path) -> None:
    j = journal(tmp_path)
    row_id = j.open_scalp(open_row())
    j.update_open_scalp(row_id, 2, 1.05)
    [open_] = open_scalps(j.engine, "alpaca", "PA1")
    assert (open_.row_id, open_.contracts, open_.entry_premium, open_.entry_time) == (row_id, 2, 1.05, T0)
    assert j.close_scalp(row_id, scalp()) == row_id
    assert open_scalps(j.engine, "alpaca", "PA1") == []
    [closed] = run_closed_scalps(j.engine, j.run_id)
    assert (closed.exit_premium, closed.pnl, closed.exit_reason, closed.commission) == (
        1.30,
        47.4,
        "take_profit",
        2.6,
    )
    assert realized_today(j.engine, "alpaca", "PA1", date(2024, 1, 10), ET) == 47.4
    assert realized_today(j.engine, "alpaca", "PA1", date(2024, 1, 11), ET) == 0.0
    j.finish_run("finished")
    assert j.run_row().scalps == 1  # type: ignore[union-attr]


def test_open_scalps_of_an_earlier_run_of_the_account_are_seen_by_the_next(tmp_path: Path) -> None:
    first = journal(tmp_path)
    first.open_scalp(open_row())
    first.close()
    second = journal(tmp_path, run_id="20240110T150000Z-bbbb0002")
    [row] = open_scalps(second.engine, "alpaca", "PA1")
    assert row.run_id == first.run_id
    assert open_scalps(second.engine, "ibkr", "PA1") == []


def test_heartbeat_rows(tmp_path: Path) -> None:
    j = journal(tmp_path)
    j.heartbeat(HeartbeatRow(ts=T0, state="ACTIVE", bar_time=T0 - timedelta(minutes=1), data_state="LIVE",
                             underlying="TSLA", underlying_price=250.5, day_pnl=-3.0,
                             open_scalps=[{"option_symbol": SYM, "pnl": 4.0}]))  # fmt: skip
    with j.engine.connect() as conn:
        hb = conn.execute(select(HeartbeatRecord)).one()
        run = conn.execute(select(RunRecord)).one()
    assert (hb.state, hb.open_scalps, json.loads(hb.open_scalps_json)[0]["pnl"]) == ("ACTIVE", 1, 4.0)
    assert run.run_id == j.run_id
