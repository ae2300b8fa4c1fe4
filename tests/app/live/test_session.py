"""Whole sessions of the runtime over the replay venue: journal, log, status, states, Ctrl-C, restart."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, select

from app import cli
from journal.models import HeartbeatRecord, LiveOrderRecord, OptionsScalpRecord, RunRecord
from tests.app.live.conftest import SPY_DAY
from tests.app.live.session_runs import REPLAY_KEY, REPLAY_SECRET, interrupt_when_open, market, session


def rows(tmp: Path, model: type) -> list:  # type: ignore[type-arg]
    engine = create_engine(f"sqlite:///{tmp}/journal.sqlite")
    with engine.connect() as conn:
        return list(conn.execute(select(model).order_by(model.id if hasattr(model, "id") else model.run_id)))  # type: ignore[attr-defined]


def test_a_session_trades_journals_and_logs(tmp_path: Path, spy_catalog: Path) -> None:
    code, console = session(tmp_path, market(spy_catalog, SPY_DAY, "11:44", "11:58"))
    assert code == 0, console
    [run] = rows(tmp_path, RunRecord)
    assert (run.mode, run.broker, run.account, run.status) == ("paper", "alpaca", "PA0000REPLAY", "finished")
    scalps = rows(tmp_path, OptionsScalpRecord)
    assert scalps and all(s.status == "closed" and s.exit_premium is not None for s in scalps)
    events = [(o.role, o.event) for o in rows(tmp_path, LiveOrderRecord)]
    assert ("entry", "submitted") in events and ("entry", "fill") in events and ("exit", "fill") in events
    fills = [o for o in rows(tmp_path, LiveOrderRecord) if o.event in ("fill", "partial_fill")]
    assert all(o.execution_id and o.fill_qty and o.fill_price for o in fills)
    venue_greeks = [json.loads(s.metadata_json).get("venue_greeks") for s in scalps]
    assert all(g and g["delta"] is not None and g["iv"] for g in venue_greeks)  # recorded, ours decided
    beats = rows(tmp_path, HeartbeatRecord)
    assert len(beats) >= 12 and {b.state for b in beats} == {"ACTIVE"}
    held = [d for b in beats for d in json.loads(b.open_scalps_json or "[]")]
    assert held, "a heartbeat while the scalp was open"
    for d in held:  # no two-sided quote yet: nothing to re-price, said as null
        if not (d["bid"] > 0 and d["ask"] > 0):
            assert d["delta_now"] is None and d["iv_now"] is None
    status = [line for line in console.splitlines() if " ET  SPY " in line]
    assert len(status) == len(beats)
    log = [json.loads(line) for line in (tmp_path / "live.log").read_text().splitlines()]
    assert {"start", "run", "status", "order", "scalp_open", "scalp_closed"} <= {r["event"] for r in log}
    text = (tmp_path / "live.log").read_text() + console
    assert REPLAY_KEY not in text and REPLAY_SECRET not in text


def test_ctrl_c_flattens_and_exits_130(tmp_path: Path, spy_catalog: Path) -> None:
    code, console = session(
        tmp_path, market(spy_catalog, SPY_DAY, "11:44", "11:52"), on_bar=interrupt_when_open
    )
    assert code == cli.EXIT_INTERRUPTED, console
    [run] = rows(tmp_path, RunRecord)
    assert run.status == "interrupted"
    [scalp] = rows(tmp_path, OptionsScalpRecord)
    assert scalp.status == "closed" and scalp.exit_reason == "end_of_day"
    assert "REDUCING: Ctrl-C" in console


def test_a_dropped_bar_stream_reduces_then_resumes_after_backfill_and_reconciliation(
    tmp_path: Path, spy_catalog: Path
) -> None:
    dropped: list[object] = []

    def drop_once(strategy, rt):  # type: ignore[no-untyped-def]
        if not dropped and rt.data_state == "LIVE":
            dropped.append(rt.venue_now())
            rt.venue.faults.drop_bars(3)

    code, console = session(tmp_path, market(spy_catalog, SPY_DAY, "11:44", "11:52"), on_bar=drop_once)
    assert code == 0, console
    lines = console.splitlines()
    down = next(i for i, line in enumerate(lines) if line.startswith("REDUCING: bars stream down"))
    back = next(i for i, line in enumerate(lines) if line == "ACTIVE: reconnected, backfilled and reconciled")
    assert down < back
    beats = rows(tmp_path, HeartbeatRecord)
    assert beats[-1].state == "ACTIVE"


def test_a_dry_run_sends_no_order_to_the_venue(tmp_path: Path, spy_catalog: Path) -> None:
    mkt = market(spy_catalog, SPY_DAY, "11:44", "11:58")
    code, console = session(tmp_path, mkt, dry_run=True)
    assert code == 0, console
    [run] = rows(tmp_path, RunRecord)
    assert run.mode == "dry_run"
    assert rows(tmp_path, OptionsScalpRecord), "the dry run books its simulated scalp"
    assert mkt.find_order(f"{run.run_id}-1") is None and mkt.positions() == []
