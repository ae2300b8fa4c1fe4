"""``run_live.py --broker ibkr`` through the nightly IB Gateway restart, mid-scalp.

While the sample's 11:47 ET ema_cloud scalp is held and its exit order works, the fake drops
every socket and refuses connections for a few seconds (the gateway restarting); the exit fills
while nobody is connected. The runtime goes REDUCING, reconnects with backoff, books the missed
execution from IB's execution replay once, backfills the bars and is ACTIVE again; the scalp
closes once, nothing is sent twice. (``test_venue.py`` covers the venue's reconnect alone; this
is the whole runtime over it.)
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from app import cli
from brokers.ibkr import ibapi
from journal.models import LiveOrderRecord, OptionsScalpRecord
from tests.support.fake_tws import FakeTWS
from tests.support.fake_tws.runs import LiveProcess
from tests.support.live_runs import SPY_DAY, journal_rows, no_duplicate_orders, sample_catalog
from tests.support.replay_market import ReplayMarket

DOWN_SECONDS = 3.0


@pytest.fixture(scope="module")
def spy_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_catalog(tmp_path_factory, "SPY", SPY_DAY)


def test_the_gateway_restart_mid_scalp_reconnects_books_the_missed_fill_once_and_resumes(
    spy_sample: Path, tmp_path: Path
) -> None:
    market = ReplayMarket(spy_sample, ["SPY"], SPY_DAY, warmup_days=1, start_et="11:38", end_et="12:05")
    fake = FakeTWS(market).start()
    out = tmp_path / "out"
    run = LiveProcess(fake, out, spy_sample)
    try:
        run.wait_live()
        exit_order = run.step_until_an_exit_works()
        fake.faults.refuse_connections = True
        fake.drop_connections()
        run.step_until(lambda: run.said('"connected": false'), what="the drop", hold=lambda: True)
        down_at = market.step()  # the exit fills while the gateway is down
        time.sleep(DOWN_SECONDS)  # connections refused meanwhile: the runtime retries with backoff
        refused = len(fake.requests(71))
        fake.faults.refuse_connections = False
        run.step_until(
            lambda: any(s.status == "closed" for s in journal_rows(out, OptionsScalpRecord)),
            what="the scalp's close after the reconnect",
        )
        run.step_until(lambda: run.shown() > down_at, what="live bars after the reconnect")
        code = run.interrupt()
    finally:
        run.close()
        fake.stop()
    assert code == cli.EXIT_INTERRUPTED, run.stderr
    assert "Traceback" not in run.stderr
    assert run.libraries() == {ibapi.LIBRARY}
    lines = run.stdout.splitlines()
    down = next(i for i, line in enumerate(lines) if line.startswith("REDUCING:") and "stream down" in line)
    back = next(i for i, line in enumerate(lines) if line == "ACTIVE: reconnected, backfilled and reconciled")
    assert down < back
    # one session before the drop, one after it; the refused attempts never reached startApi
    assert refused == 1 and len(fake.requests(71)) == 2
    # the exit filled once while down and was booked once from IB's execution replay; nothing resent
    placed = fake.placed()
    assert Counter(o.order_ref for o in placed).most_common(1)[0][1] == 1
    assert [(o.action, o.status) for o in placed] == [("BUY", "Filled"), ("SELL", "Filled")]
    assert placed[1].order_ref == exit_order.order_ref
    exits = [
        o
        for o in journal_rows(out, LiveOrderRecord)
        if o.role == "exit" and o.event in ("fill", "partial_fill")
    ]
    [scalp] = journal_rows(out, OptionsScalpRecord)
    assert scalp.status == "closed" and sum(o.fill_qty for o in exits) == scalp.contracts
    assert {o.client_order_id for o in exits} == {exit_order.order_ref}
    assert exits[0].ts.replace(tzinfo=None) == down_at.replace(tzinfo=None)  # at the minute it filled
    assert market.positions() == [] and fake.working() == []
    no_duplicate_orders(out)
