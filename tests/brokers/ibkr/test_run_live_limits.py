"""``run_live.py --broker ibkr --max-daily-loss``: the daily-loss stop through the fake TWS.

The sample's 11:47 ET ema_cloud scalp on SPY loses (the backtest exits at 11:56 at a loss of
about $190). With ``--max-daily-loss 100`` its open loss at the bid crosses the limit while it
is held: the run goes HALTED (cancels only). The strategy's own exit is refused, no order
reaches the fake after the halt, the console and live.log say so once, every heartbeat from
then on is HALTED, and the journal's open scalp is what the account holds. Ctrl-C then stops
the run with the position kept (HALTED sends no exit) instead of waiting for a flatten that
can never be sent.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import cli
from brokers.ibkr import ibapi
from journal.models import HeartbeatRecord, LiveOrderRecord, OptionsScalpRecord, RunRecord
from tests.support.fake_tws import FakeTWS
from tests.support.fake_tws.runs import LiveProcess
from tests.support.live_runs import SPY_DAY, journal_rows, no_duplicate_orders, sample_catalog
from tests.support.replay_market import ReplayMarket

LIMITS = ("--max-daily-loss", "100", "--max-premium-per-order", "1000000",
          "--max-orders-per-minute", "1000", "--max-open-scalps", "100")  # fmt: skip


@pytest.fixture(scope="module")
def spy_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_catalog(tmp_path_factory, "SPY", SPY_DAY)


def _halted(out: Path) -> list[Any]:
    try:
        return [b for b in journal_rows(out, HeartbeatRecord) if b.state == "HALTED"]
    except Exception:  # the schema is being created
        return []


def test_the_daily_loss_stop_halts_with_cancels_only_and_the_journal_matches_the_account(
    spy_sample: Path, tmp_path: Path
) -> None:
    market = ReplayMarket(spy_sample, ["SPY"], SPY_DAY, warmup_days=1, start_et="11:38", end_et="12:00")
    fake = FakeTWS(market).start()
    out = tmp_path / "out"
    run = LiveProcess(fake, out, spy_sample, extra=LIMITS)
    try:
        run.wait_live()
        run.step_until(lambda: market.now() >= market.end_utc - timedelta(minutes=3), what="the 11:57 bar")
        assert _halted(out), run.where()
        code = run.interrupt(stepping=True)  # the bars keep coming: the guard winds down
    finally:
        run.close()
        fake.stop()
    assert code == cli.EXIT_INTERRUPTED, run.stderr
    console, log = run.stdout, run.log_lines()
    assert run.libraries() == {ibapi.LIBRARY}  # the pass's client library (ib_async or ib_insync)
    assert "Traceback" not in run.stderr
    # said once, on the console and in live.log
    [hit] = [line for line in console.splitlines() if line.startswith("limit hit: daily loss")]
    assert "reached --max-daily-loss $100.00: cancels only for the rest of the run" in hit
    assert sum(line.startswith("HALTED: daily loss") for line in console.splitlines()) == 1
    assert [x["limit"] for x in log if x.get("event") == "limit"].count("max-daily-loss") == 1
    assert any(x.get("event") == "state" and x.get("new") == "HALTED" for x in log)
    assert "HALTED: no exit orders" in console  # the strategy's own exit was refused
    assert "HALTED: Ctrl-C: working entries cancelled, positions kept (no exit while HALTED)" in console

    beats = journal_rows(out, HeartbeatRecord)
    halted_at = min(b.bar_time for b in beats if b.state == "HALTED")
    assert all(b.state == "HALTED" for b in beats if b.bar_time >= halted_at)
    # nothing reached the fake after the halt: the entry before it, no exit after it
    placed = fake.placed()
    assert [(o.action, o.status) for o in placed] == [("BUY", "Filled")]
    assert all(o.placed_at is not None and o.placed_at.astimezone(UTC).replace(tzinfo=None) < halted_at
               for o in placed)  # fmt: skip
    assert [
        o for o in journal_rows(out, LiveOrderRecord) if o.event == "submitted" and o.ts >= halted_at
    ] == []
    # the journal is the account: the scalp open, held, nothing working
    [scalp] = journal_rows(out, OptionsScalpRecord)
    assert scalp.status == "open"
    assert [(p.symbol, p.qty) for p in market.positions()] == [(scalp.option_symbol, scalp.contracts)]
    assert fake.working() == []
    [run_row] = journal_rows(out, RunRecord)
    assert run_row.status == "interrupted"
    no_duplicate_orders(out)
