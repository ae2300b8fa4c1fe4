"""The dashboard served by ``python -m dashboard`` and opened in headless Chromium (Debian's, via Playwright).

The app serves a copy of the real backtest journal plus a running paper run
(``live_journal``); each tab is opened, its numbers are compared with figures
computed here from the journal rows (plain ``sqlite3``), a filter is changed, no
error element may appear, and a screenshot of each tab lands in the test's folder
(``DASHBOARD_SCREENSHOTS=DIR`` keeps them in DIR).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.dashboard.conftest import PAPER_RUN, build_live_journal, open_scalp, write_heartbeat

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 30_000
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_journal(backtest_journal, tmp_path_factory) -> str:
    """The app's own copy of the live journal (this module writes heartbeats into it)."""
    return build_live_journal(backtest_journal, tmp_path_factory.mktemp("dashboard-served"))


@pytest.fixture(scope="module")
def server(live_journal, tmp_path_factory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard-server") / "streamlit.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "--journal", live_journal, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"python -m dashboard exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the dashboard did not answer /_stcore/health within 60 s: {log.read_text()[-2000:]}"
                )
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def page(server):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (make chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(WAIT_MS)
        pg.goto(server, wait_until="domcontentloaded")
        pg.get_by_role("tab", name="Performance").wait_for()
        yield pg
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """The screenshots' folder: ``$DASHBOARD_SCREENSHOTS`` if set, else the test's own temporary folder."""
    chosen = os.environ.get("DASHBOARD_SCREENSHOTS")
    if chosen:
        folder = Path(chosen)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
        return folder
    return tmp_path_factory.mktemp("dashboard-screenshots")


def expected(path: Path, run_id: str, ticker: str | None = None) -> tuple[int, float, float]:
    """Trades, win rate and net P&L of ``run_id`` (one ticker or all) straight from the rows."""
    conn = sqlite3.connect(path)
    try:
        query = "select count(*), sum(pnl > 0), sum(pnl) from options_scalps where run_id = ?"
        args: tuple[str, ...] = (run_id,)
        if ticker:
            query += " and ticker = ?"
            args += (ticker,)
        n, wins, pnl = conn.execute(query, args).fetchone()
    finally:
        conn.close()
    return int(n), wins / n, float(pnl)


def usd(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def open_tab(page, name: str):
    page.get_by_role("tab", name=name).click()
    panel = page.locator('[role="tabpanel"]:visible')
    panel.wait_for()
    return panel


def metric(panel, label: str, value: str) -> None:
    """Wait until the metric ``label`` of the visible tab shows ``value`` (Streamlit renders asynchronously)."""
    box = panel.locator('[data-testid="stMetric"]').filter(has_text=label)
    box.locator('[data-testid="stMetricValue"]').filter(has_text=value).first.wait_for()


def no_errors(page) -> None:
    assert page.locator(ERRORS).count() == 0, page.locator(ERRORS).first.inner_text()


def settle(page) -> None:
    """Wait for the script run to finish (Streamlit shows a running indicator while it works)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")


def test_each_tab_shows_the_journals_numbers(page, backtest_journal, live_journal, shots):
    path = Path(live_journal.removeprefix("sqlite:///"))
    run_id = backtest_journal.run_ids["momentum_burst"]
    n, win_rate, pnl = expected(path, run_id)

    panel = open_tab(page, "Live Scalps")
    metric(panel, "State", "ACTIVE")
    # st.dataframe draws on a canvas; its cells are in the DOM (for screen readers) but not "visible"
    panel.get_by_text(open_scalp(datetime.now(UTC))["option_symbol"]).first.wait_for(state="attached")
    panel.get_by_text("heartbeat at").first.wait_for()
    no_errors(page)
    page.screenshot(path=shots / "live_scalps.png", full_page=True)

    panel = open_tab(page, "Strike Picker")
    panel.get_by_text("pipeline (OptionsScalper.process_signal)").wait_for()
    panel.get_by_text("Refused, by reason").wait_for()
    panel.locator(".js-plotly-plot").first.wait_for()
    no_errors(page)
    page.screenshot(path=shots / "strike_picker.png", full_page=True)

    panel = open_tab(page, "Scalp History")
    metric(panel, "Trades", str(n))
    metric(panel, "Win rate", f"{win_rate:.1%}")
    metric(panel, "Total P&L", usd(pnl))
    panel.get_by_text(f"of {n}, sorted by exit_time descending").wait_for()
    no_errors(page)
    page.screenshot(path=shots / "scalp_history.png", full_page=True)

    panel = open_tab(page, "Performance")
    metric(panel, "Net P&L", usd(pnl))
    panel.get_by_text("Success criteria (seed 003)").wait_for()
    panel.locator(".js-plotly-plot").first.wait_for()
    no_errors(page)
    page.screenshot(path=shots / "performance.png", full_page=True)
    assert sorted(p.name for p in shots.glob("*.png")) == [
        "live_scalps.png",
        "performance.png",
        "scalp_history.png",
        "strike_picker.png",
    ]


def test_the_ticker_filter_changes_the_numbers(page, backtest_journal, live_journal, shots):
    path = Path(live_journal.removeprefix("sqlite:///"))
    run_id = backtest_journal.run_ids["momentum_burst"]
    n_all, _, _ = expected(path, run_id)
    n, win_rate, pnl = expected(path, run_id, "SPY")
    assert n != n_all
    panel = open_tab(page, "Scalp History")
    metric(panel, "Trades", str(n_all))
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Ticker")
    box.locator("input").click()
    page.keyboard.type("SPY")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    metric(panel, "Trades", str(n))
    metric(panel, "Win rate", f"{win_rate:.1%}")
    metric(panel, "Total P&L", usd(pnl))
    settle(page)
    no_errors(page)
    page.screenshot(path=shots / "scalp_history_spy.png", full_page=True)


def test_the_live_tab_refreshes_by_itself(page, live_journal):
    panel = open_tab(page, "Live Scalps")
    metric(panel, "State", "ACTIVE")
    write_heartbeat(live_journal, PAPER_RUN, datetime.now(UTC), [], state="REDUCING")
    metric(panel, "State", "REDUCING")  # no click: the fragment reruns every few seconds
    panel.get_by_text("Open scalps (0)").wait_for()
    no_errors(page)
