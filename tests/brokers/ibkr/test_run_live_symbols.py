"""``run_live.py --broker ibkr --symbols`` with an underlying that lists no options: refused at start.

The real command in its own process (the real ib client) against the fake TWS, which knows
the stock XYZ but answers its ``reqSecDefOptParams`` with the end message only, as TWS does
for an underlying without options. One line, exit code 2, before any order, nothing written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app import cli
from tests.brokers.ibkr.conftest import DAY
from tests.support.fake_tws import FakeTWS
from tests.support.replay_market import ReplayMarket

ROOT = Path(__file__).resolve().parents[3]
SEC_DEF_OPT_PARAMS, PLACE_ORDER, MKT_DATA = 78, 3, 1


def test_a_symbol_without_listed_options_is_refused_before_any_order(
    spy_catalog: Path, tmp_path: Path
) -> None:
    market = ReplayMarket(spy_catalog, ["SPY"], DAY, start_et="10:00")
    fake = FakeTWS(market, bare_underlyings=["XYZ"]).start()
    out = tmp_path / "out"
    cmd = [sys.executable, "run_live.py", "--broker", "ibkr", "--port", str(fake.port), "--client-id", "31",
           "--strategy", "momentum_burst", "--symbols", "SPY,XYZ", "--out", str(out)]  # fmt: skip
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        asked = [f[2] for f in fake.requests(SEC_DEF_OPT_PARAMS)]
        orders, lines_opened = fake.requests(PLACE_ORDER), fake.requests(MKT_DATA)
    finally:
        fake.stop()
    assert proc.returncode == cli.EXIT_BAD_INPUT, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0] == (
        f"error: --symbols XYZ: ibkr lists no options on XYZ expiring {DAY} to 2024-01-05 (the strategy's "
        "0-1 DTE window); drop it from --symbols or pick an underlying with listed options"
    )
    assert asked == ["SPY", "XYZ"]  # SPY lists options (its day's expiries), XYZ none
    assert orders == [] and lines_opened == []
    assert not out.exists()
