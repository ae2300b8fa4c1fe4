"""The same venue tests a second time on the archived ib_insync (the shim's fallback), in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.brokers.ibkr.conftest import SPX_ENV, SPY_ENV

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent


def _pass_on_ib_insync(files: list[str], **catalogs: str) -> None:
    if os.environ.get("OPTIONS_SCALPER_IB_LIB") == "ib_insync":
        pytest.skip("this run is the ib_insync pass already")
    pytest.importorskip("ib_insync")
    env = {**os.environ, "OPTIONS_SCALPER_IB_LIB": "ib_insync", **catalogs}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *(str(HERE / f) for f in files)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "[100%]" in proc.stdout and "F" not in proc.stdout.split("[100%]")[0]


def test_the_venue_suite_passes_on_ib_insync(spy_catalog: Path, spx_root: Path) -> None:
    catalogs = {SPY_ENV: str(spy_catalog), SPX_ENV: str(spx_root)}
    _pass_on_ib_insync(["test_venue.py", "test_spx.py"], **catalogs)  # the hostile cases: ib_async only


def test_run_live_restart_daily_loss_and_gateway_restart_pass_on_ib_insync() -> None:
    """``run_live.py`` processes inherit the switch: each test checks the library its sessions used."""
    _pass_on_ib_insync(
        ["test_run_live_restart.py", "test_run_live_limits.py", "test_run_live_gateway_restart.py"]
    )
