"""``run_live.py --broker alpaca`` end to end: the real command in its own process, alpaca-py's real
clients, the loopback fake Alpaca replaying a sample day on a fast clock.

One session trades a whole scalp (signal -> order -> fill -> exit -> journal row); meanwhile a
second ``run_live.py`` on the same account is refused naming the first's process; Ctrl-C (a real
SIGINT) ends the first with exit code 130 and a consistent journal; no key value appears on
either console or in live.log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError

from app import cli
from journal.models import LiveOrderRecord, OptionsScalpRecord, RunRecord
from tests.app.live.conftest import SPY_DAY
from tests.support.fake_alpaca import FakeAlpaca
from tests.support.fake_keys import fake_keys
from tests.support.replay_market import ReplayMarket

ROOT = Path(__file__).resolve().parents[3]
KEY, SECRET = fake_keys("e2e")


@pytest.fixture
def fake(spy_catalog: Path) -> Iterator[FakeAlpaca]:
    market = ReplayMarket(spy_catalog, ["SPY"], SPY_DAY, warmup_days=1, start_et="11:38", end_et="12:30")
    with FakeAlpaca(market, key=KEY, secret=SECRET) as f:
        yield f


def start_when_live(fake: FakeAlpaca, out: Path, proc: subprocess.Popen[str], timeout: float = 90) -> None:
    """Step the replay by hand until the runtime prints its first status line (warm-up and backfill
    done, data LIVE), then let the fake's clock run: a replayed minute every second (a loaded
    machine must still get each minute's signal, order and fill through in time)."""
    log = out / "live.log"
    deadline = time.monotonic() + timeout
    last_step = time.monotonic()
    while not (log.exists() and '"event": "status"' in log.read_text()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the runtime never went live"
        if (
            '"stream": "bars"' in (log.read_text() if log.exists() else "")
            and time.monotonic() - last_step > 2
        ):
            fake.market.step()
            last_step = time.monotonic()
        time.sleep(0.1)
    fake.run_clock(1.0, wait_for_client=False)


def launch(fake: FakeAlpaca, out: Path) -> subprocess.Popen[str]:
    env = {**os.environ, **fake.env()}
    cmd = [sys.executable, "run_live.py", "--broker", "alpaca", "--strategy", "ema_cloud", "--symbols", "SPY",
           "--out", str(out), "--warmup-days", "1"]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def closed_scalps(out: Path) -> list:  # type: ignore[type-arg]
    db = out / "journal.sqlite"
    if not db.exists():
        return []
    try:
        with create_engine(f"sqlite:///{db}").connect() as conn:
            return list(conn.execute(select(OptionsScalpRecord).where(OptionsScalpRecord.status == "closed")))
    except OperationalError:
        return []  # the schema is being created


def test_run_live_trades_refuses_a_second_runtime_and_stops_on_ctrl_c(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    out = tmp_path / "live"
    first = launch(fake, out)
    try:
        start_when_live(fake, out, first)
        deadline = time.monotonic() + 90
        while not closed_scalps(out):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "no scalp closed in time"
            time.sleep(0.2)
        second = launch(fake, out)
        out2, err2 = second.communicate(timeout=60)
        assert second.returncode == cli.EXIT_ACCOUNT_LOCKED, err2
        assert (
            err2.startswith("error: another run_live.py is trading this account")
            and f"pid {first.pid}" in err2
        )
        assert len(err2.strip().splitlines()) == 1
        first.send_signal(signal.SIGINT)
        stdout, stderr = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == cli.EXIT_INTERRUPTED, stderr
    engine = create_engine(f"sqlite:///{out / 'journal.sqlite'}")
    with engine.connect() as conn:
        [run] = conn.execute(select(RunRecord)).all()
        scalps = conn.execute(select(OptionsScalpRecord)).all()
        orders = conn.execute(select(LiveOrderRecord)).all()
    assert (run.mode, run.broker, run.status) == ("paper", "alpaca", "interrupted")
    assert scalps and all(s.status == "closed" for s in scalps)  # flattened on Ctrl-C
    fills = [o for o in orders if o.event in ("fill", "partial_fill")]
    assert {o.side for o in fills} == {"buy", "sell"} and all(o.execution_id for o in fills)
    assert len({o.execution_id for o in fills}) == len(fills)  # each execution booked once
    assert fake.market.positions() == []
    assert " ET  SPY " in stdout and "ACTIVE" in stdout
    everything = stdout + stderr + out2 + err2 + (out / "live.log").read_text()
    assert KEY not in everything and SECRET not in everything
