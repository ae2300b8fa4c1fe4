"""The dashboard served by ``python -m dashboard`` and opened in headless Chromium (Debian's, via Playwright).

The app serves a copy of the real backtest journal (``served_journal``); each tab is
opened, its numbers are compared with figures computed here from the journal rows
(plain ``sqlite3``), a filter is changed, no error element may appear, and a
screenshot of each tab lands in the test's folder (``DASHBOARD_SCREENSHOTS=DIR``
keeps them in DIR). The Live Scalps tab is tested on a real paper session: the live
runtime over the loopback fake Alpaca, in lockstep with its replay, writes its own
journal; the test holds the fake's clock while a scalp is open and again once it
closed, and the page, served on that journal, follows the session by itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.live.limits import LiveLimits
from app.live.request import LiveRequest
from app.live.session import Harness, run
from dashboard.ui.strike_tab import LIVE_SOURCE
from options_scalper.calendar import ET
from tests.app.live.session_runs import StoppableLockstep
from tests.support.fake_alpaca import FakeAlpaca
from tests.support.live_runs import ANY_BID, SPY_DAY, sample_catalog
from tests.support.replay_market import ReplayMarket

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
def served_journal(backtest_journal, tmp_path_factory) -> str:
    """The app's own copy of the backtest journal (and the reports beside it)."""
    root = tmp_path_factory.mktemp("dashboard-served")
    shutil.copy(backtest_journal.path, root / "journal.sqlite")
    for strategy in backtest_journal.reports:
        shutil.copytree(backtest_journal.path.parent / strategy, root / strategy)
    return f"sqlite:///{root / 'journal.sqlite'}"


