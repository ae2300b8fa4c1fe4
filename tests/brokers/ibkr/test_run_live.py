"""End to end: ``run_live.py --broker ibkr --port <fake>`` trades a replayed day over the TWS protocol.

The fake TWS replays the sample's SPY day from 11:38 ET, one minute as soon as the runtime
has shown the previous one in its live.log; ``run_live.py`` runs in its own process with the
real ib client and is stopped with a real SIGINT once its scalp has closed. The journal must
hold the whole scalp (its order events, the scalp row opened then closed, heartbeats), and
the scalp must be the backtest's contract at the backtest's price.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.cerebro import build_cerebro
from strategies.ema_cloud import EmaCloudScalp
from tests.support.fake_tws import FakeTWS
from tests.support.live_runs import SPY_DAY, sample_catalog
from tests.support.replay_market import ReplayMarket

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def spy_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_catalog(tmp_path_factory, "SPY", SPY_DAY)


def _start_when_live(fake: FakeTWS, out: Path, proc: subprocess.Popen[str], timeout: float = 90) -> None:
    """Step the replay by hand until the runtime prints its first status line (warm-up done, data LIVE)."""
    log = out / "live.log"
    deadline = time.monotonic() + timeout
    last_step = time.monotonic()
    while not (log.exists() and '"event": "status"' in log.read_text()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the runtime never went live"
        if fake.bar_subscribers() and time.monotonic() - last_step > 1.0:
            fake.market.step()
            last_step = time.monotonic()
        time.sleep(0.05)


def _shown(out: Path) -> datetime:
    """The last minute the runtime printed a status line for (its live.log)."""
    last = datetime.min.replace(tzinfo=UTC)
    for line in (out / "live.log").read_text().splitlines():
        if '"event": "status"' in line:
            last = max(last, datetime.fromisoformat(json.loads(line)["bar_time"]).astimezone(UTC))
    return last


def _closed(out: Path) -> list[Any]:
    db = out / "journal.sqlite"
    if not db.exists():
        return []
    try:
        with sa.create_engine(f"sqlite:///{db}").connect() as con:
            return list(
                con.execute(sa.text("select * from options_scalps where status = 'closed'")).mappings()
            )
    except sa.exc.OperationalError:
        return []  # the schema is being created


def test_run_live_on_the_fake_tws_journals_the_backtests_scalp(spy_sample: Path, tmp_path: Path) -> None:
    market = ReplayMarket(spy_sample, ["SPY"], SPY_DAY, warmup_days=1, start_et="11:38", end_et="12:30")
    backtest = build_cerebro(EmaCloudScalp, str(spy_sample), ["SPY"], fromdate=SPY_DAY, todate=SPY_DAY).run()[
        0
    ]
    expected = [
        s for s in backtest.closed_scalps if market.start_utc < s.entry_time and s.exit_time <= market.end_utc
    ]
    assert expected, "the window must hold one of the backtest's scalps"
    fake = FakeTWS(market).start()
    out = tmp_path / "out"
    cmd = [sys.executable, "run_live.py", "--broker", "ibkr", "--port", str(fake.port), "--client-id", "21",
           "--strategy", "ema_cloud", "--symbols", "SPY", "--out", str(out), "--warmup-days", "1",
           "--catalog", str(spy_sample), "--max-premium-per-order", "1000000", "--max-daily-loss", "1000000"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _start_when_live(fake, out, proc)
        deadline = time.monotonic() + 300  # generous for a loaded machine; alone it takes ~20 s
        stepped = time.monotonic()
        while not _closed(out):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no scalp closed in time"
            # the next minute once the runtime has shown this one (or after 3 s: a minute it skips)
            if market.now() < market.end_utc and (
                _shown(out) >= market.now() or time.monotonic() - stepped > 3
            ):
                market.step()
                stepped = time.monotonic()
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        fake.stop()
    assert proc.returncode == 130, stderr  # Ctrl-C: nothing open, a clean stop
    assert "Traceback" not in stderr
    engine = sa.create_engine(f"sqlite:///{out / 'journal.sqlite'}")
    with engine.connect() as con:
        run = con.execute(sa.text("select mode, broker, account from runs")).one()
        scalps = con.execute(sa.text("select * from options_scalps")).mappings().all()
        orders = con.execute(sa.text("select * from live_orders")).mappings().all()
        beats = con.execute(sa.text("select count(*) from live_heartbeats")).scalar_one()
    assert tuple(run) == ("paper", "ibkr", "DU1234567")
    want = expected[0]
    assert len(scalps) == 1 and scalps[0]["status"] == "closed"
    row = scalps[0]
    # the backtest's contract at the backtest's ask (the size follows the runtime's account and limits)
    assert row["option_symbol"] == want.option_symbol and row["contracts"] > 0
    assert float(row["entry_premium"]) == pytest.approx(want.entry_premium)
    fills = [o for o in orders if o["event"] in ("fill", "partial_fill")]
    assert {o["side"] for o in fills} == {"buy", "sell"} and len({o["execution_id"] for o in fills}) == len(
        fills
    )
    assert beats > 0 and " ET  SPY " in stdout
    assert fake.market.positions() == [] and fake.requests(3)  # orders went over the TWS socket
