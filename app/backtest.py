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
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import backtrader as bt
from tqdm import tqdm

from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT
from options_scalper.model import ScalperError
from strategies import registry

EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
DEFAULT_CASH = 100_000.0
DEFAULT_WARMUP_DAYS = 2
CATALOG_DIRNAME = ".catalog"
PLOT_FILENAME = "backtrader.png"


class BadInput(ScalperError):
    """Something passed on the command line cannot be used (exit code 2)."""


class RunFailed(ScalperError):
    """The run could not finish (exit code 1)."""


def one_line(exc: BaseException | str) -> str:
    """Collapse a message to one line."""
    text = " ".join(str(exc).split())
    if isinstance(exc, BaseException) and not text:
        text = type(exc).__name__
    return text


@dataclass(frozen=True)
class RunRequest:
    """Everything ``run_backtest.py`` accepts, already split into Python values."""

    strategy: str = registry.DEFAULT_STRATEGY
    data_dir: Path | None = None  # None: the bundled sample
    catalog_dir: Path | None = None  # None: <data_dir>/.catalog
    symbols: tuple[str, ...] = ()  # (): every symbol found
    start: date | None = None
    end: date | None = None
    cash: float = DEFAULT_CASH
    params: tuple[str, ...] = ()  # "key=value" texts
    profile: str | None = None
    commission: float = DEFAULT_COMMISSION_PER_CONTRACT
    out_dir: Path | None = None  # None: out/<strategy>-<YYYYmmdd-HHMMSS>
    journal_url: str | None = None  # None: sqlite:///<out>/journal.sqlite (single runs only)
    plot: bool = False
    strict: bool = False
    bars_tz: str = "America/New_York"  # zone of a vendor bar file's naive times
    quiet: bool = False
    warmup_days: int = DEFAULT_WARMUP_DAYS
    optimize: tuple[str, ...] = ()  # "key=start:stop:step" texts
    workers: int | None = None  # None: all cores
    sort_by: str | None = None  # None: app.sweep.DEFAULT_SORT


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


@dataclass
class RunOutcome:
    """What one run produced."""

    report: dict[str, Any]
    console: str
    files: dict[str, Path]
    seconds: float


# --------------------------------------------------------------------------- checks


def check_request(req: RunRequest) -> None:
    """Reject values that make no sense before touching any data."""
    if not (math.isfinite(req.cash) and req.cash > 0):
        raise BadInput(f"--cash {req.cash:g}: must be a positive amount of dollars, e.g. --cash 100000")
    if not (math.isfinite(req.commission) and req.commission >= 0):
        raise BadInput(f"--commission {req.commission:g}: must be >= 0 dollars per contract, e.g. 0.65")
    if req.warmup_days < 0:
        raise BadInput(f"--warmup-days {req.warmup_days}: must be >= 0 sessions")
    if req.start is not None and req.end is not None and req.start > req.end:
        raise BadInput(f"--start {req.start} is after --end {req.end}; swap them")
    if req.workers is not None and req.workers < 1:
        raise BadInput(f"--workers {req.workers}: must be >= 1 (default: all cores)")
    if req.plot and req.optimize:
        raise BadInput("--plot draws one run; drop it when using --optimize")
    if req.journal_url is not None:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(req.journal_url)
        except (ArgumentError, ValueError) as exc:
            raise BadInput(
                f"--journal {req.journal_url!r}: not a SQLAlchemy URL ({one_line(exc)}); "
                "use e.g. sqlite:///out/journal.sqlite or postgresql+psycopg://user:pw@host/db"
            ) from None


def resolve_strategy(req: RunRequest) -> tuple[type, dict[str, Any]]:
    """Return the strategy class and its typed, validated ``--param`` / ``--profile`` values."""
    try:
        cls = registry.load_strategy(req.strategy)
        params = registry.resolve_params(req.strategy, cls, req.params, req.profile)
    except registry.StrategyError as exc:
        raise BadInput(one_line(exc)) from exc
    return cls, params


def default_out_dir(strategy: str, now: datetime | None = None) -> Path:
    """``out/<strategy>-<YYYYmmdd-HHMMSS>`` under the current folder."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path("out") / f"{strategy}-{stamp}"


def ensure_writable_dir(path: Path, option: str) -> Path:
    """Create ``path`` and prove it takes a file; raise ``BadInput`` naming the option."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        reason = exc.strerror or one_line(exc)
        raise BadInput(f"{option} {path}: cannot write there ({reason}); pass a writable folder") from None
    return path