@contextlib.contextmanager
def serve(journal_url: str, log: Path) -> Iterator[str]:
    """``python -m dashboard --journal journal_url`` on a free port until the block ends; yields its URL."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "--journal", journal_url, "--port", str(port)],
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
def server(served_journal, tmp_path_factory) -> Iterator[str]:
    with serve(served_journal, tmp_path_factory.mktemp("dashboard-server") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (make chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield b
        b.close()


def new_page(browser, url: str):
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(WAIT_MS)
    pg.goto(url, wait_until="domcontentloaded")
    pg.get_by_role("tab", name="Performance").wait_for()
    return pg


@pytest.fixture(scope="module")
def page(browser, server):
    pg = new_page(browser, server)
    yield pg
    pg.close()


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


def test_each_tab_shows_the_journals_numbers(page, backtest_journal, served_journal, shots):
    path = Path(served_journal.removeprefix("sqlite:///"))
    run_id = backtest_journal.run_ids["momentum_burst"]
    n, win_rate, pnl = expected(path, run_id)

    panel = open_tab(page, "Live Scalps")  # a journal of backtests only
    panel.get_by_text("no live run active").first.wait_for()
    no_errors(page)

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
    assert {"performance.png", "scalp_history.png", "strike_picker.png"} <= {
        p.name for p in shots.glob("*.png")
    }


def test_the_ticker_filter_changes_the_numbers(page, backtest_journal, served_journal, shots):
    path = Path(served_journal.removeprefix("sqlite:///"))

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


# ---------------------------------------------------------------------------------------------- live tab
NO_LIMITS = LiveLimits(max_daily_loss=1e9, max_orders_per_minute=1000, max_open_scalps=100,
                       max_premium_per_order=1e9)  # fmt: skip
SOCKET_CLOCK = dict(gap_grace_seconds=5.0, clock_poll_seconds=0.0, qcheck=0.1)
HOLD_S = 240.0  # the longest the test may hold the fake's clock before it gives up


def newest_heartbeat(path: Path) -> sqlite3.Row | None:
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("select * from live_heartbeats order by id desc limit 1").fetchone()
    except sqlite3.OperationalError:  # the session has not created its tables yet
        return None
    finally:
        conn.close()


def grid_rows(panel) -> list[dict[str, str]]:
    """The first ``st.dataframe`` of ``panel``: its rows as header -> cell text (the grid's DOM for screen
    readers holds the raw values of the columns in view)."""
    grid = panel.locator('[data-testid="stDataFrame"] table[role="grid"]').first
    heads = grid.locator('th[role="columnheader"]').all_text_contents()
    body = grid.locator('tbody tr[role="row"]').all()
    return [
        dict(zip(heads, r.locator('td[role="gridcell"]').all_text_contents(), strict=False)) for r in body
    ]


def seconds_ago(text: str) -> int:
    found = re.search(r"\((\d+) s ago\)", text)
    assert found, text
    return int(found.group(1))


def scalp_rows(path: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("select * from options_scalps order by id").fetchall()
    finally:
        conn.close()


class HeldClock:
    """The lockstep's stepper over the fake's replay that stops advancing it at the points the test names.

    Before each step (the strategy has processed its minute, the heartbeat is written) the next
    point's predicate reads the journal; when it holds, the fake's clock stays where it is (no
    ``market.step``: no bar, quote or fill reaches the session) until the test calls ``release``.
    """

    def __init__(self, fake: FakeAlpaca, points: list[Callable[[], bool]]) -> None:
        self.market = fake.market
        self.points = list(points)
        self.held = threading.Event()
        self._go = threading.Event()

    def step(self) -> Any:
        if self.points and self.points[0]():
            self.points.pop(0)
            self._go.clear()
            self.held.set()
            if not self._go.wait(HOLD_S):
                raise TimeoutError(f"the test held the fake's clock for more than {HOLD_S:g} s")
        return self.market.step()

    def wait_held(self, timeout: float) -> None:
        assert self.held.wait(timeout), "the session never reached the point to hold at"

    def release(self) -> None:
        self.held.clear()
        self._go.set()


@pytest.fixture(scope="module")
def spy_sample(tmp_path_factory) -> Path:
    return sample_catalog(tmp_path_factory, "SPY", SPY_DAY)


def test_the_live_tab_follows_a_real_paper_session_on_the_fake_alpaca(browser, spy_sample, tmp_path, shots):
    out = tmp_path / "out"
    path = out / "journal.sqlite"

    def scalp_open() -> bool:  # its entry filled and journaled, and the minute's heartbeat shows it
        beat = newest_heartbeat(path)
        if beat is None or not beat["open_scalps"]:
            return False
        held = {s["option_symbol"] for s in json.loads(beat["open_scalps_json"]) if s["contracts"] > 0}
        return bool(held) and held == {r["option_symbol"] for r in scalp_rows(path) if r["status"] == "open"}

    def scalp_closed() -> bool:
        beat = newest_heartbeat(path)
        return (
            beat is not None
            and beat["open_scalps"] == 0
            and any(r["status"] == "closed" for r in scalp_rows(path))
        )

    # ema_cloud opens a SPY scalp at 11:47 ET on this day of the sample and closes it before 11:58
    market = ReplayMarket(spy_sample, ["SPY"], SPY_DAY, warmup_days=1, start_et="11:40", end_et="12:00")
    console = io.StringIO()
    result: dict[str, Any] = {}
    with FakeAlpaca(market) as fake:
        clock = HeldClock(fake, [scalp_open, scalp_closed])
        harness = Harness(
            runner=lambda venue, cerebro: StoppableLockstep(clock, cerebro, timeout=30.0).run(),  # type: ignore[arg-type]
            store_options={"clock_params": SOCKET_CLOCK, **ANY_BID},
        )
        req = LiveRequest(broker="alpaca", strategy="ema_cloud", symbols=("SPY",), out_dir=out, warmup_days=1,
                          limits=NO_LIMITS, data_timeout=HOLD_S + 60)  # fmt: skip

        def session() -> None:
            try:
                result["code"] = run(req, env=fake.env(), console=console, harness=harness)
            except BaseException as exc:
                result["error"] = exc

        thread = threading.Thread(target=session, name="paper-session", daemon=True)
        thread.start()
        try:
            clock.wait_held(120)  # a scalp is open, the session waits for its next minute
            with serve(f"sqlite:///{path}", tmp_path / "streamlit.log") as url:
                pg = new_page(browser, url)
                try:
                    _while_open(pg, path, shots)
                    clock.release()
                    clock.wait_held(60)  # its exit filled: the session waits again, still running
                    _after_the_exit(pg, path, shots)
                    clock.release()
                    thread.join(120)
                    assert not thread.is_alive(), console.getvalue()
                    assert result.get("code") == 0, (result, console.getvalue())
                    _after_the_end(pg, path, shots)
                    _strike_picker_on_the_live_chain(pg, path, shots)
                finally:
                    pg.close()
        finally:
            clock.points.clear()
            clock.release()
            thread.join(30)


def _while_open(pg, path: Path, shots: Path) -> None:
    [scalp] = scalp_rows(path)
    beat = newest_heartbeat(path)
    assert scalp["status"] == "open" and beat["state"] == "ACTIVE"
    panel = open_tab(pg, "Live Scalps")
    metric(panel, "State", "ACTIVE")
    metric(panel, "Data", "LIVE")
    panel.get_by_text("Open scalps (1)").wait_for()
    # st.dataframe draws on a canvas; its cells are in the DOM (for screen readers) but not "visible"
    panel.get_by_text(scalp["option_symbol"]).first.wait_for(state="attached")
    [row] = grid_rows(panel)
    assert row["option_symbol"] == scalp["option_symbol"] and int(row["contracts"]) == scalp["contracts"]
    assert float(row["entry_premium"]) == pytest.approx(scalp["entry_premium"])
    ts = datetime.fromisoformat(beat["ts"])
    age = panel.get_by_text(re.compile(rf"^heartbeat at {ts:%H:%M:%S} UTC \(\d+ s ago\)$"))
    age.wait_for()
    first = seconds_ago(age.inner_text())
    deadline = time.monotonic() + WAIT_MS / 1000
    while seconds_ago(age.inner_text()) <= first:  # the fragment reruns by itself: no click
        assert time.monotonic() < deadline, f"the heartbeat's age stayed at {first} s on the page"
        pg.wait_for_timeout(500)
    bar = datetime.fromisoformat(beat["bar_time"])
    panel.get_by_text(f"last bar {bar:%H:%M} UTC").wait_for()
    no_errors(pg)
    pg.screenshot(path=shots / "live_scalps_open.png", full_page=True)


def _after_the_exit(pg, path: Path, shots: Path) -> None:
    [scalp] = scalp_rows(path)
    beat = newest_heartbeat(path)
    assert scalp["status"] == "closed" and beat["open_scalps"] == 0
    panel = pg.locator('[role="tabpanel"]:visible')
    # no click since the open scalp was shown: the page follows the session by itself
    panel.get_by_text("Open scalps (0)").wait_for()
    bar = datetime.fromisoformat(beat["bar_time"])
    panel.get_by_text(f"last bar {bar:%H:%M} UTC").wait_for()
    panel.get_by_text(
        re.compile(rf"^heartbeat at {datetime.fromisoformat(beat['ts']):%H:%M:%S} UTC")
    ).wait_for()
    metric(panel, "State", "ACTIVE")
    panel.get_by_text("Latest order events").wait_for()
    no_errors(pg)
    pg.screenshot(path=shots / "live_scalps_after_exit.png", full_page=True)


def _after_the_end(pg, path: Path, shots: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        [(run_id, status)] = conn.execute("select run_id, status from runs").fetchall()
    finally:
        conn.close()
    assert status == "finished"
    panel = pg.locator('[role="tabpanel"]:visible')
    panel.get_by_text(f"no live run active (last live run {run_id}: finished)").wait_for()
    assert panel.locator('[data-testid="stMetric"]').count() == 0
    no_errors(pg)
    pg.screenshot(path=shots / "live_scalps_ended.png", full_page=True)


def _strike_picker_on_the_live_chain(pg, path: Path, shots: Path) -> None:
    """The run's recorded entry minute in the Strike Picker: the pick is the contract the session bought."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        [(symbol, decided)] = conn.execute(
            "select option_symbol, ts from live_orders where role = 'entry' and event = 'submitted'"
        ).fetchall()
    finally:
        conn.close()
    minute = datetime.fromisoformat(decided).replace(tzinfo=UTC).astimezone(ET)
    panel = open_tab(pg, "Strike Picker")
    panel.get_by_text(LIVE_SOURCE).first.wait_for()
    box = panel.locator('[data-testid="stSelectbox"]').filter(has_text="Minute served")
    box.click()
    pg.keyboard.type(f"{minute:%Y-%m-%d %H:%M}")
    pg.keyboard.press("Enter")
    panel.get_by_text(f"was served at {minute:%Y-%m-%d %H:%M} ET").wait_for()
    metric(panel, "Pick", symbol)
    panel.get_by_text("would buy").first.wait_for()
    panel.get_by_text("Refused, by reason").wait_for()
    panel.locator(".js-plotly-plot").first.wait_for()
    settle(pg)
    no_errors(pg)
    pg.screenshot(path=shots / "strike_picker_live.png", full_page=True)
