"""One backtest from a request: data -> catalog -> Cerebro -> analyzers -> report files.

``prepare`` checks everything a user typed (strategy, params, dates, folders,
journal URL) and brings the catalog up to date; ``run_once`` runs Cerebro and
writes ``report.json``, ``trades.csv``, ``equity.png`` (and the journal, and with
``plot`` Backtrader's own chart) into the output folder. ``app.sweep``
reuses ``prepare`` for parameter sweeps.

Errors: :class:`BadInput` (exit code 2) for anything the command line got wrong,
:class:`RunFailed` (exit code 1) for a run that could not finish (a corrupt file
in strict mode, a damaged catalog, a strategy error). Messages are one line: what,
where, what to do.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import backtrader as bt
from tqdm import tqdm

from app import oos
from app.cli import one_line
from app.data import CATALOG_DIRNAME, _data_dir, _source_days, prepare_catalog, trading_sessions
from app.plot import save_backtrader_plot
from app.recorder import SplitJournalRecorder
from app.request import (
    DEFAULT_WARMUP_DAYS,
    ENGINE_LOCAL,
    ENGINE_RAY,
    ENGINES,
    SEARCH_GRID,
    SEARCH_OPTUNA,
    SEARCH_RANDOM,
    SEARCHES,
    BadInput,
    RunFailed,
    RunRequest,
    check_request,
    default_out_dir,
    ensure_writable_dir,
    resolve_strategy,
)
from app.splits import DEFAULT_SPLITS, SplitTable, find_project_file, load_splits, with_split
from options_scalper.model import ScalperError
from options_scalper.ports import ClockFeed
from strategies import registry

__all__ = [
    "CATALOG_DIRNAME",
    "DEFAULT_WARMUP_DAYS",
    "ENGINES",
    "ENGINE_LOCAL",
    "ENGINE_RAY",
    "SEARCHES",
    "SEARCH_GRID",
    "SEARCH_OPTUNA",
    "SEARCH_RANDOM",
    "BadInput",
    "Prepared",
    "RunFailed",
    "RunOutcome",
    "RunRequest",
    "build",
    "check_request",
    "default_out_dir",
    "describe_outputs",
    "ensure_writable_dir",
    "one_line",
    "prepare",
    "prepare_catalog",
    "resolve_strategy",
    "run_info",
    "run_once",
    "save_backtrader_plot",
    "trading_sessions",
]

PLOT_FILENAME = "backtrader.png"
CLOCK_KEEP_BARS = 390  # bars the clock keeps when not plotting: a session (strategies read a few back)


@dataclass
class Prepared:
    """A checked request with its data in the catalog, ready for Cerebro."""

    request: RunRequest
    strategy_cls: type
    params: dict[str, Any]
    catalog: Any
    data_dir: Path
    symbols: list[str]
    start: date  # first trading session (after warm-up)
    end: date  # last trading session
    sessions: int  # sessions streamed, warm-up included (progress bar total)
    out_dir: Path
    journal_url: str | None
    notes: list[str] = field(default_factory=list)
    say: Callable[[str], None] = print
    splits: SplitTable = DEFAULT_SPLITS  # the project's dataset split (--split dates come from it)


@dataclass
class RunOutcome:
    """What one run produced."""

    report: dict[str, Any]
    console: str
    files: dict[str, Path]
    seconds: float


def prepare(req: RunRequest, say: Callable[[str], None] | None = None) -> Prepared:
    """Check the request, bring the catalog up to date and resolve the symbols and range."""
    say = _silent if req.quiet else (say or print)
    check_request(req)
    cls, params = resolve_strategy(req)
    out_dir = (req.out_dir or default_out_dir(req.strategy)).expanduser()
    existed = out_dir.exists()
    ensure_writable_dir(out_dir, "--out")
    try:
        return _prepare_data(req, cls, params, out_dir, say)
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                out_dir.rmdir()  # only if still empty
        raise


def _prepare_data(
    req: RunRequest, cls: type, params: dict[str, Any], out_dir: Path, say: Callable[[str], None]
) -> Prepared:
    journal_url = req.journal_url
    if journal_url is None and not req.optimize:
        from journal.writer import default_url

        journal_url = default_url(out_dir)
    data_dir = _data_dir(req, say)
    splits = load_splits(find_project_file(data_dir))
    req = with_split(req, splits)
    catalog, symbols, notes = prepare_catalog(req, data_dir, say)
    streamed, trading = trading_sessions(catalog, symbols, req.start, req.end, req.warmup_days)
    active = [s for s in symbols if trading[s]]
    for sym in symbols:
        if not trading[sym]:
            line = f"{sym}: no catalog day between {req.start or 'start'} and {req.end or 'end'}: symbol left out"
            print(f"warning: {line}", file=sys.stderr)
            notes.append(line)
    if not active:
        raise BadInput(
            f"no ingested trading days for {', '.join(symbols)} between {req.start or 'the start'} and "
            f"{req.end or 'the end'} in {catalog.root}; check the warnings above or change --start/--end"
        )
    for sym in active:
        notes.extend(catalog.data_notes(sym, _source_days(data_dir, sym, trading[sym])))
    all_trading = sorted({d for s in active for d in trading[s]})
    sessions = len({d for s in active for d in streamed[s]})
    if journal_url is not None:
        _open_journal(journal_url)
    return Prepared(
        request=req,
        strategy_cls=cls,
        params=params,
        catalog=catalog,
        data_dir=data_dir,
        symbols=active,
        start=all_trading[0],
        end=all_trading[-1],
        sessions=sessions,
        out_dir=out_dir,
        journal_url=journal_url,
        notes=notes,
        say=say,
        splits=splits,
    )


def _silent(_message: str) -> None:
    return None


def _open_journal(url: str) -> None:
    """Create or migrate the journal schema once, before any run (``journal.migrate.upgrade``)."""
    from journal.errors import JournalError
    from journal.writer import open_engine

    try:
        open_engine(url).dispose()  # runs journal.migrate.upgrade(url) with one-line errors
    except JournalError as exc:
        raise BadInput(f"--journal: {one_line(exc)}") from exc


# --------------------------------------------------------------------------- Cerebro


class DayProgress(bt.Analyzer):
    """A tqdm bar over the sessions of the run (warm-up included); closed in ``stop``."""

    params = (("total", 0), ("desc", "backtest"))

    def start(self) -> None:
        self._clocks: list[Any] = [d for d in self.strategy.datas if isinstance(d, ClockFeed)]
        self._day = -1
        self._bar: Any = tqdm(total=int(self.p.total), desc=self.p.desc, unit="day", leave=False)

    def next(self) -> None:
        day = int(max(c.datetime[0] for c in self._clocks if len(c)))
        if day != self._day:
            self._day = day
            self._bar.set_postfix_str(bt.num2date(day).date().isoformat(), refresh=False)
            self._bar.update(1)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar, self._clocks = None, []

    def get_analysis(self) -> dict[str, Any]:
        return {}


def build(
    prep: Prepared,
    params: Mapping[str, Any],
    *,
    journal_url: str | None,
    progress: bool,
    equity_bars: bool = True,
    criteria: bool = True,
    plot: bool = False,
    run_id: str | None = None,
) -> bt.Cerebro:
    """Return the run's Cerebro: engine feeds and broker, the strategy and the analyzers.

    ``run_id`` tags the journal's rows (None: each run draws its own, as in a sweep).
    """
    from analyzers.scalp_analyzers import EquityCurve, ScalpStats, SuccessCriteria
    from app.cerebro import build_cerebro

    req = prep.request
    try:
        cerebro = build_cerebro(
            prep.strategy_cls,
            prep.catalog,
            prep.symbols,
            fromdate=req.start,
            todate=req.end,
            cash=req.cash,
            warmup_days=req.warmup_days,
            commission=req.commission,
            macro_minutes=int(params.get("macro_compression", 10)),
            # memory flat in the number of days unless Backtrader's chart needs every bar
            clock_keep_bars=0 if plot else CLOCK_KEEP_BARS,
            exactbars=0 if plot else -1,
            **params,
        )
    except TypeError as exc:  # a param that build_cerebro or the strategy refuses
        raise BadInput(f"--param: {one_line(exc)}") from exc
    cerebro.addanalyzer(ScalpStats, _name="scalp_stats")
    cerebro.addanalyzer(EquityCurve, _name="equity", bars=equity_bars)
    if criteria:
        cerebro.addanalyzer(SuccessCriteria, _name="criteria")
    if journal_url is not None:
        from analyzers.journal import run_json

        venue = {**registry.VENUE_PARAMS, **registry.split_venue_params(params)[1]}
        run = run_json(
            req.strategy,
            prep.symbols,
            prep.start,
            prep.end,
            str(prep.data_dir),
            str(prep.catalog.root),
            venue,
        )
        cerebro.addanalyzer(
            SplitJournalRecorder,
            _name="journal",
            url=journal_url,
            run_id=run_id or "",
            run=run,
            split=req.split or "",
        )
    if plot:
        cerebro.addobserver(bt.observers.Value)  # account value panel on Backtrader's chart
    if progress:
        cerebro.addanalyzer(DayProgress, _name="progress", total=prep.sessions)
    return cerebro


def run_info(prep: Prepared, run_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """The ``run`` block of the report: what was run (``run_id``: its rows in the journal), on what, with what."""
    from journal.errors import mask_url

    req = prep.request
    return {
        "run_id": run_id,
        "strategy": req.strategy,
        "start": prep.start.isoformat(),
        "end": prep.end.isoformat(),
        "params": dict(prep.params),
        "symbols": list(prep.symbols),
        "cash": req.cash,
        "commission_per_contract": req.commission,
        "warmup_days": req.warmup_days,
        "requested_start": req.start.isoformat() if req.start else None,
        "requested_end": req.end.isoformat() if req.end else None,
        "data": str(prep.data_dir),
        "catalog": str(prep.catalog.root),
        "journal": mask_url(prep.journal_url) if prep.journal_url else None,
        "strict": req.strict,
        "split": req.split,
        "splits_touched": [s.name for s, _, _ in prep.splits.touched(prep.start, prep.end)],
        "splits_file": str(prep.splits.source) if prep.splits.source else None,
        **extra,
    }


def run_notes(strat: Any) -> list[str]:
    """Data notes only the run can tell: signals decided with the volume rules skipped (no volume)."""
    from feeds.catalog.notes import volume_skipped_notes

    return volume_skipped_notes(getattr(strat, "volume_rules_skipped", None) or {})


def run_once(prep: Prepared) -> RunOutcome:
    """Run the backtest and write its outputs; return the report."""
    from analyzers.execution import execution_cost, exit_thresholds
    from analyzers.plots import plot_equity
    from analyzers.report import build_report, render_console, write_report_json, write_trades_csv
    from journal.errors import JournalError, mask_url
    from journal.writer import finish_run, new_run_id

    req = prep.request
    run_id = new_run_id()
    ledger = oos.guard(prep, [oos.effective_params(prep)], kind="run", run_id=run_id)
    cerebro = build(
        prep, prep.params, journal_url=prep.journal_url, progress=not req.quiet, plot=req.plot, run_id=run_id
    )
    started = time.perf_counter()
    try:
        strat = cerebro.run()[0]
    except BaseException as exc:
        if prep.journal_url is not None:
            with contextlib.suppress(JournalError):  # the journal may be what failed
                status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
                finish_run(prep.journal_url, run_id, status)
        if isinstance(exc, ScalperError):
            raise RunFailed(f"backtest stopped: {one_line(exc)}") from exc
        raise
    seconds = time.perf_counter() - started

    stats = strat.analyzers.scalp_stats.get_analysis()
    equity = strat.analyzers.equity.get_analysis()
    criteria = strat.analyzers.criteria.get_analysis()
    rejections = dict(stats.get("rejections", {}))
    info = run_info(prep, run_id, seconds=round(seconds, 2), sessions=prep.sessions)
    thresholds = exit_thresholds(registry.load_config_class(req.strategy), prep.params)
    cost = execution_cost(strat.closed_scalps, thresholds)
    notes = [*prep.notes, *run_notes(strat)]
    info["ledger"] = mask_url(ledger.url)
    report = build_report(stats, equity, criteria, rejections, notes, info, execution_cost=cost)
    report["oos_touches"] = ledger.oos_touches
    oos.store_figures(ledger, strat.closed_scalps)
    degradation = oos.ledger_degradation(ledger, req.strategy)
    report["success_criteria"] = oos.with_degradation(report["success_criteria"], degradation)

    out = prep.out_dir
    files: dict[str, Path] = {}
    try:
        files["report"] = write_report_json(report, out / "report.json")
        files["trades"] = write_trades_csv(strat.closed_scalps, out / "trades.csv")
        files["equity"] = plot_equity(equity, strat.closed_scalps, out / "equity.png")
        if prep.journal_url is not None and prep.journal_url.startswith("sqlite:///"):
            db = Path(prep.journal_url.removeprefix("sqlite:///"))
            if db.exists():
                files["journal"] = db
        if req.plot:
            files["plot"] = save_backtrader_plot(cerebro, out / PLOT_FILENAME)
    except OSError as exc:
        raise RunFailed(f"cannot write the outputs into {out}: {one_line(exc)}") from exc
    return RunOutcome(report=report, console=render_console(report), files=files, seconds=seconds)


def describe_outputs(files: Mapping[str, Path], out_dir: Path) -> str:
    """One line naming the files written."""
    names = ", ".join(p.name if p.parent == out_dir else str(p) for p in files.values())
    return f"outputs in {out_dir}{os.sep}: {names}"