# --------------------------------------------------------------------------- data


def _data_dir(req: RunRequest, say: Callable[[str], None]) -> Path:
    if req.data_dir is None:
        from feeds.synthetic.sample import default_sample_dir, ensure_sample, sample_is_complete

        target = default_sample_dir()
        if not sample_is_complete(target):
            say(f"building the bundled sample dataset into {target} (first run only)")
        try:
            return ensure_sample(target, progress=not req.quiet)
        except OSError as exc:
            raise RunFailed(f"cannot build the bundled sample in {target}: {one_line(exc)}") from exc
    data_dir = req.data_dir.expanduser()
    if not data_dir.is_dir():
        what = "is not a folder" if data_dir.exists() else "does not exist"
        raise BadInput(
            f"--data {data_dir}: {what}; pass the folder that holds <SYMBOL>/cbbo-1m/<date>.csv[.zst]"
        )
    return data_dir


def _ingest_window(
    found: Mapping[str, Any], start: date | None, end: date | None, warmup_days: int
) -> tuple[date | None, date | None]:
    """The source-day window to ingest: the range plus each symbol's warm-up sessions."""
    lo: date | None = None
    hi: date | None = None
    for files in found.values():
        days = sorted(files.cbbo)
        inside = [d for d in days if (start is None or d >= start) and (end is None or d <= end)]
        if not inside:
            continue
        first = days.index(inside[0])
        first_day = days[max(0, first - warmup_days)]
        lo = first_day if lo is None else min(lo, first_day)
        hi = inside[-1] if hi is None else max(hi, inside[-1])
    return lo, hi


def _source_range(found: Mapping[str, Any]) -> str:
    days = sorted({d for files in found.values() for d in files.cbbo})
    return f"{days[0]}..{days[-1]}" if days else "no days"


def prepare_catalog(
    req: RunRequest, data_dir: Path, say: Callable[[str], None]
) -> tuple[Any, list[str], list[str]]:
    """Ingest what the run needs (new or changed days only); return (catalog, symbols, notes)."""
    from feeds.catalog import Catalog, CatalogError, IngestSettings, SourceFileError
    from feeds.databento.layout import discover

    try:
        found = discover(data_dir, list(req.symbols) or None)
    except ScalperError as exc:
        raise BadInput(f"--data/--symbols: {one_line(exc)}") from exc
    start, end = _ingest_window(found, req.start, req.end, req.warmup_days)
    if start is None:
        raise BadInput(
            f"no trading days between {req.start or 'the start'} and {req.end or 'the end'} for "
            f"{', '.join(sorted(found))} in {data_dir} (the data covers {_source_range(found)}); "
            "change --start/--end"
        )
    catalog_dir = (req.catalog_dir or data_dir / CATALOG_DIRNAME).expanduser()
    ensure_writable_dir(
        catalog_dir, "--catalog" if req.catalog_dir else "--catalog (default <DATA>/.catalog)"
    )
    catalog = Catalog(catalog_dir)
    try:
        summary = catalog.ingest(
            data_dir,
            symbols=sorted(found),
            start=start,
            end=end,
            settings=IngestSettings(bars_tz=req.bars_tz),
            strict=req.strict,
            progress=not req.quiet,
        )
    except ScalperError as exc:
        if isinstance(exc, CatalogError) and not isinstance(exc, SourceFileError):
            raise BadInput(one_line(exc)) from exc
        raise RunFailed(f"{one_line(exc)} (--strict stops on the first bad file; drop it to skip)") from exc
    notes: list[str] = []
    for failure in summary.failures:
        line = f"skipped {failure.line()}"
        print(f"warning: {line}", file=sys.stderr)
        notes.append(line)
    return catalog, sorted(found), notes


def trading_sessions(
    catalog: Any, symbols: Sequence[str], start: date | None, end: date | None, warmup_days: int
) -> tuple[dict[str, list[date]], dict[str, list[date]]]:
    """Per symbol: (all streamed sessions incl. warm-up, trading sessions) from the catalog."""
    from feeds.backtest.clock import session_days

    streamed: dict[str, list[date]] = {}
    trading: dict[str, list[date]] = {}
    for sym in symbols:
        days, first = session_days(catalog, sym, start, end, warmup_days)
        streamed[sym] = days
        trading[sym] = [d for d in days if first is not None and d >= first]
    return streamed, trading


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
    )


