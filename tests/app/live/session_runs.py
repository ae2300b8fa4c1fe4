"""Whole ``run_live.py`` sessions over the in-process replay venue, in lockstep with its market."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import backtrader as bt

from app.live.limits import LiveLimits
from app.live.request import LiveRequest
from app.live.session import Harness, run
from tests.support.fake_keys import fake_keys
from tests.support.replay_market import ReplayMarket
from tests.support.replay_venue import Lockstep, ReplayVenue

REPLAY_KEY, REPLAY_SECRET = fake_keys("replay")

FAST_CLOCK = dict(gap_grace_seconds=0.0, clock_poll_seconds=0.0, qcheck=0.2)
ANY_BID = dict(exit_slippage_pct=1.0, exit_slippage_max=1e9)  # a Market exit fills at the next bid


def market(catalog: Path, day: Any, start_et: str, end_et: str, **kw: Any) -> ReplayMarket:
    return ReplayMarket(catalog, ["SPY"], day, warmup_days=1, start_et=start_et, end_et=end_et, **kw)


class _Stopped(Exception):
    pass


class StoppableLockstep(Lockstep):
    """``Lockstep`` that lets the runtime stop the run early (Ctrl-C, end of session) without a timeout."""

    def _caught_up(self, target: Any) -> bool:
        if getattr(self.cerebro, "_event_stop", False):
            raise _Stopped
        return super()._caught_up(target)

    def run(self) -> list[Any]:
        thread = threading.Thread(target=self._drive, name="lockstep", daemon=True)
        thread.start()
        try:
            result: list[Any] = self.cerebro.run()
        finally:
            self.cerebro._event_stop = True
            with self._cond:
                self._cond.notify_all()
            thread.join(timeout=self.timeout)
        if self.error is not None and not isinstance(self.error, _Stopped):
            raise self.error
        return result


class _When(bt.Analyzer):
    """Calls ``action(strategy, runtime)`` on every bar (tests: Ctrl-C when a scalp is open...)."""

    params: Any = (("action", None),)

    def next(self) -> None:
        self.p.action(self.strategy, self.strategy.analyzers.live_guard.rt)


def session(
    tmp: Path,
    mkt: ReplayMarket,
    *,
    on_bar: Callable[[Any, Any], None] | None = None,
    ask: Callable[[str], str] | None = None,
    **req: Any,
) -> tuple[int, str]:
    """Run one session of ema_cloud on SPY over ``mkt``; return (exit code, console text)."""
    venue = ReplayVenue(mkt)

    def runner(v: Any, cerebro: bt.Cerebro) -> Any:
        if on_bar is not None:
            cerebro.addanalyzer(_When, action=on_bar)
        return StoppableLockstep(venue, cerebro).run()

    fields: dict[str, Any] = {"broker": "alpaca", "strategy": "ema_cloud", "symbols": ("SPY",), "out_dir": tmp,
                              "warmup_days": 1, "limits": LiveLimits()}  # fmt: skip
    fields.update(req)
    console = io.StringIO()
    code = run(
        LiveRequest(**fields),
        env={"APCA_API_KEY_ID": REPLAY_KEY, "APCA_API_SECRET_KEY": REPLAY_SECRET},
        ask=ask,
        console=console,
        harness=Harness(venue=venue, runner=runner, store_options={"clock_params": FAST_CLOCK, **ANY_BID}),
    )
    return code, console.getvalue()


def interrupt_when_open(strategy: Any, rt: Any) -> None:
    if any(s.open_qty > 0 for s in strategy.scalps.values()):
        rt.interrupt.set()
