"""The local engine: a sweep's combinations as ``cerebro.optstrategy`` runs on N forked processes.

Each run's analyzers return plain values (``optreturn``), so only figures travel
back from the worker processes; one figures row per finished run
(``app.sweep_results.result_row``), as runs finish.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tqdm import tqdm

from app.backtest import Prepared, RunFailed, build, one_line
from app.grid import GridAxis
from app.sweep_results import result_row
from options_scalper.model import ScalperError


@contextlib.contextmanager
def _parent_only_sigint() -> Iterator[None]:
    """Ctrl-C stops the sweep in the parent; forked workers ignore it (no worker tracebacks)."""
    parent = os.getpid()
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if os.getpid() == parent:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def default_workers(n_runs: int) -> int:
    return max(1, min(os.cpu_count() or 1, n_runs))


class _Collector:
    """``optcallback`` target: one figures row per finished run, and the progress bar.

    Cerebro is pickled to the workers with its callbacks; the collector travels empty.
    """

    def __init__(self, rows: list[dict[str, Any]], axes: Sequence[GridAxis], bar: Any) -> None:
        self.rows, self.axes, self.bar = rows, list(axes), bar

    def __call__(self, result: Any) -> None:
        for r in result:
            self.rows.append(result_row(r, self.axes))
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __getstate__(self) -> dict[str, Any]:
        return {"rows": [], "axes": self.axes, "bar": None}


def sweep(
    prep: Prepared,
    axes: Sequence[GridAxis],
    workers: int,
    rows: list[dict[str, Any]],
    *,
    progress: bool = True,
    combos: Sequence[Mapping[str, Any]] | None = None,
    desc: str = "optimize",
) -> list[dict[str, Any]]:
    """Run every combination on ``workers`` processes, appending one figures row per run to ``rows``.

    Rows arrive as runs finish, so an interrupted sweep keeps what it completed.
    """
    cerebro = build(
        prep, prep.params, journal_url=prep.journal_url, progress=False, equity_bars=False, criteria=False
    )
    (strategy_cls, args, kwargs) = cerebro.strats.pop()[0]
    grid = {k: (v,) for k, v in kwargs.items()}
    grid.update({a.name: a.values for a in axes})
    cerebro.optstrategy(strategy_cls, *args, **grid)
    total = math.prod(len(a.values) for a in axes)
    if combos is not None:  # random search: these combinations only, not the axes' product
        cerebro.strats[-1] = [(strategy_cls, args, {**kwargs, **combo}) for combo in combos]
        total = len(combos)
    collector = _Collector(
        rows, axes, tqdm(total=total, desc=desc, unit="run", disable=not progress, leave=False)
    )
    cerebro.optcallback(collector)
    try:
        with _parent_only_sigint():
            cerebro.run(maxcpus=workers, optreturn=True)
    except ScalperError as exc:
        raise RunFailed(f"optimization stopped: {one_line(exc)}") from exc
    finally:
        collector.close()
    return rows


class LocalEngine:
    """``--engine local``: each batch of trials one ``optstrategy`` run on ``workers`` forked processes.

    A trial that fails stops the batch (``RunFailed``): the processes share one Cerebro.
    """

    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def parallelism(self) -> int:
        return self.workers

    def run(
        self,
        prep: Prepared,
        axes: Sequence[GridAxis],
        combos: Sequence[Mapping[str, Any]],
        rows: list[dict[str, Any]],
        *,
        progress: bool = True,
        desc: str = "optimize",
    ) -> list[dict[str, Any]]:
        """Append one figures row per combination to ``rows`` as runs finish (``attempts`` 1)."""
        if not combos:
            return rows
        start = len(rows)
        try:
            sweep(
                prep, axes, min(self.workers, len(combos)), rows, progress=progress, combos=combos, desc=desc
            )
        finally:
            for row in rows[start:]:
                row.setdefault("attempts", 1)
                row.setdefault("error", "")
        return rows
