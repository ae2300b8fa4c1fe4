"""The live runtime's journal writes and what a restart reads back (SQLite)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session

from journal.errors import JournalError
from journal.live import ChainRow, HeartbeatRow, LiveJournal, OpenScalpRow, OrderEventRow, chain_payload
from journal.live_read import (
    account_orders,
    chain_minutes,
    latest_live_run,
    open_scalps,
    realized_today,
    recorded_chain,
    run_closed_scalps,
)
from journal.migrate import HEAD, alembic_config, current_revision, upgrade
from journal.models import LIVE_CHAINS_TABLE, HeartbeatRecord, LiveChainRecord, LiveOrderRecord, RunRecord
from journal.writer import RunEntry, run_record
from options_scalper.calendar import ET
from options_scalper.model import ChainSnapshot
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


def test_an_open_scalp_reads_back_as_the_row_written_with_its_row_id_and_run(tmp_path: Path) -> None:
    j = journal(tmp_path)
    written = dataclasses.replace(open_row(), metadata={"conviction": 80, "trigger": "cloud_flip"})
    row_id = j.open_scalp(written)
    [read] = open_scalps(j.engine, "alpaca", "PA1")
    assert isinstance(read, OpenScalpRow) and (read.row_id, read.run_id) == (row_id, j.run_id)
    assert (
        OpenScalpRow(**{f.name: getattr(read, f.name) for f in dataclasses.fields(OpenScalpRow)}) == written
    )


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


def chain_snapshot() -> ChainSnapshot:
    """Three quotes as a live chain serves them: a NaN side, unknown OI on one, carried quotes."""
    return ChainSnapshot(
        underlying="TSLA", ts=T0, underlying_price=250.5,
        symbol=np.array(["TSLA240110C00250000", "TSLA240110P00250000", "TSLA240111C00255000"], dtype=object),
        expiry=np.array(["2024-01-10", "2024-01-10", "2024-01-11"], dtype="datetime64[D]"),
        is_call=np.array([True, False, True]), strike=np.array([250.0, 250.0, 255.0]),
        bid=np.array([1.05, np.nan, 0.1 + 0.2]), ask=np.array([1.1, 0.95, 0.4]),
        bid_size=np.array([10.0, 0.0, 3.0]), ask_size=np.array([12.0, 5.0, 4.0]),
        quote_age_min=np.array([0.0, 1.0, 2.0]), open_interest=np.array([1200.0, np.nan, 80.0]),
        volume=np.array([600.0, 20.0, np.nan]), oi_known=True, volume_known=True,
        underlying_by_age=np.array([250.5, 250.25, 249.875]),
    )  # fmt: skip


def test_a_chain_snapshot_is_written_with_the_heartbeat_and_read_back_the_same(tmp_path: Path) -> None:
    j = journal(tmp_path)
    snap = chain_snapshot()
    quoted = {str(snap.symbol[0]): T0 - timedelta(seconds=7), str(snap.symbol[2]): T0 - timedelta(minutes=2)}
    row = ChainRow("TSLA", T0, 250.5, chain_payload(snap, quoted, [0.31, 0.29]))
    j.heartbeat(HeartbeatRow(ts=T0, state="ACTIVE"), [row])
    assert chain_minutes(j.engine, j.run_id) == [("TSLA", T0)]
    back = recorded_chain(j.engine, j.run_id, "TSLA", T0)
    assert back is not None and back.iv_history == (0.31, 0.29)
    assert back.quote_time == (T0 - timedelta(seconds=7), None, T0 - timedelta(minutes=2))
    got = back.snapshot
    assert (got.underlying, got.ts, got.underlying_price) == ("TSLA", T0, 250.5)
    assert (got.oi_known, got.volume_known, got.half_day) == (True, True, False)
    assert list(got.symbol) == list(snap.symbol) and (got.expiry == snap.expiry).all()
    for name in ("is_call", "strike", "bid", "ask", "bid_size", "ask_size", "quote_age_min", "open_interest",
                 "volume", "underlying_by_age"):  # fmt: skip
        np.testing.assert_array_equal(getattr(got, name), getattr(snap, name), err_msg=name)  # exact floats
    assert recorded_chain(j.engine, j.run_id, "TSLA", T0 + timedelta(minutes=1)) is None
    with j.engine.connect() as conn:
        rec = conn.execute(select(LiveChainRecord)).one()
        beats = conn.execute(select(HeartbeatRecord)).all()
    assert (rec.run_id, rec.contracts, len(beats)) == (j.run_id, 3, 1)


def test_one_chain_row_per_run_underlying_and_minute(tmp_path: Path) -> None:
    j = journal(tmp_path)
    row = ChainRow("TSLA", T0, 250.5, chain_payload(chain_snapshot()))
    j.heartbeat(None, [row])
    with pytest.raises(JournalError, match="write the heartbeat"):
        j.heartbeat(HeartbeatRow(ts=T0, state="ACTIVE"), [row])  # the same minute again: refused ...
    with j.engine.connect() as conn:
        assert conn.execute(select(HeartbeatRecord)).all() == []  # ... with its heartbeat (one transaction)
    other = journal(tmp_path, run_id="20240110T150000Z-bbbb0002")
    other.heartbeat(None, [row])  # another run may record the same minute
    assert chain_minutes(other.engine, other.run_id) == [("TSLA", T0)]


def test_revision_140_upgrades_a_139_journal_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/journal.sqlite"
    upgrade(url, "139_live_runtime")
    engine = create_engine(url)
    with Session(engine) as session, session.begin():  # a 139 journal's rows, written without upgrading it
        run = run_record(
            RunEntry(run_id="20240110T144000Z-aaaa0001", strategy="ema_cloud", symbols=("TSLA",))
        )
        run.mode, run.broker, run.account = "paper", "alpaca", "PA1"
        session.add(run)
        session.add(LiveOrderRecord(run_id=run.run_id, ts=T0.replace(tzinfo=None), broker="alpaca",
                                    client_order_id="r-1", option_symbol=SYM, side="buy", qty=2, event="submitted"))  # fmt: skip
    assert LIVE_CHAINS_TABLE not in inspect(engine).get_table_names()
    upgrade(url)
    assert current_revision(engine) == HEAD == "140_live_chains"
    assert LIVE_CHAINS_TABLE in inspect(engine).get_table_names()
    uniques = {
        u["name"]: u["column_names"] for u in inspect(engine).get_unique_constraints(LIVE_CHAINS_TABLE)
    }
    assert uniques == {"uq_live_chains_run_underlying_minute": ["run_id", "underlying", "minute"]}
    j = LiveJournal(url, "20240110T144000Z-aaaa0001", "alpaca")
    assert [o.client_order_id for o in account_orders(j.engine, "alpaca", "PA1")] == ["r-1"]  # kept
    j.heartbeat(None, [ChainRow("TSLA", T0, 250.5, chain_payload(chain_snapshot()))])
    assert chain_minutes(j.engine, j.run_id) == [("TSLA", T0)]
    j.close()
    command.downgrade(alembic_config(url), "139_live_runtime")  # and back down
    assert LIVE_CHAINS_TABLE not in inspect(engine).get_table_names()
    assert current_revision(engine) == "139_live_runtime"
