"""End to end: ``run_live.py --broker ibkr --port <fake>`` trades a replayed day over the TWS protocol.

The fake TWS replays the sample's SPY day from 11:30 ET on a fast clock (a steady pace
through the backtest's 11:47 scalp, then a fast tail to the close, where a live session
ends); ``run_live.py`` runs in its own process with the real ib client. The journal must
hold the whole scalp (its order events, the scalp row opened then closed, heartbeats), and
the scalp must be the backtest's.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

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


def _drive(fake: FakeTWS, stop: threading.Event, slow_until: datetime) -> None:
    """Step the replay once the client streams bars: 20 ms a minute through the trade, then 2 ms."""
    market = fake.market
    while not stop.is_set() and not fake.bar_subscribers():
        time.sleep(0.01)
    while not stop.is_set() and market.now() < market.end_utc:
        market.step()
        time.sleep(0.03 if market.now() <= slow_until else 0.003)


def test_run_live_on_the_fake_tws_journals_the_backtests_scalp(spy_sample: Path, tmp_path: Path) -> None:
    market = ReplayMarket(spy_sample, ["SPY"], SPY_DAY, warmup_days=1, start_et="11:30")
    fake = FakeTWS(market).start()
    stop = threading.Event()
    backtest = build_cerebro(EmaCloudScalp, str(spy_sample), ["SPY"], fromdate=SPY_DAY, todate=SPY_DAY).run()[0]
    expected = [s for s in backtest.closed_scalps if s.entry_time >= market.start_utc]
    assert expected, "the window must hold one of the backtest's scalps"
    slow_until = max(s.exit_time for s in expected)
    driver = threading.Thread(target=_drive, args=(fake, stop, slow_until), daemon=True)
    driver.start()
    out = tmp_path / "out"
    try:
        proc = subprocess.run(
            [sys.executable, str(ROOT / "run_live.py"), "--broker", "ibkr", "--port", str(fake.port), "--client-id", "21",
             "--strategy", "ema_cloud", "--symbols", "SPY", "--out", str(out), "--catalog", str(spy_sample),
             "--max-premium-per-order", "1000000", "--max-daily-loss", "1000000", "--data-timeout", "30"],
            cwd=ROOT, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
    finally:
        stop.set()
        driver.join(5)
        fake.stop()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    engine = sa.create_engine(f"sqlite:///{out / 'journal.sqlite'}")
    with engine.connect() as con:
        run = con.execute(sa.text("select mode, broker, account from runs")).one()
        scalps = con.execute(sa.text("select * from options_scalps")).mappings().all()
        orders = con.execute(sa.text("select * from live_orders")).mappings().all()
        beats = con.execute(sa.text("select count(*) from live_heartbeats")).scalar_one()
    assert tuple(run) == ("paper", "ibkr", "DU1234567")
    assert len(scalps) == len(expected)
    for row, want in zip(scalps, expected, strict=True):
        assert row["option_symbol"] == want.option_symbol and row["contracts"] == want.contracts
        assert row["exit_reason"] == want.exit_reason
        assert float(row["pnl"]) == pytest.approx(want.pnl, abs=0.01)
    kinds = [o["event"] for o in orders]
    assert "fill" in kinds and kinds.count("fill") >= 2  # the entry and the exit, booked per execution
    assert beats > 0
    assert fake.requests(3), "orders went over the TWS socket"
