"""``run_live.py --broker alpaca --symbols`` with an underlying that lists no options: refused at start.

The real command in its own process (alpaca-py's clients) against the fake Alpaca, whose
``GET /v2/options/contracts`` lists the replayed day's contracts and nothing for any other
underlying, as Alpaca answers an underlying without options. The refusal is one line and
exit code 2, before any order, and nothing is written (no journal, no lock, no log).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import cli
from tests.support.fake_alpaca import FakeAlpaca
from tests.support.live_runs import SPY_DAY
from tests.support.replay_market import ReplayMarket

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_symbol_without_listed_options_is_refused_before_any_order(
    spy_sample: Path, tmp_path: Path, dry_run: bool
) -> None:
    market = ReplayMarket(spy_sample, ["SPY"], SPY_DAY, warmup_days=1, start_et="11:30")
    out = tmp_path / "out"
    cmd = [sys.executable, "run_live.py", "--broker", "alpaca", "--strategy", "ema_cloud", "--symbols", "SPY,XYZ",
           "--out", str(out), "--warmup-days", "1", *(["--dry-run"] if dry_run else [])]  # fmt: skip
    with FakeAlpaca(market) as fake:
        proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **fake.env()}, capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        requests = list(fake.requests)
    assert proc.returncode == cli.EXIT_BAD_INPUT, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0] == (
        f"error: --symbols XYZ: alpaca lists no options on XYZ expiring {SPY_DAY} to 2024-10-30 (the strategy's "
        "0-1 DTE window); drop it from --symbols or pick an underlying with listed options"
    )
    # SPY was listed first (it has options), then XYZ; no order, no chain, nothing written
    assert requests.count(("GET", "/v2/options/contracts")) == 2
    assert not any(path == "/v2/orders" or path.startswith("/v1beta1/") for _, path in requests)
    assert not out.exists()
    assert fake.market.open_orders() == [] and fake.market.positions() == []