def _silent(_message: str) -> None:
    return None


def _source_days(data_dir: Path, symbol: str, trading: list[date]) -> list[date]:
    """The source days in the trading range (so days missing from the catalog get a note)."""
    from feeds.databento.layout import discover

    try:
        files = discover(data_dir, [symbol])[symbol]
    except ScalperError:
        return trading
    lo, hi = trading[0], trading[-1]
    return sorted({d for d in files.cbbo if lo <= d <= hi} | set(trading))


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
        from feeds.backtest.clock import UnderlyingFeed

        self._clocks = [d for d in self.strategy.datas if isinstance(d, UnderlyingFeed)]
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
) -> bt.Cerebro:
    """Return the run's Cerebro: engine feeds and broker, the strategy and the analyzers."""
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
            **params,
        )
    except TypeError as exc:  # a param that build_cerebro or the strategy refuses
        raise BadInput(f"--param: {one_line(exc)}") from exc
    cerebro.addanalyzer(ScalpStats, _name="scalp_stats")
    cerebro.addanalyzer(EquityCurve, _name="equity", bars=equity_bars)
    if criteria:
        cerebro.addanalyzer(SuccessCriteria, _name="criteria")
    if journal_url is not None:
        from analyzers.journal import JournalRecorder

        cerebro.addanalyzer(JournalRecorder, _name="journal", url=journal_url)
    if plot:
        cerebro.addobserver(bt.observers.Value)  # account value panel on Backtrader's chart
    if progress:
        cerebro.addanalyzer(DayProgress, _name="progress", total=prep.sessions)
    return cerebro


def run_info(prep: Prepared, **extra: Any) -> dict[str, Any]:
    """The ``run`` block of the report: what was run, on what, with what."""
    from journal.errors import mask_url

    req = prep.request
    return {
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
        **extra,
    }


def run_notes(strat: Any) -> list[str]:
    """Data notes only the run can tell: signals decided with the volume rules skipped (no volume)."""
    from feeds.catalog.notes import volume_skipped_notes

    return volume_skipped_notes(getattr(strat, "volume_rules_skipped", None) or {})


def run_once(prep: Prepared) -> RunOutcome:
    """Run the backtest and write its outputs; return the report."""
    from analyzers.plots import plot_equity
    from analyzers.report import build_report, render_console, write_report_json, write_trades_csv

    req = prep.request
    cerebro = build(prep, prep.params, journal_url=prep.journal_url, progress=not req.quiet, plot=req.plot)
    started = time.perf_counter()
    try:
        strat = cerebro.run()[0]
    except ScalperError as exc:
        raise RunFailed(f"backtest stopped: {one_line(exc)}") from exc
    seconds = time.perf_counter() - started

    stats = strat.analyzers.scalp_stats.get_analysis()
    equity = strat.analyzers.equity.get_analysis()
    criteria = strat.analyzers.criteria.get_analysis()
    rejections = dict(stats.get("rejections", {}))
    info = run_info(prep, seconds=round(seconds, 2), sessions=prep.sessions)
    report = build_report(stats, equity, criteria, rejections, [*prep.notes, *run_notes(strat)], info)

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


def save_backtrader_plot(cerebro: bt.Cerebro, path: Path) -> Path:
    """Save Backtrader's own chart of the finished run to ``path`` (headless, Agg)."""
    import backtrader.plot  # noqa: F401  (selects TkAgg on import)
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot

    from feeds.backtest.contracts import ContractFeed

    for data in cerebro.datas:
        if isinstance(data, ContractFeed):  # NaN while unbound: nothing worth a panel
            data.plotinfo.plot = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "FigureCanvasAgg is non-interactive" from plotter.show()
        figures = [fig for group in cerebro.plot(iplot=False, volume=False) for fig in group]
    if not figures:
        raise RunFailed("Backtrader drew no chart for this run")
    path.parent.mkdir(parents=True, exist_ok=True)
    first = path
    for i, fig in enumerate(figures):
        target = path if i == 0 else path.with_name(f"{path.stem}-{i + 1}{path.suffix}")
        fig.set_size_inches(16, 9)
        fig.savefig(target, dpi=100)
        pyplot.close(fig)
    return first


def describe_outputs(files: Mapping[str, Path], out_dir: Path) -> str:
    """One line naming the files written."""
    names = ", ".join(p.name if p.parent == out_dir else str(p) for p in files.values())
    return f"outputs in {out_dir}{os.sep}: {names}"
