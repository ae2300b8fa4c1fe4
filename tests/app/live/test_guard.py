"""The guard on a real Cerebro and strategy (the backtest store stands in for the venue here):
journal rows open and close with the strategy's scalps, one heartbeat a minute, expiry safety
flattens 0DTE by 15:10 ET, Ctrl-C flattens and stops."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, time
from pathlib import Path

import backtrader as bt
import pytest
from sqlalchemy import func, select

from app.cerebro import build_cerebro
from app.live.expiry import flat_by
from app.live.limits import LiveLimits, OrderGate
from app.live.logs import LiveLog
from app.live.runtime import LiveRuntime, RunSettings
from app.live.states import Cause, TradingState, TradingStates
from app.live.wiring import add_runtime, strategy_config
from journal.live import LiveJournal
from journal.live_read import open_scalps
from journal.models import HeartbeatRecord, OptionsScalpRecord
from journal.writer import RunEntry
from options_scalper.calendar import to_eastern
from tests.support.probe import ProbeScalp
from tests.support.scalpers import FixedScalper
from tests.support.tiny_data import TINY_DAYS, tiny_spy


class Probe(ProbeScalp):
    def build_scalper(self):  # type: ignore[no-untyped-def]
        return FixedScalper(order_type="ask")


def runtime(tmp_path: Path, params: dict[str, object], exits: str = "flatten") -> LiveRuntime:
    states = TradingStates()
    log = LiveLog(tmp_path / "live.log", console=io.StringIO())
    journal = LiveJournal(f"sqlite:///{tmp_path}/journal.sqlite", "20240103T143000Z-00000001", "alpaca")
    journal.start_run(RunEntry(run_id=journal.run_id, strategy="probe"), "paper", "PA1")
    settings = RunSettings(
        broker="alpaca", account="PA1", mode="paper", run_id=journal.run_id, out_dir=tmp_path,
        symbols=("SPY",), exits_on_interrupt=exits, strategy_config=strategy_config(Probe, dict(params)),
    )  # fmt: skip
    return LiveRuntime(settings, states, OrderGate(LiveLimits(), states), log, journal)


def run(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, rt: LiveRuntime, extra: type | None = None,
        **params: object) -> tuple[object, bt.Cerebro]:  # fmt: skip
    data = tiny_spy(tmp_path_factory)
    cerebro = build_cerebro(Probe, str(data / ".catalog"), ["SPY"], fromdate=TINY_DAYS[1], warmup_days=1,
                            cash=50_000.0, **params)  # fmt: skip
    add_runtime(cerebro, rt)
    if extra is not None:
        cerebro.addanalyzer(extra, rt=rt)
    return cerebro.run()[0], cerebro


def test_journal_rows_heartbeats_and_expiry_safety(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    late = {"zero_dte_cutoff": "15:45"}  # the strategy alone would hold 0DTE until 15:45 ET
    rt = runtime(tmp_path, late)
    strat, _ = run(tmp_path, tmp_path_factory, rt, **late)
    closed = strat.closed_scalps  # type: ignore[attr-defined]
    assert closed, "the probe trades on the tiny data"
    engine = rt.journal.engine  # type: ignore[union-attr]
    with engine.connect() as conn:
        rows = conn.execute(select(OptionsScalpRecord).order_by(OptionsScalpRecord.entry_time)).all()
        beats = conn.scalar(select(func.count()).select_from(HeartbeatRecord))
        held = [
            d
            for (js,) in conn.execute(select(HeartbeatRecord.open_scalps_json))
            for d in json.loads(js or "[]")
        ]
    assert [(r.option_symbol, r.status, r.pnl) for r in rows] == [
        (c.option_symbol, c.status, pytest.approx(c.pnl)) for c in sorted(closed, key=lambda c: c.entry_time)
    ]
    assert open_scalps(engine, "alpaca", "PA1") == []
    assert beats == 390  # one a minute of the traded session (none for the warm-up bars)
    priced = [d for d in held if d["bid"] > 0 and d["ask"] > 0]
    assert priced, "heartbeats while a scalp was open with a quote"
    for d in priced:  # re-priced each minute by our own BSM at the mid
        sign = 1 if d["option_type"] == "call" else -1
        assert 0 < sign * d["delta_now"] < 1 and d["iv_now"] > 0 and d["theta_now"] < 0, d
    assert rt.closed_count == len(closed)
    assert "day " in rt.last_status and "ACTIVE" in rt.last_status
    # expiry safety: every 0DTE flat by 15:10 ET, although the strategy's own cutoff is 15:45
    zero_dte = [c for c in closed if c.expiry == to_eastern(c.entry_time).date()]
    assert zero_dte
    by_guard = 0
    for c in zero_dte:
        deadline = flat_by(c.entry_time, rt.settings.strategy_config)
        assert to_eastern(deadline).time() == time(15, 10)
        assert (c.exit_time - max(deadline, c.entry_time)).total_seconds() <= 120, c
        if c.entry_time < deadline <= c.exit_time:
            by_guard += 1
            assert c.exit_reason == "zero_dte_cutoff"
    assert by_guard >= 1, "a scalp was open at 15:10 ET and the guard closed it"


class InterruptWhenOpen(bt.Analyzer):
    params = (("rt", None),)

    def next(self) -> None:
        if any(s.open_qty > 0 for s in self.strategy.scalps.values()) and not self.p.rt.interrupt.is_set():
            self.p.rt.interrupt.set()
            self.at = self.strategy.datas[0].datetime.datetime(0).replace(tzinfo=UTC)


def test_ctrl_c_flattens_then_stops(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    rt = runtime(tmp_path, {})
    strat, _ = run(tmp_path, tmp_path_factory, rt, extra=InterruptWhenOpen)
    assert rt.interrupt.is_set() and rt.stop_requested.is_set()
    assert Cause.INTERRUPTED in rt.states.causes and rt.states.state is TradingState.REDUCING
    assert not strat.scalps  # type: ignore[attr-defined]
    last = strat.closed_scalps[-1]  # type: ignore[attr-defined]
    at = strat.analyzers[-1].at  # type: ignore[attr-defined]
    assert last.exit_reason == "end_of_day" and last.exit_time > at
    assert (last.exit_time - at).total_seconds() <= 180  # closed within minutes, then the run stopped
    assert strat.datas[0].datetime.datetime(0) < datetime(2024, 1, 3, 21, 0)  # type: ignore[attr-defined]
    assert open_scalps(rt.journal.engine, "alpaca", "PA1") == []  # type: ignore[union-attr]


def test_the_kill_file_halts(tmp_path: Path) -> None:
    rt = runtime(tmp_path, {})
    rt.poll_kill()
    assert rt.states.state is TradingState.ACTIVE
    (tmp_path / "KILL").write_text("")
    rt.poll_kill()
    assert rt.states.state is TradingState.HALTED and "KILL" in rt.states.reason()
    rt2 = runtime(tmp_path / "b", {})
    rt2.kill.set()  # SIGUSR1
    rt2.poll_kill()
    assert rt2.states.state is TradingState.HALTED
