"""Restart with an open position and a working order, the daily-loss stop, one runtime per account,
real-money refusal, a closed market, --compare-with (whole sessions over the replay venue)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from analyzers.report import write_trades_csv
from app import cli
from app.cerebro import build_cerebro
from app.live.limits import LiveLimits
from app.live.lock import AccountLock, lock_path
from app.live.request import LiveRequest
from app.live.session import run
from app.live.startup import LiveStop, wait_for_open
from brokers.live.venue import OrderRequest
from journal.live import LiveJournal, OrderEventRow
from journal.models import HeartbeatRecord, LiveOrderRecord, OptionsScalpRecord, RunRecord
from strategies.ema_cloud import EmaCloudScalp
from tests.app.live.conftest import SPY_DAY
from tests.app.live.session_runs import interrupt_when_open, market, session
from tests.support.replay_venue import ReplayVenue


def select_all(tmp: Path, model: type) -> list:  # type: ignore[type-arg]
    with create_engine(f"sqlite:///{tmp}/journal.sqlite").connect() as conn:
        return list(conn.execute(select(model)))


def test_restart_adopts_the_open_scalp_cancels_the_working_order_and_never_duplicates(
    tmp_path: Path, spy_catalog: Path
) -> None:
    mkt = market(spy_catalog, SPY_DAY, "11:44", "11:52")
    code, _ = session(tmp_path, mkt, on_bar=interrupt_when_open, exits_on_interrupt="keep")
    assert code == cli.EXIT_INTERRUPTED
    [first] = select_all(tmp_path, RunRecord)
    [row] = select_all(tmp_path, OptionsScalpRecord)
    assert row.status == "open"
    [held] = mkt.positions()
    assert (held.symbol, held.qty) == (row.option_symbol, row.contracts)
    # the first run also left a working exit order at the venue (it died before cancelling it)
    coid = f"{first.run_id}-999"
    report = mkt.submit(OrderRequest(coid, row.option_symbol, "sell", row.contracts, 99.0))
    journal = LiveJournal(f"sqlite:///{tmp_path}/journal.sqlite", first.run_id, "alpaca")
    journal.order_event(OrderEventRow(ts=mkt.now(), client_order_id=coid, option_symbol=row.option_symbol,
                                      side="sell", qty=row.contracts, event="submitted", role="exit",
                                      venue_order_id=report.venue_order_id, limit_price=99.0))  # fmt: skip
    journal.close()
    mkt.end_utc = mkt.now() + timedelta(minutes=6)

    def flatten_adopted(strategy, rt):  # type: ignore[no-untyped-def]
        if row.option_symbol in rt.adopted:  # the guard made it one of the strategy's scalps
            assert any(s.option_symbol == row.option_symbol for s in strategy.scalps.values())
            rt.interrupt.set()

    code, console = session(tmp_path, mkt, on_bar=flatten_adopted)
    assert code == cli.EXIT_INTERRUPTED, console
    assert f"cancelling working order {coid}" in console and f"adopted {row.option_symbol}" in console
    second = next(r for r in select_all(tmp_path, RunRecord) if r.run_id != first.run_id)
    buys = [o for o in select_all(tmp_path, LiveOrderRecord)
            if o.run_id == second.run_id and o.side == "buy" and o.option_symbol == row.option_symbol]  # fmt: skip
    assert buys == []  # no duplicate entry
    [after] = select_all(tmp_path, OptionsScalpRecord)
    assert after.id == row.id and after.status == "closed" and after.exit_premium is not None
    assert mkt.positions() == [] and mkt.open_orders() == []


def test_the_daily_loss_limit_halts_and_no_order_follows(tmp_path: Path, spy_catalog: Path) -> None:
    code, console = session(tmp_path, market(spy_catalog, SPY_DAY, "11:44", "11:52"),
                            limits=LiveLimits(max_daily_loss=1.0))  # fmt: skip
    assert code == 0
    assert "limit hit: daily loss" in console and "HALTED" in console
    beats = select_all(tmp_path, HeartbeatRecord)
    halted_at = min(b.bar_time for b in beats if b.state == "HALTED")
    assert all(b.state == "HALTED" for b in beats if b.bar_time >= halted_at)
    later = [o for o in select_all(tmp_path, LiveOrderRecord) if o.event == "submitted" and o.ts > halted_at]
    assert later == []


def test_a_second_runtime_on_the_account_is_refused(tmp_path: Path, spy_catalog: Path) -> None:
    path = lock_path(f"sqlite:///{tmp_path}/journal.sqlite", tmp_path, "alpaca", "PA0000REPLAY")
    with AccountLock(path, holder="first"), pytest.raises(LiveStop) as err:
        session(tmp_path, market(spy_catalog, SPY_DAY, "11:44", "11:46"))
    assert err.value.code == cli.EXIT_ACCOUNT_LOCKED and "pid " in str(err.value)
    assert select_all(tmp_path, RunRecord) == []  # nothing half-written


def test_a_real_money_account_needs_live_and_the_typed_number(tmp_path: Path, spy_catalog: Path) -> None:
    for kw in ({}, {"live": True, "ask": lambda prompt: "PA0000WRONG"}):
        with pytest.raises(LiveStop) as err:
            session(tmp_path, market(spy_catalog, SPY_DAY, "11:44", "11:46", paper=False), **kw)  # type: ignore[arg-type]
        assert err.value.code == cli.EXIT_LIVE_REFUSED
    assert select_all(tmp_path, RunRecord) == []


def test_a_closed_market_waits_with_a_countdown_or_exits(tmp_path: Path, spy_catalog: Path) -> None:
    venue = ReplayVenue(market(spy_catalog, SPY_DAY, "09:27", "09:40"))
    with pytest.raises(LiveStop) as err:
        session(tmp_path, venue.market, wait_for_open=False)
    assert err.value.code == cli.EXIT_MARKET_CLOSED
    said: list[str] = []
    clock = wait_for_open(venue, venue.clock(), said.append, exit_if_closed=False,
                          sleep=lambda s: venue.step(), every=0.0)  # fmt: skip
    assert clock.is_open and said and "opens in 0 h 03 min" in said[0]


def test_compare_with_a_backtest_of_the_same_day(tmp_path: Path, spy_catalog: Path) -> None:
    code, _ = session(tmp_path / "live", market(spy_catalog, SPY_DAY, "11:44", "11:58"))
    assert code == 0
    [live_run] = select_all(tmp_path / "live", RunRecord)
    backtest = build_cerebro(EmaCloudScalp, str(spy_catalog), ["SPY"], fromdate=SPY_DAY, todate=SPY_DAY,
                             warmup_days=1).run()[0]  # fmt: skip
    write_trades_csv(backtest.closed_scalps, tmp_path / "bt" / "trades.csv")
    printed: list[str] = []
    import io

    console = io.StringIO()
    req = LiveRequest(broker="alpaca", strategy="ema_cloud", out_dir=tmp_path / "live",
                      compare_with=tmp_path / "bt", run_id=live_run.run_id)  # fmt: skip
    assert run(req, env={}, console=console) == 0
    import json

    report = json.loads((tmp_path / "live" / "compare.json").read_text())
    assert report["summary"]["matched"] >= 1 and report["summary"]["live_only"] == 0
    matched = [r for r in report["rows"] if r["status"] == "matched"]
    assert all(r["entry_premium_diff"] == 0 and r["exit_premium_diff"] == 0 for r in matched)
    assert "matched" in console.getvalue() and (tmp_path / "live" / "compare.csv").exists()
    assert printed == []
