"""A real journal for the dashboard tests: two real backtests of the bundled sample into one database.

``ema_cloud`` runs first, ``momentum_burst`` second (so it is the newest run, the
one the page picks by default). Each writes its report.json into its own folder
beside the journal, where the dashboard finds the rejected-signal counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.backtest import RunRequest, prepare, run_once
from feeds.synthetic import sample


@dataclass(frozen=True)
class BacktestJournal:
    url: str
    path: Path
    catalog: Path
    reports: dict[str, dict[str, Any]]  # strategy -> report.json
    run_ids: dict[str, str]  # strategy -> run id


@pytest.fixture(scope="session")
def backtest_journal(tmp_path_factory: pytest.TempPathFactory) -> BacktestJournal:
    root = tmp_path_factory.mktemp("dashboard-journal")
    data = sample.ensure_sample(progress=False)
    url = f"sqlite:///{root / 'journal.sqlite'}"
    reports: dict[str, dict[str, Any]] = {}
    for strategy, symbols in (("ema_cloud", ("SPY",)), ("momentum_burst", ())):
        request = RunRequest(
            strategy=strategy,
            data_dir=data,
            symbols=symbols,  # ema_cloud: SPY only, a second (smaller) run for the run picker
            catalog_dir=root / "catalog",
            out_dir=root / strategy,
            journal_url=url,
            quiet=True,
        )
        run_once(prepare(request))
        reports[strategy] = json.loads((root / strategy / "report.json").read_text())
    run_ids = {s: r["run"]["run_id"] for s, r in reports.items()}
    return BacktestJournal(url, root / "journal.sqlite", root / "catalog", reports, run_ids)


PAPER_RUN = "20261201T143000Z-live0001"


def write_heartbeat(url: str, run_id: str, ts, scalps: list[dict[str, Any]], state: str = "ACTIVE") -> None:
    """Append one ``live_heartbeats`` row (the documented table, written with the journal's own writer)."""
    from journal.models import HeartbeatRecord
    from journal.writer import JournalWriter

    with JournalWriter(url) as writer, writer.session() as session, session.begin():
        session.add(
            HeartbeatRecord(
                run_id=run_id,
                ts=ts.replace(tzinfo=None),
                bar_time=ts.replace(tzinfo=None, second=0, microsecond=0),
                state=state,
                data_state="LIVE",
                underlying="SPY",
                underlying_price=587.61,
                day_pnl=-123.5,
                open_scalps=len(scalps),
                open_scalps_json=json.dumps(scalps),
                message="paper session",
            )
        )


def open_scalp(now) -> dict[str, Any]:
    """One open scalp as the runtime documents it in ``open_scalps_json``."""
    from datetime import timedelta

    return {
        "ticker": "SPY",
        "option_symbol": "SPY261202C00588000",
        "option_type": "call",
        "strike": 588.0,
        "expiry": (now + timedelta(days=1)).date().isoformat(),
        "contracts": 3,
        "entry_premium": 1.25,
        "entry_time": (now - timedelta(minutes=4)).isoformat(),
        "bid": 1.40,
        "ask": 1.44,
        "pnl": 43.05,
        "pnl_pct": 0.1148,
        "delta_entry": 0.41,
        "theta_entry": -0.31,
        "iv_entry": 0.156,
        "delta_now": 0.47,
        "theta_now": -0.33,
        "iv_now": 0.161,
        "cutoff": (now + timedelta(minutes=30)).isoformat(),
    }


@pytest.fixture(scope="session")
def live_journal(backtest_journal: BacktestJournal, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the backtest journal plus a running paper run with one heartbeat (one open scalp)."""
    return build_live_journal(backtest_journal, tmp_path_factory.mktemp("dashboard-live"))


def build_live_journal(backtest_journal: BacktestJournal, root: Path) -> str:
    """Copy the backtest journal (and its reports) into ``root`` and add the running paper run."""
    import shutil
    from datetime import UTC, datetime

    from sqlalchemy import update

    from journal.models import RunRecord
    from journal.writer import JournalWriter, RunEntry

    shutil.copy(backtest_journal.path, root / "journal.sqlite")
    for strategy in backtest_journal.reports:  # the reports travel with the journal
        shutil.copytree(backtest_journal.path.parent / strategy, root / strategy)
    url = f"sqlite:///{root / 'journal.sqlite'}"
    with JournalWriter(url) as writer:
        writer.start_run(RunEntry(run_id=PAPER_RUN, strategy="ema_cloud", symbols=("SPY",)))
        with writer.engine.begin() as conn:
            conn.execute(
                update(RunRecord)
                .where(RunRecord.run_id == PAPER_RUN)
                .values(mode="paper", broker="alpaca", account="PA-TEST")
            )
    now = datetime.now(UTC)
    write_heartbeat(url, PAPER_RUN, now, [open_scalp(now)])
    return url
