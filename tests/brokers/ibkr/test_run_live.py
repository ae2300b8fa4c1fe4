"""End to end: ``run_live.py --broker ibkr --port <fake>`` trades a replayed day over the TWS protocol.

The fake TWS replays the sample's SPY day from 11:38 ET, one minute as soon as the runtime
has shown the previous one in its live.log; ``run_live.py`` runs in its own process with the
real ib client and is stopped with a real SIGINT once its scalp has closed. The journal must
hold the whole scalp (its order events, the scalp row opened then closed, heartbeats), and
the scalp must be the backtest's contract at the backtest's price.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.cerebro import build_cerebro
from journal.models import OptionsScalpRecord
from strategies.ema_cloud import EmaCloudScalp
from tests.support.fake_tws import FakeTWS
from tests.support.fake_tws.runs import LiveProcess
from tests.support.live_runs import SPY_DAY, journal_rows, sample_catalog
from tests.support.replay_market import ReplayMarket


@pytest.fixture(scope="module")
def spy_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_catalog(tmp_path_factory, "SPY", SPY_DAY)


def _closed(out: Path) -> list[Any]:
    try:
        return [s for s in journal_rows(out, OptionsScalpRecord) if s.status == "closed"]
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
    live = LiveProcess(fake, out, spy_sample)
    try:
        live.wait_live()
        live.step_until(lambda: _closed(out), timeout=300, what="a closed scalp")  # alone it takes ~20 s
        code = live.interrupt()
    finally:
        live.close()
        fake.stop()
    stdout, stderr = live.stdout, live.stderr
    assert code == 130, stderr  # Ctrl-C: nothing open, a clean stop
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
