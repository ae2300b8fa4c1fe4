"""One ``run_live.py`` session: checks -> venue -> account -> lock -> journal -> reconciliation -> Cerebro.

``run(request)`` returns the exit code; every refusal before trading is a
``LiveStop`` (one line, its code) or a ``BadInput``. Signals: Ctrl-C (and SIGTERM)
asks the guard to wind down (``--exits-on-interrupt``), a second Ctrl-C stops at
once; SIGUSR1 is the kill switch. Whatever happens, the venue is closed, the
account lock released and the run's ``runs`` row finished (``finished`` or
``interrupted``, ``failed`` on an error).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

from app import cli
from app.live import wiring
from app.live.compare import CompareError, Trade, compare, load_backtest_trades, render, write
from app.live.limits import OrderGate
from app.live.lock import AccountLock, AccountLocked, lock_path
from app.live.logs import LOG_FILENAME, LiveLog, secrets_of
from app.live.request import LiveRequest, check_live_request, default_live_out
from app.live.runtime import LiveRuntime, RunSettings
from app.live.startup import (
    LiveStop,
    check_account,
    check_symbols,
    connect,
    load_venue,
    skew_warning,
    stop_for,
    trading_day,
    wait_for_open,
)
from app.live.startup_reconcile import reconcile_at_start
from app.live.states import Cause, TradingStates
from app.live.watchdog import Watchdog
from app.request import BadInput, RunFailed, RunRequest, ensure_writable_dir, resolve_strategy
from brokers.live.venue import VenueError
from options_scalper.calendar import ET, session_date


def _ask_tty() -> Callable[[str], str] | None:
    return input if sys.stdin is not None and sys.stdin.isatty() else None


@dataclass(frozen=True)
class Harness:
    """What a test (or an embedding program) hands the session instead of the defaults.

    ``venue``: an already-built ``LiveVenue`` (default: the broker adapter from the
    environment); ``runner``: runs the Cerebro (default ``cerebro.run()``);
    ``store_options``: extra ``LiveStore`` settings (clock polling, exit slippage).
    """

    venue: Any = None
    runner: Callable[[Any, Any], Any] | None = None
    store_options: dict[str, Any] = field(default_factory=dict)


def run(
    req: LiveRequest,
    env: Mapping[str, str] | None = None,
    ask: Callable[[str], str] | None = None,
    console: IO[str] | None = None,
    harness: Harness | None = None,
) -> int:
    """Run ``req``; return the exit code. ``ask`` reads the typed account number (default: the tty)."""
    env = os.environ if env is None else env
    cls, params = resolve_strategy(RunRequest(strategy=req.strategy, params=req.params, profile=req.profile))
    check_live_request(req, params)
    out = (req.out_dir or default_live_out(req.broker, req.strategy)).expanduser()
    from journal.writer import default_url

    url = req.journal_url or default_url(out)
    _check_dialect(url)
    say = (lambda line: print(line, file=console)) if console is not None else print
    if req.compare_with is not None and req.run_id is not None:
        prepare_outputs(out, url)
        return compare_run(url, req.run_id, req.compare_with, out, say)
    session = Session(
        req, cls, params, out, url, env, ask if ask is not None else _ask_tty(), console, harness
    )
    code = session.run()
    if req.compare_with is not None and session.run_id is not None and code in (0, cli.EXIT_INTERRUPTED):
        compare_run(url, session.run_id, req.compare_with, out, say)
    return code


def _check_dialect(url: str) -> None:
    """A journal URL whose database driver is missing fails before anything connects."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from journal.errors import mask_url

    try:
        make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        raise BadInput(
            f"--journal {mask_url(url)!r}: {cli.one_line(exc)}; use e.g. sqlite:///out/journal.sqlite or "
            "postgresql+psycopg://user:pw@host/db"
        ) from None


