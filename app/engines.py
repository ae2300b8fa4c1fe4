"""Where a sweep's trials run: ``--engine local`` (``app.engine_local``) or ``--engine ray`` (``app.engine_ray``).

Both take batches of combinations and append one figures row per trial, with
``attempts`` and ``error`` columns, so ``optimization.csv`` is the same file
whichever engine ran it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from app.backtest import Prepared
from app.engine_local import LocalEngine, default_workers
from app.grid import GridAxis
from app.request import ENGINE_RAY


class Engine(Protocol):
    name: str

    def __enter__(self) -> Engine: ...

    def __exit__(self, *exc: object) -> None: ...

    def parallelism(self) -> int: ...

    def run(
        self,
        prep: Prepared,
        axes: Sequence[GridAxis],
        combos: Sequence[Mapping[str, Any]],
        rows: list[dict[str, Any]],
        *,
        progress: bool = True,
        desc: str = "optimize",
    ) -> list[dict[str, Any]]: ...


def make_engine(prep: Prepared, n_runs: int) -> Engine:
    """The request's engine, not yet started (use it as a context manager)."""
    req = prep.request
    if req.engine == ENGINE_RAY:
        from app.engine_ray import RayEngine

        return RayEngine(req.address)
    return LocalEngine(min(req.workers or default_workers(n_runs), max(1, n_runs)))
