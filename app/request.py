"""What ``run_backtest.py`` was asked for: the request, its errors and the checks made before any data.

:class:`BadInput` (exit code 2) for anything the command line got wrong,
:class:`RunFailed` (exit code 1) for a run that could not finish.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.cli import one_line
from options_scalper.constants import DEFAULT_CASH, DEFAULT_COMMISSION_PER_CONTRACT
from options_scalper.model import ScalperError
from strategies import registry

DEFAULT_WARMUP_DAYS = 2
SEARCH_GRID = "grid"
SEARCH_RANDOM = "random"
SEARCH_OPTUNA = "optuna"
SEARCHES = (SEARCH_GRID, SEARCH_RANDOM, SEARCH_OPTUNA)
ENGINE_LOCAL = "local"
ENGINE_RAY = "ray"
ENGINES = (ENGINE_LOCAL, ENGINE_RAY)


class BadInput(ScalperError):
    """Something passed on the command line cannot be used (exit code 2)."""


class RunFailed(ScalperError):
    """The run could not finish (exit code 1)."""


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
    split: str | None = None  # dev, validation, oos (app.splits); None: the dates as given
    search: str = SEARCH_GRID  # grid: every --optimize combination; random / optuna: --trials of them
    trials: int | None = None  # random / optuna search: how many trials
    seed: int | None = None  # random / optuna search: the draw (None: a new seed, printed)
    engine: str = ENGINE_LOCAL  # local: optstrategy on --workers processes; ray: one Ray task per trial
    address: str | None = None  # --engine ray: the cluster (None: start a local one; auto; ray://host:port)
    walk_forward: str | None = None  # "train=6M,test=1M" (app.walkforward); None: one sweep
    yes: bool = False  # start a sweep above app.grid's confirmation limits
    i_know: bool = False  # run on out-of-sample dates with another parameter set anyway (app.oos)


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
    if req.search not in SEARCHES:
        raise BadInput(f"--search {req.search!r}: use one of {', '.join(SEARCHES)}")
    if req.search != SEARCH_GRID:
        if not req.optimize:
            raise BadInput(
                f"--search {req.search} draws from the --optimize ranges; give at least one --optimize"
            )
        if req.trials is None or req.trials < 1:
            raise BadInput(f"--search {req.search} needs --trials N (N >= 1), e.g. --trials 50")
    elif req.trials is not None or req.seed is not None:
        raise BadInput("--trials and --seed belong to --search random or optuna; add it or drop them")
    if req.plot and req.optimize:
        raise BadInput("--plot draws one run; drop it when using --optimize")
    if req.engine not in ENGINES:
        raise BadInput(f"--engine {req.engine!r}: use one of {', '.join(ENGINES)}")
    if req.engine == ENGINE_RAY and not req.optimize:
        raise BadInput("--engine ray runs the trials of a sweep; give at least one --optimize")
    if req.address is not None and req.engine != ENGINE_RAY:
        raise BadInput("--address names a Ray cluster; add --engine ray or drop it")
    if req.walk_forward is not None and not req.optimize:
        raise BadInput("--walk-forward re-optimises the --optimize ranges; give at least one --optimize")
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
    name = strategy.rpartition(":")[2] or strategy  # module:Class -> Class
    return Path("out") / f"{name}-{stamp}"


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