def prepare_outputs(out: Path, url: str) -> None:
    """Create ``--out`` and bring the journal's schema up to date (``BadInput`` naming what failed)."""
    from journal.errors import JournalError
    from journal.writer import open_engine

    ensure_writable_dir(out, "--out")
    try:
        open_engine(url).dispose()
    except JournalError as exc:
        raise BadInput(f"--journal: {cli.one_line(exc)}") from exc


def compare_run(url: str, run_id: str, backtest_out: Path, out: Path, say: Callable[[str], None]) -> int:
    """Compare journaled run ``run_id`` with a backtest's trades.csv; print and write the report."""
    from journal.live_read import run_closed_scalps
    from journal.writer import open_engine

    try:
        backtest = load_backtest_trades(backtest_out.expanduser())
    except CompareError as exc:
        raise BadInput(str(exc)) from None
    from sqlalchemy import select

    from journal.models import RunRecord

    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            run_row = conn.execute(select(RunRecord).where(RunRecord.run_id == run_id)).first()
        if run_row is None:
            raise BadInput(
                f"--run-id {run_id}: no such run in the journal {url}; live.log names each run's id"
            )
        live = [Trade.of(s) for s in run_closed_scalps(engine, run_id)]
    finally:
        engine.dispose()
    days = [run_row.start_date] if run_row.start_date else None
    report = compare(live, backtest, days=days)
    report["summary"]["live_run_id"] = run_id
    report["summary"]["backtest"] = str(backtest_out)
    say(render(report))
    paths = write(report, out)
    say(f"comparison in {out}{os.sep}: {', '.join(p.name for p in paths)}")
    return 0


