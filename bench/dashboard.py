"""Benchmark: each dashboard tab's data functions on a journal of 100,000 scalps (target: < 2 CPU s a tab).

Prints figures, asserts nothing about time. Run: ``.venv/bin/python bench/dashboard.py [--scalps N]
[--no-render]``.

The journal is generated in the real schema (``journal.writer.open_engine`` migrates
it; rows inserted through the ORM's table): one backtest run of N scalps over
two years of sessions (SPY and TSLA, 0/1DTE, every exit reason, metadata with
conviction, commission and the decision ask), two small runs, and a paper run with
a day of heartbeats and order events. Each tab is timed cold (a fresh process
state: no cache) as the page would call it; the floor printed beside the figures
is one plain ``sqlite3`` read of every scalp row (what any tab touching the whole
run pays at least). The verdict is on CPU seconds of this process: the machine
this runs on is shared, so wall seconds measure the neighbours as much as the code. With chromium present the app is also started on the journal
and each tab is timed in headless Chromium, click to its first number shown
(the page's cache cold on the first visit).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from dashboard import history, live, performance, runs, scalps, strikes
from dashboard.db import open_journal
from journal.models import HeartbeatRecord, LiveOrderRecord, OptionsScalpRecord, RunRecord
from journal.writer import open_engine
from options_scalper.calendar import ET, sessions_between
from options_scalper.model import Direction, ExitReason
from strategies import registry

TARGET_S = 2.0
BIG_RUN = "20250101T000000Z-bench100"
PAPER_RUN = "20250102T000000Z-benchlive"
REPEATS = 3


def scalp_rows(n: int, run_id: str, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    days = sessions_between(date(2023, 1, 3), date(2024, 12, 31))
    reasons = [r.value for r in ExitReason]
    out = []
    for i in range(n):
        day = days[i * len(days) // n]
        minute = rng.randrange(5, 380)
        entry = datetime(day.year, day.month, day.day, 9, 30, tzinfo=ET) + timedelta(minutes=minute)
        exit_ = entry + timedelta(minutes=rng.randrange(1, 30))
        ticker = "SPY" if rng.random() < 0.6 else "TSLA"
        dte = rng.choice((0, 1))
        premium = round(rng.uniform(0.3, 4.0), 2)
        move = rng.gauss(0.02, 0.25)
        exit_premium = max(round(premium * (1 + move), 2), 0.01)
        contracts = rng.randrange(1, 40)
        commission = 1.3 * contracts
        pnl = (exit_premium - premium) * 100 * contracts - commission
        right = rng.choice(("call", "put"))
        out.append(
            {
                "run_id": run_id,
                "signal_id": f"b-{i}",
                "ticker": ticker,
                "option_symbol": f"{ticker}{day:%y%m%d}{right[0].upper()}00{rng.randrange(100, 700):03d}000",
                "option_type": right,
                "strike": float(rng.randrange(100, 700)),
                "expiry": day + timedelta(days=dte),
                "dte": dte,
                "direction": f"long_{right}",
                "contracts": contracts,
                "entry_premium": premium,
                "exit_premium": exit_premium,
                "entry_delta": rng.uniform(0.3, 0.5) * (1 if right == "call" else -1),
                "entry_theta": -rng.uniform(0.05, 0.6),
                "entry_iv": rng.uniform(0.1, 0.6),
                "status": "closed",
                "exit_reason": rng.choice(reasons),
                "pnl": pnl,
                "pnl_pct": pnl / (premium * 100 * contracts),
                "broker": "backtest",
                "entry_time": entry.astimezone(UTC).replace(tzinfo=None),
                "exit_time": exit_.astimezone(UTC).replace(tzinfo=None),
                "metadata_json": json.dumps(
                    {
                        "commission": commission,
                        "conviction": rng.randrange(40, 100),
                        "decision_ask": premium - 0.01,
                        "depth_limited": rng.random() < 0.1,
                    },
                    sort_keys=True,
                ),
            }
        )
    return out


def build_journal(path: Path, n: int) -> str:
    url = f"sqlite:///{path}"
    engine = open_engine(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    params = json.dumps({"take_profit_pct": 0.3, "stop_loss_pct": 0.1}, sort_keys=True)
    run_rows = [
        {
            "run_id": BIG_RUN,
            "strategy": "momentum_burst",
            "params_json": params,
            "symbols": "SPY,TSLA",
            "start_date": date(2023, 1, 3),
            "end_date": date(2024, 12, 31),
            "started_at": now - timedelta(hours=3),
            "finished_at": now - timedelta(hours=2),
            "status": "finished",
            "scalps": n,
            "mode": "backtest",
        },
        {
            "run_id": "20250101T000001Z-small1",
            "strategy": "ema_cloud",
            "params_json": "{}",
            "symbols": "SPY",
            "started_at": now - timedelta(hours=4),
            "status": "finished",
            "scalps": 500,
            "mode": "backtest",
        },
        {
            "run_id": "20250101T000002Z-small2",
            "strategy": "ema_cloud",
            "params_json": "{}",
            "symbols": "SPY",
            "started_at": now - timedelta(hours=5),
            "status": "finished",
            "scalps": 500,
            "mode": "backtest",
        },
        {
            "run_id": PAPER_RUN,
            "strategy": "ema_cloud",
            "params_json": "{}",
            "symbols": "SPY",
            "started_at": now - timedelta(hours=1),
            "status": "running",
            "mode": "paper",
            "broker": "alpaca",
        },
    ]
    with engine.begin() as conn:
        for run in run_rows:  # rows with different keys: one statement each
            conn.execute(insert(RunRecord).values(**run))
        rows = scalp_rows(n, BIG_RUN)
        for k in range(0, len(rows), 20_000):
            conn.execute(insert(OptionsScalpRecord), rows[k : k + 20_000])
        for i, rid in enumerate(("20250101T000001Z-small1", "20250101T000002Z-small2")):
            conn.execute(insert(OptionsScalpRecord), scalp_rows(500, rid, seed=i))
        beats = [
            {
                "run_id": PAPER_RUN,
                "ts": now - timedelta(minutes=m),
                "state": "ACTIVE",
                "data_state": "LIVE",
                "underlying": "SPY",
                "underlying_price": 580.0,
                "day_pnl": 10.0 * m,
                "open_scalps": 1,
                "open_scalps_json": json.dumps(
                    [
                        {
                            "ticker": "SPY",
                            "option_symbol": "SPY250102C00580000",
                            "expiry": "2025-01-02",
                            "pnl": 12.0,
                            "cutoff": None,
                        }
                    ]
                ),
            }
            for m in range(390 * 20)
        ]
        conn.execute(insert(HeartbeatRecord), beats)
        orders = [
            {
                "run_id": PAPER_RUN,
                "ts": now - timedelta(seconds=s),
                "broker": "alpaca",
                "client_order_id": f"c{s}",
                "option_symbol": "SPY250102C00580000",
                "side": "buy",
                "qty": 1,
                "event": "submitted",
            }
            for s in range(5000)
        ]
        conn.execute(insert(LiveOrderRecord), orders)
    engine.dispose()
    return url


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU seconds of ``fn()`` (CPU: this process only; on a busy machine wall > CPU)."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def floor_s(path: Path) -> float:
    """CPU seconds of the plainest read of the big run (best of ``REPEATS``)."""

    def read() -> int:
        conn = sqlite3.connect(path)
        try:
            return len(conn.execute("select * from options_scalps where run_id = ?", (BIG_RUN,)).fetchall())
        finally:
            conn.close()

    return min(timed_cpu(read)[1] for _ in range(REPEATS))


def tabs(url: str, catalog_root: Path | None) -> dict[str, Callable[[], Any]]:
    f = runs.Filters(run_ids=(BIG_RUN,))

    def picker() -> Any:
        j = open_journal(url)
        return runs.list_runs(j), runs.filter_choices(j, (BIG_RUN,))

    def scalp_history() -> Any:
        j = open_journal(url)
        return (
            history.summary(j, f),
            history.exit_breakdown(j, f),
            history.trade_log(j, f, "pnl", True, 0),
            history.rejections(history.reports_by_run(url), [BIG_RUN]),
        )

    def csv() -> Any:
        return history.trades_csv(scalps.load_scalps(open_journal(url), f))

    def performance_tab(frame: Any) -> Any:  # what the tab computes (dashboard/ui/performance_tab.py)
        curves = performance.equity_curves(frame, 100_000.0)
        drawn = performance.plot_points(curves)
        groups = [performance.group_figures(frame, by) for by in performance.GROUPS]
        return curves, drawn, performance.max_drawdown(curves), groups, performance.best_worst(frame)

    def analyzers(frame: Any) -> Any:  # the tab's criteria and execution cost (cached per frame by the page)
        criteria = performance.criteria_table(frame, 100_000.0)
        cost = performance.execution_section(
            frame, registry.load_config_class("momentum_burst"), {"take_profit_pct": 0.3}
        )
        return criteria, performance.execution_table(cost)

    def perf_cold() -> Any:  # the first visit: the journal read and everything computed on it
        frame = scalps.load_scalps(open_journal(url), f, performance.FRAME_COLUMNS)
        return performance_tab(frame), analyzers(frame)

    warm_frame = scalps.load_scalps(open_journal(url), f, performance.FRAME_COLUMNS)

    def live_tab() -> Any:
        j = open_journal(url)
        now = datetime.now(UTC)
        status = live.live_status(j, now)
        return status, live.open_scalps_frame(status.heartbeat, now), live.recent_orders(j, PAPER_RUN)

    out: dict[str, Callable[[], Any]] = {
        "run picker + filters": picker,
        "Live Scalps": live_tab,
        "Scalp History": scalp_history,
        "Scalp History CSV (on click)": csv,
        "Performance (cold: read, curves, groups, criteria, exec cost)": perf_cold,
        "  of which criteria + exec cost (frame cached)": lambda: analyzers(warm_frame),
        "Performance rerun (frame, criteria, exec cost cached)": lambda: performance_tab(warm_frame),
    }
    if catalog_root is not None:
        from feeds.catalog import Catalog

        cfg, _ = strikes.strategy_config("momentum_burst", {})
        day = Catalog(catalog_root).days("SPY")[2]

        def strike_picker() -> Any:
            cat = Catalog(catalog_root)  # a new catalog: the chain's day is read again
            return strikes.chain_view(cat, "SPY", strikes.utc_minute(day, "10:30"), Direction.BULLISH, cfg)

        out["Strike Picker (SPY minute, day read)"] = strike_picker
    return out


def sample_catalog(tmp: Path) -> Path | None:
    from feeds.catalog import Catalog
    from feeds.synthetic import sample

    src = sample.ensure_sample(progress=False)
    root = tmp / "catalog"
    Catalog(root).ingest(src, symbols=["SPY"], progress=False)
    return root


def render_times(url: str, catalog: Path | None) -> dict[str, float]:
    """Seconds from a tab click to its first number, in headless Chromium (first visit: cold cache)."""
    import socket
    import subprocess
    import urllib.request

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        return {}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "dashboard", "--journal", url, "--port", str(port)]
    if catalog is not None:
        cmd += ["--catalog", str(catalog)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    out: dict[str, float] = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        from playwright.sync_api import sync_playwright

        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=flags, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            t = time.perf_counter()
            page.goto(base, wait_until="domcontentloaded")
            status = page.locator('[data-testid="stStatusWidget"]')
            page.get_by_role("tab", name="Performance").wait_for()
            page.wait_for_timeout(200)
            status.wait_for(state="hidden")
            out["first page load (sidebar + Live Scalps, cold)"] = time.perf_counter() - t
            probes = {
                "Live Scalps": "State",
                "Strike Picker": "Kept by the selector",
                "Scalp History": "Trades",
                "Performance": "Net P&L",
            }
            for name, label in probes.items():
                t = time.perf_counter()
                page.get_by_role("tab", name=name).click()
                panel = page.locator('[role="tabpanel"]:visible')
                panel.locator('[data-testid="stMetric"]').filter(has_text=label).first.wait_for()
                out[f"{name} tab shown"] = time.perf_counter() - t
            t = time.perf_counter()
            page.get_by_role("tab", name="Scalp History").click()
            box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Ticker")
            box.locator("input").click()
            page.keyboard.type("SPY")
            page.keyboard.press("Enter")
            page.wait_for_timeout(200)
            status.wait_for(state="hidden")
            out["ticker filter -> rerun done (cold cache)"] = time.perf_counter() - t
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scalps", type=int, default=100_000)
    ap.add_argument("--no-render", action="store_true", help="skip the headless-Chromium timing")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        path = Path(tmp) / "journal.sqlite"
        t, url = timed(lambda: build_journal(path, args.scalps))
        print(
            f"journal: {args.scalps:,} scalps (+1,000 in two small runs, 7,800 heartbeats) built in {t:.1f} s"
        )
        catalog = sample_catalog(Path(tmp))
        floor = floor_s(path)
        print(f"floor: plain sqlite3 read of the run's {args.scalps:,} rows: {floor * 1000:.0f} ms CPU\n")
        head = f"tab data functions (cold, median of {REPEATS})"
        print(f"{head:<60} {'wall s':>8} {'cpu s':>8} {'x floor':>8}  target (cpu)")
        for name, fn in tabs(url, catalog).items():
            samples = [timed_cpu(fn) for _ in range(REPEATS)]
            secs = statistics.median(w for w, _ in samples)
            cpu = statistics.median(c for _, c in samples)
            verdict = "ok" if cpu < TARGET_S else "OVER"
            print(f"{name:<60} {secs:>8.3f} {cpu:>8.3f} {cpu / floor:>8.1f}  < {TARGET_S:.0f} s {verdict}")
        if not args.no_render:
            found = render_times(url, catalog)
            if not found:
                print("\n(no /usr/bin/chromium: page render not timed; `make chromium` installs it)")
            else:
                print(f"\n{'page in headless Chromium (wall)':<60} {'seconds':>8}")
                for name, secs in found.items():
                    print(f"{name:<60} {secs:>8.3f}")


if __name__ == "__main__":
    main()
