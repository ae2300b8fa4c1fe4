"""Live Scalps data: the documented live tables (revision 139) read back, stale and missing heartbeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from dashboard import live
from dashboard.db import open_journal
from journal.models import LiveOrderRecord, RunRecord
from journal.writer import JournalWriter
from tests.dashboard.conftest import PAPER_RUN, open_scalp, write_heartbeat


def test_a_backtest_only_journal_has_no_live_run(backtest_journal):
    status = live.live_status(open_journal(backtest_journal.url), datetime.now(UTC))
    assert status.kind == "none" and status.text == "no live run active"


def test_the_running_paper_run_and_its_open_scalp(live_journal):
    journal = open_journal(live_journal)
    now = datetime.now(UTC)
    status = live.live_status(journal, now)
    assert status.kind == "ok" and status.run is not None and status.run["run_id"] == PAPER_RUN
    assert status.heartbeat is not None and status.heartbeat.state == "ACTIVE"
    table = live.open_scalps_frame(status.heartbeat, now)
    assert list(table["option_symbol"]) == ["SPY261202C00588000"]
    row = table.iloc[0]
    assert row["pnl"] == 43.05 and row["delta_now"] == 0.47 and row["iv_entry"] == 0.156
    assert 29 * 60 < row["to_cutoff_s"] <= 30 * 60 + 5 and row["to_cutoff"].startswith(("29m", "30m"))
    assert row["to_expiry_s"] > row["to_cutoff_s"]


def test_a_stale_heartbeat_says_when_it_was_last_seen(live_journal):
    journal = open_journal(live_journal)
    later = datetime.now(UTC) + timedelta(seconds=live.STALE_AFTER_S + 60)
    status = live.live_status(journal, later)
    assert status.kind == "stale"
    assert status.text.startswith("heartbeat stale (last at ") and "s ago)" in status.text
    assert f"{status.heartbeat.ts:%H:%M:%S}" in status.text


def test_the_newest_heartbeat_wins_and_orders_are_read_newest_first(tmp_path, live_journal):
    import shutil

    shutil.copy(live_journal.removeprefix("sqlite:///"), tmp_path / "j.sqlite")
    url = f"sqlite:///{tmp_path / 'j.sqlite'}"
    now = datetime.now(UTC)
    write_heartbeat(url, PAPER_RUN, now + timedelta(seconds=1), [], state="HALTED")
    with JournalWriter(url) as writer, writer.session() as session, session.begin():
        for k, event in enumerate(("submitted", "accepted", "fill")):
            session.add(
                LiveOrderRecord(
                    run_id=PAPER_RUN,
                    ts=(now + timedelta(seconds=k)).replace(tzinfo=None),
                    broker="alpaca",
                    client_order_id="c-1",
                    option_symbol=open_scalp(now)["option_symbol"],
                    side="buy",
                    qty=3,
                    limit_price=1.26,
                    role="entry",
                    event=event,
                    execution_id="x-1" if event == "fill" else None,
                    fill_qty=3 if event == "fill" else None,
                    fill_price=1.25 if event == "fill" else None,
                )
            )
    journal = open_journal(url)
    status = live.live_status(journal, now + timedelta(seconds=2))
    assert status.heartbeat is not None and status.heartbeat.state == "HALTED"
    assert live.open_scalps_frame(status.heartbeat, now).empty
    assert list(live.recent_orders(journal, PAPER_RUN)["event"]) == ["fill", "accepted", "submitted"]
    with JournalWriter(url) as writer, writer.engine.begin() as conn:
        conn.execute(update(RunRecord).where(RunRecord.run_id == PAPER_RUN).values(status="finished"))
    text = live.live_status(open_journal(url), now).text
    assert text == f"no live run active (last live run {PAPER_RUN}: finished)"


@pytest.mark.parametrize(
    ("seconds", "text"), [(3723, "1h 02m 03s"), (245, "4m 05s"), (0, "passed"), (None, "n/a")]
)
def test_countdown(seconds, text):
    assert live.countdown(seconds) == text
