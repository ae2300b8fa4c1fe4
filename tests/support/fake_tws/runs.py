"""``run_live.py --broker ibkr`` in its own process against a ``FakeTWS``, the replay stepped in lockstep.

``LiveProcess`` starts the real command (the real ib client, a real socket), steps the fake's
replay by hand until the runtime prints its first status line (warm-up done, data LIVE), then
one minute as soon as the runtime has shown the previous one in its live.log (or after
``patience`` seconds: a minute it never shows, e.g. one backfilled after a reconnect), until a
condition holds. The patience is generous: a minute stepped before the runtime is done with
the last one changes what it sees (its chain snapshot, its fills), and a loaded machine can
take seconds over the signal minute's chain. It stops the process with a
real SIGINT (Ctrl-C) or SIGKILL (a crash: nothing winds down).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journal.models import LiveOrderRecord
from tests.support.fake_tws.server import FakeTWS
from tests.support.live_runs import journal_rows

ROOT = Path(__file__).resolve().parents[3]
# the backtest knows no runtime limits: none may bind unless a test sets it
NO_LIMITS = ("--max-premium-per-order", "1000000", "--max-daily-loss", "1000000",
             "--max-orders-per-minute", "1000", "--max-open-scalps", "100")  # fmt: skip


class LiveProcess:
    """One ``run_live.py --broker ibkr --strategy ema_cloud --symbols SPY`` session on ``fake``."""

    def __init__(
        self,
        fake: FakeTWS,
        out: Path,
        catalog: Path,
        client_id: int = 21,
        extra: Sequence[str] = NO_LIMITS,
        env: dict[str, str] | None = None,
    ) -> None:
        self.fake, self.out = fake, out
        cmd = [sys.executable, "run_live.py", "--broker", "ibkr", "--port", str(fake.port),
               "--client-id", str(client_id), "--strategy", "ema_cloud", "--symbols", "SPY", "--out", str(out),
               "--warmup-days", "1", "--catalog", str(catalog), *extra]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.stdout = self.stderr = ""

    # ------------------------------------------------------------------ what it wrote
    def log_lines(self) -> list[dict[str, Any]]:
        log = self.out / "live.log"
        if not log.exists():
            return []
        out = []
        for line in log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line being written
        return out

    def shown(self) -> datetime:
        """The last minute the runtime printed a status line for."""
        stamps = [
            datetime.fromisoformat(x["bar_time"]) for x in self.log_lines() if x.get("event") == "status"
        ]
        return max(stamps).astimezone(UTC) if stamps else datetime.min.replace(tzinfo=UTC)

    def libraries(self) -> set[str]:
        """The IB client libraries this ``--out``'s sessions used (the loggers of the library lines in live.log)."""
        loggers = {
            str(x.get("logger", "")).split(".")[0] for x in self.log_lines() if x.get("event") == "library"
        }
        return loggers & {"ib_async", "ib_insync"}

    def said(self, needle: str) -> bool:
        """A live.log line (this run's or an earlier one's in the same --out) holds ``needle``."""
        log = self.out / "live.log"
        return log.exists() and needle in log.read_text()

    def where(self) -> str:
        """What the fake and the runtime were at (for a failure message)."""
        orders = [(o.order_ref, o.action, o.status) for o in self.fake.placed()]
        lines = self.log_lines()
        shown = [f"{x['ts'][11:23]} {x['message']}" for x in lines if x.get("event") == "status"]
        said = [f"{x['ts'][11:23]} {x['event']}: {x.get('message', '')}"[:300] for x in lines
                if x.get("event") not in ("status", "library")]  # fmt: skip
        return "\n".join(
            [f"replay at {self.fake.market.now()}, orders {orders}", *said, *shown[:3], *shown[-3:]]
        )

    def _alive(self) -> None:
        if self.proc.poll() is not None:
            self.stdout, self.stderr = self.proc.communicate()
            raise AssertionError(f"run_live.py exited {self.proc.returncode}: {self.stderr[-3000:]}")

    # ------------------------------------------------------------------ driving
    def wait_live(self, timeout: float = 90.0) -> None:
        """Step the replay by hand until this run prints its first status line."""
        start = len([x for x in self.log_lines() if x.get("event") == "status"])
        deadline = time.monotonic() + timeout
        last_step = time.monotonic()
        while len([x for x in self.log_lines() if x.get("event") == "status"]) <= start:
            self._alive()
            assert time.monotonic() < deadline, "the runtime never went live"
            if self.fake.bar_subscribers() and time.monotonic() - last_step > 1.0:
                self.fake.market.step()
                last_step = time.monotonic()
            time.sleep(0.05)

    def step_until(
        self,
        done: Callable[[], Any],
        timeout: float = 120.0,
        what: str = "the condition",
        patience: float = 10.0,
        hold: Callable[[], bool] | None = None,
    ) -> Any:
        """Step the replay in lockstep with the runtime until ``done()`` is truthy (checked before each step).

        ``hold()`` True: do not step now (e.g. an order the test wants to catch working).
        """
        market = self.fake.market
        deadline = time.monotonic() + timeout
        stepped = time.monotonic()
        while True:
            value = done()
            if value:
                return value
            self._alive()
            assert time.monotonic() < deadline, f"{what} did not happen in time\n{self.where()}"
            caught_up = self.shown() >= market.now() or time.monotonic() - stepped > patience
            if market.now() < market.end_utc and caught_up and not (hold is not None and hold()):
                market.step()
                stepped = time.monotonic()
            time.sleep(0.02)

    def step_until_an_exit_works(self, timeout: float = 120.0) -> Any:
        """Step until a SELL works at the fake and the journal has its ``submitted`` row; that order.

        The replay is not stepped while a SELL works (an order never fills in the minute it
        arrived), so the caller always finds it working.
        """

        def working() -> Any:
            return next((o for o in self.fake.working() if o.action == "SELL"), None)

        def journaled() -> Any:
            order = working()
            if order is None:
                return None
            try:
                rows = journal_rows(self.out, LiveOrderRecord)
            except Exception:  # the journal is being written
                return None
            return (
                order
                if any(r.client_order_id == order.order_ref and r.event == "submitted" for r in rows)
                else None
            )

        return self.step_until(
            journaled, timeout, "an exit order working", hold=lambda: working() is not None
        )

    def interrupt(self, timeout: float = 60.0, *, stepping: bool = False) -> int:
        """Ctrl-C (a real SIGINT); the exit code once the run has wound down (``stepping``: bars keep coming)."""
        self.proc.send_signal(signal.SIGINT)
        if stepping:
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                if self.fake.market.now() < self.fake.market.end_utc:
                    self.fake.market.step()
                time.sleep(1.0)
        return self.wait(timeout)

    def kill(self) -> None:
        """SIGKILL: the process dies at once (no wind-down, no journal finish, the socket cut by the kernel)."""
        self.proc.kill()
        self.wait(30)

    def wait(self, timeout: float = 60.0) -> int:
        self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=30)


__all__ = ["NO_LIMITS", "ROOT", "LiveProcess"]