class Session:
    def __init__(
        self,
        req: LiveRequest,
        cls: type,
        params: dict[str, Any],
        out: Path,
        url: str,
        env: Mapping[str, str],
        ask: Callable[[str], str] | None,
        console: IO[str] | None,
        harness: Harness | None = None,
    ) -> None:
        self.harness = harness or Harness()
        self.req, self.cls, self.params, self.out, self.url = req, cls, params, out, url
        self.env, self.ask = env, ask
        self.log = LiveLog(None, secrets_of(env), console=console)  # the file once the venue said yes
        self.run_id: str | None = None
        self.runtime: LiveRuntime | None = None

    def run(self) -> int:
        req, log = self.req, self.log
        venue = None
        lock: AccountLock | None = None
        journal = None
        status = "failed"
        try:
            venue = self.harness.venue or load_venue(req.broker, req.venue_options(), self.env)
            connect(venue)
            try:
                account = venue.account()
                clock = venue.clock()
            except VenueError as exc:
                raise stop_for(exc) from None
            mode = "dry_run" if req.dry_run else check_account(account, req.live, self.ask)
            if req.dry_run and not account.paper:
                log.say(f"dry run on REAL-MONEY account {account.account_number}: no order is sent")
            warning = skew_warning(clock)
            if warning:
                log.warn(warning)
            check_symbols(
                venue, req.broker, req.symbols, trading_day(clock), wiring.max_dte(self.cls, self.params)
            )
            clock = wait_for_open(venue, clock, log.say, exit_if_closed=not req.wait_for_open)
            prepare_outputs(self.out, self.url)  # nothing is written before the venue said yes
            log.open_file(self.out / LOG_FILENAME)
            log.capture_library_logs()
            log.event("start", broker=req.broker, strategy=req.strategy, params=self.params, symbols=req.symbols,
                      dry_run=req.dry_run, limits=req.limits.__dict__, out=str(self.out), skew_warning=warning)  # fmt: skip
            from journal.live import LiveJournal
            from journal.live_read import realized_today
            from journal.writer import RunEntry, new_run_id

            self.run_id = run_id = new_run_id()
            try:
                lock = AccountLock(
                    lock_path(self.url, self.out, req.broker, account.account_number), run_id
                ).acquire()
            except AccountLocked as exc:
                raise LiveStop(str(exc), cli.EXIT_ACCOUNT_LOCKED) from None
            today = session_date(clock.now)
            journal = LiveJournal(self.url, run_id, req.broker)
            entry = RunEntry(run_id=run_id, strategy=req.strategy, params=self.params, symbols=req.symbols,
                             start=today, end=today, catalog_path=str(req.catalog_dir) if req.catalog_dir else None)  # fmt: skip
            journal.start_run(entry, mode, account.account_number)
            log.say(f"run {run_id}: {req.strategy} on {', '.join(req.symbols)} via {req.broker} "
                    f"({mode}, account {account.account_number}); kill switch: touch {self.out / 'KILL'} "
                    f"or kill -USR1 {os.getpid()}", event="run", run_id=run_id, mode=mode)  # fmt: skip
            states = TradingStates(
                listener=lambda old, new, line: log.say(line, event="state", old=old, new=new)
            )
            gate = OrderGate(
                req.limits, states, say=lambda key, line: log.say(line, event="limit", limit=key)
            )
            settings = RunSettings(
                broker=req.broker, account=account.account_number, mode=mode, run_id=run_id, out_dir=self.out,
                symbols=req.symbols, exits_on_interrupt=req.exits_on_interrupt,
                strategy_config=wiring.strategy_config(self.cls, self.params),
            )  # fmt: skip
            dry = mode == "dry_run"
            before = realized_today(
                journal.engine, req.broker, account.account_number, today, ET, dry_run=dry
            )
            rt = self.runtime = LiveRuntime(settings, states, gate, log, journal, before, today)
            venue.on_status(rt.on_status)
            rec = reconcile_at_start(venue, journal, account.account_number, today, clock.now, dry_run=dry)
            for line in rec.lines():
                log.say(line, event="reconcile")
            gate.blocked.update(rec.blocked)
            rt.pending_adoption.update({a.scalp.option_symbol: (a.scalp, a.position) for a in rec.adopt})
            if not rec.ok:
                states.enter(
                    Cause.RECONCILIATION, "start-up reconciliation mismatch: no new entries this run"
                )
            cerebro, store = wiring.build(
                venue, req, self.cls, self.params, rt, today, self.harness.store_options
            )
            rt.venue = store.venue
            runner = self.harness.runner or (lambda _venue, c: c.run())
            with self._signals(rt), Watchdog(rt, req.data_timeout, cerebro):
                runner(venue, cerebro)
            status = "interrupted" if rt.interrupt.is_set() else "finished"
            log.say(f"run {run_id} {status}: {rt.closed_count} scalps closed; state {states.state}",
                    event="end", status=status)  # fmt: skip
            return cli.EXIT_INTERRUPTED if status == "interrupted" else 0
        except KeyboardInterrupt:
            status = "interrupted"
            log.say("interrupted again: stopped at once; the journal holds every event so far", event="end")
            return cli.EXIT_INTERRUPTED
        except LiveStop as exc:
            log.event("refused", level="error", message=str(exc), code=exc.code)
            raise
        finally:
            if journal is not None:
                with contextlib.suppress(Exception):
                    journal.finish_run(status)
                journal.close()
            if venue is not None:
                with contextlib.suppress(Exception):
                    venue.close()
            if lock is not None:
                lock.release()
            log.close()

    @contextlib.contextmanager
    def _signals(self, rt: LiveRuntime) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def on_interrupt(signum: int, frame: FrameType | None) -> None:
            if rt.interrupt.is_set():
                raise KeyboardInterrupt
            rt.interrupt.set()
            rt.log.say("Ctrl-C: winding down (Ctrl-C again stops at once)", event="interrupt")

        def on_kill(signum: int, frame: FrameType | None) -> None:
            rt.kill.set()

        old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)}
        signal.signal(signal.SIGINT, on_interrupt)
        signal.signal(signal.SIGTERM, on_interrupt)
        signal.signal(signal.SIGUSR1, on_kill)
        try:
            yield
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)


__all__ = ["Harness", "RunFailed", "Session", "compare_run", "run"]
