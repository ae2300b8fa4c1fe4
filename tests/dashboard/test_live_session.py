"""The dashboard on a real live session: ``run_live.py``'s runtime over the in-process replay venue writes
the journal; Live Scalps reads it back while a scalp is open (mid-session) and after the run finished, and
the Strike Picker replays the chain the strategy was served at its entry minute and picks what it bought."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dashboard import live, runs, strikes
from dashboard.db import open_journal
from journal import live_read
from journal.models import LiveOrderRecord, OptionsScalpRecord
from options_scalper.model import Direction
from options_scalper.reasons import RejectReason
from tests.app.live.conftest import SPY_DAY, spy_catalog  # noqa: F401 (the session-scoped catalog fixture)
from tests.app.live.session_runs import market, session

CASH = 60_000.0  # the paper account's cash: not the picker's default equity, so sizing shows


@dataclass(frozen=True)
class Session:
    url: str
    code: int
    console: str
    seen: list[dict[str, Any]]  # what the dashboard read while a scalp was open


@pytest.fixture(scope="module")
def paper_session(tmp_path_factory: pytest.TempPathFactory, spy_catalog: Path) -> Session:  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("live-session")
    url = f"sqlite:///{tmp_path}/journal.sqlite"
    seen: list[dict[str, Any]] = []

    def read_while_open(strategy: Any, rt: Any) -> None:
        if seen or not any(s.open_qty > 0 for s in strategy.scalps.values()):
            return
        now = datetime.now(UTC)
        journal = open_journal(url)
        status = live.live_status(journal, now)
        if status.heartbeat is None or not status.heartbeat.scalps:
            return  # this bar's heartbeat is not written yet: read on the next bar
        seen.append(
            dict(
                status=status,
                table=live.open_scalps_frame(status.heartbeat, now),
                shown=live.shown_scalps(live.open_scalps_frame(status.heartbeat, now)),
                orders=live.recent_orders(journal, str(status.run["run_id"])),  # type: ignore[index]
                symbol=next(s.option_symbol for s in strategy.scalps.values() if s.open_qty > 0),
                now=now,
            )
        )
        journal.engine.dispose()

    code, console = session(
        tmp_path, market(spy_catalog, SPY_DAY, "11:44", "11:58", cash=CASH), on_bar=read_while_open
    )
    return Session(url, code, console, seen)


def test_the_live_tab_reads_a_real_session_while_a_scalp_is_open_and_after_it_finished(
    paper_session: Session,
) -> None:
    code, console, seen, url = (
        paper_session.code,
        paper_session.console,
        paper_session.seen,
        paper_session.url,
    )
    assert code == 0, console
    assert seen, "no heartbeat with an open scalp was read during the session"
    mid = seen[0]
    status = mid["status"]
    assert status.kind == "ok" and status.run["status"] == "running" and status.run["mode"] == "paper"
    assert status.run["strategy"] == "ema_cloud" and status.run["broker"] == "alpaca"
    assert status.heartbeat.state == "ACTIVE" and status.heartbeat.underlying == "SPY"
    assert 0 <= status.age_s < live.STALE_AFTER_S
    assert status.text.startswith(f"heartbeat at {status.heartbeat.ts:%H:%M:%S} UTC")
    [row] = mid["table"].to_dict("records")
    assert row["option_symbol"] == mid["symbol"] and row["ticker"] == "SPY" and row["contracts"] > 0
    assert row["entry_premium"] > 0 and row["ask"] >= row["bid"] > 0
    assert row["delta_entry"] != 0 and row["iv_entry"] > 0
    # the replayed day is in the past: its 0DTE expiry and cutoff have passed by wall-clock time
    assert row["to_expiry"] == "passed" and row["to_cutoff"] in ("passed", "n/a")
    # today the runtime writes delta_now/theta_now/iv_now as null (no re-pricing): the page says n/a
    [shown] = mid["shown"].to_dict("records")
    for key in ("delta_now", "theta_now", "iv_now"):
        assert shown[key] == ("n/a" if row[key] is None else row[key])
    assert shown["delta_entry"] == row["delta_entry"] and shown["bid"] == row["bid"]
    events = set(zip(mid["orders"]["role"], mid["orders"]["event"], strict=True))
    assert ("entry", "submitted") in events and ("entry", "fill") in events
    assert set(mid["orders"]["option_symbol"]) == {mid["symbol"]}

    journal = open_journal(url)
    after = live.live_status(journal, datetime.now(UTC))
    run_id = str(status.run["run_id"])
    assert after.kind == "none" and after.text == f"no live run active (last live run {run_id}: finished)"
    assert list(live.live_runs(journal)["run_id"]) == [run_id]
    final = live.latest_heartbeat(journal, run_id)
    assert final is not None and final.ts >= status.heartbeat.ts
    orders = live.recent_orders(journal, run_id)
    assert ("exit", "fill") in set(zip(orders["role"], orders["event"], strict=True))
    assert orders["ts"].is_monotonic_decreasing


def test_the_strike_picker_on_the_live_chain_picks_what_the_strategy_bought_at_that_minute(
    paper_session: Session,
) -> None:
    assert paper_session.code == 0, paper_session.console
    journal = open_journal(paper_session.url)
    with journal.engine.connect() as conn:  # Core rows: one attribute per column
        [scalp] = conn.execute(select(OptionsScalpRecord)).all()
        entries = select(LiveOrderRecord).where(
            LiveOrderRecord.role == "entry", LiveOrderRecord.event == "submitted"
        )
        [entry] = conn.execute(entries).all()
        fills = conn.execute(
            select(LiveOrderRecord).where(LiveOrderRecord.event.in_(("partial_fill", "fill")))
        ).all()
    run_id = str(scalp.run_id)
    decided = entry.ts.replace(tzinfo=UTC)  # the venue minute the entry was sent: its decision bar
    recorded = strikes.live_minutes(journal, run_id)
    assert set(recorded["underlying"]) == {"SPY"} and decided in set(recorded["ts"])
    run = runs.list_runs(journal).set_index("run_id").loc[run_id]  # what the tab's run picker holds
    assert run["mode"] == "paper"
    config, notes = strikes.strategy_config(str(run["strategy"]), runs.run_params(run["params_json"]))
    assert notes == []
    direction = Direction.BULLISH if scalp.option_type == "call" else Direction.BEARISH
    view = strikes.live_chain_view(journal, run_id, "SPY", decided, direction, config)

    # the strategy's pick at that minute, found again by the dashboard's selector and pipeline
    assert view.pick is not None and view.pick.option_symbol == scalp.option_symbol == entry.option_symbol
    assert view.pick.delta == pytest.approx(scalp.entry_delta) and view.pick.iv == pytest.approx(
        scalp.entry_iv
    )
    assert (
        view.verdict.startswith("would buy")
        and f"x {scalp.option_symbol} at limit ${entry.limit_price:.2f}" in view.verdict
    )
    # sized as the session was: its account at that minute and the conviction of the signal it entered on
    bought = sum(f.fill_qty for f in fills if f.client_order_id == entry.client_order_id)
    assert view.intent is not None and view.intent.quantity == scalp.contracts == bought
    assert view.verdict.startswith(f"would buy {scalp.contracts} x ")
    meta = json.loads(scalp.metadata_json)
    sizing = view.sizing
    assert sizing.conviction == meta["conviction"] and sizing.conviction_source == (
        f"signal {scalp.signal_id}, entered at this minute"
    )
    assert sizing.account_source == f"run {run_id}'s account at this minute"
    assert sizing.account.equity == sizing.account.cash == CASH and sizing.account.open_scalps == 0
    # the controls' values do not matter where the run recorded what it had ...
    other_controls = strikes.live_chain_view(
        journal, run_id, "SPY", decided, direction, config, equity=1_000_000.0, conviction=20
    )
    assert other_controls.intent is not None and other_controls.intent.quantity == scalp.contracts
    # ... and the picker's defaults would have sized this minute otherwise
    recorded_chain = live_read.recorded_chain(journal.engine, run_id, "SPY", decided)
    assert recorded_chain is not None
    unsized = strikes.snapshot_view(
        recorded_chain.snapshot, list(recorded_chain.iv_history), direction, config
    )
    assert unsized.sizing.account.equity == strikes.DEFAULT_EQUITY
    assert unsized.intent is not None and unsized.intent.quantity != scalp.contracts
    assert sizing.text().startswith(f"sized with equity ${sizing.account.equity:,.2f} and cash $")
    # the same minute for the other right: no signal of it fired, so the conviction is the control's
    other = Direction.BEARISH if direction is Direction.BULLISH else Direction.BULLISH
    control = strikes.live_chain_view(journal, run_id, "SPY", decided, other, config, conviction=55).sizing
    assert control.conviction == 55 and control.conviction_source.startswith(strikes.CONVICTION_CONTROL)
    assert control.account == sizing.account
    mine = view.table[view.table["right"] == direction.right.word]
    assert (mine["status"] == "picked").sum() == 1
    assert mine.loc[mine["status"] == "picked", "option_symbol"].item() == scalp.option_symbol
    refused = mine[mine["status"] == "refused"]
    assert len(refused) and refused["reason"].map(lambda r: r in set(RejectReason)).all()
    kept = mine[mine["status"].isin(["picked", "kept"])]
    assert kept.loc[kept["score"].idxmax(), "option_symbol"] == scalp.option_symbol
    # the recorded quotes: the venue's quote times and the underlying the live run saw
    assert view.table["quote_time"].notna().all() and (view.table["quote_time"] <= decided).all()
    assert view.underlying_price > 0 and not view.heatmap.empty
    journal.engine.dispose()
