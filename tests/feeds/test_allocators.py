"""The backtest's allocators: Arrow on malloc once ``feeds`` (or ``app``) is imported, unless the user chose a pool."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = "import feeds, pyarrow as pa; print(pa.default_memory_pool().backend_name)"


def _pool(env_pool: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if env_pool is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = env_pool
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_feeds_puts_arrow_on_the_system_allocator() -> None:
    assert _pool(None) == "system"


def test_a_pool_the_user_chose_is_kept() -> None:
    assert _pool("jemalloc") == "jemalloc"


def test_without_app_arrow_keeps_its_own_default() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    probe = "import pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() != "system"  # what the test above changes is not the default


def test_the_backtest_command_runs_on_it() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    probe = "import run_backtest, pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "system"
