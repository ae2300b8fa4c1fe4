"""``--engine ray``: each trial one Ray task running ``app.trial.run_trial``, results streamed back.

``--address``: None starts a Ray instance on this machine for the command (and
stops it at the end); ``auto`` joins the cluster started here with ``ray start
--head``; ``ray://host:10001`` reaches a remote head through Ray Client. A
connection already made in this process (``ray.init`` by the caller) is used as
it is. Every worker opens the catalog at the same absolute path (a shared disk),
with the project installed. A trial that fails is retried once; if the retry
fails too its row is kept, figures empty, with ``attempts`` 2 and the ``error``:
never silently dropped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from tqdm import tqdm

from app.backtest import BadInput, Prepared, one_line
from app.grid import GridAxis
from app.trial import TrialRequest, run_trial, trial_request

MAX_ATTEMPTS = 2  # a failed trial is retried once


def failed_row(t: TrialRequest, attempts: int, error: str) -> dict[str, Any]:
    """The row of a trial that failed every attempt: its combination, no figures, why."""
    row: dict[str, Any] = {name: t.combo.get(name) for name in t.axes}
    row.update(total_trades=math.nan, attempts=attempts, error=error)
    return row


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)  # RayTaskError: the exception raised inside the task
    return one_line(cause if isinstance(cause, BaseException) else exc)


class RayEngine:
    """Trials as Ray tasks on the cluster at ``address`` (None: a local instance for the command)."""

    name = "ray"

    def __init__(self, address: str | None) -> None:
        self.address = address
        self._started = False
        self._remote: Any = None

    def __enter__(self) -> RayEngine:
        try:
            import ray
        except ImportError:
            raise BadInput(
                "--engine ray needs Ray: pip install -e '.[research]' (or pip install ray)"
            ) from None
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = f"--address {self.address}" if self.address else "--engine ray (a local instance)"
                raise BadInput(
                    f"{where}: cannot reach Ray ({one_line(exc)}); start a cluster with `ray start --head` "
                    "and pass --address auto, or drop --address to start one on this machine"
                ) from None
            self._started = True
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_trial)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False

    def parallelism(self) -> int:
        import ray

        return max(1, int(ray.cluster_resources().get("CPU", 1)))

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
        """Submit every combination, append one row per trial to ``rows`` as tasks finish."""
        import ray
        from ray.exceptions import RayError

        trials = [trial_request(prep, combo, axes) for combo in combos]
        pending = {self._remote.remote(t): (i, 1) for i, t in enumerate(trials)}
        bar = tqdm(total=len(trials), desc=f"{desc} (ray)", unit="run", disable=not progress, leave=False)
        try:
            while pending:
                (ref,), _ = ray.wait(list(pending), num_returns=1)
                index, attempt = pending.pop(ref)
                try:
                    row = dict(ray.get(ref))
                except RayError as exc:
                    if attempt < MAX_ATTEMPTS:
                        pending[self._remote.remote(trials[index])] = (index, attempt + 1)
                        continue
                    row = failed_row(trials[index], attempt, _reason(exc))
                else:
                    row.update(attempts=attempt, error="")
                rows.append(row)
                bar.update(1)
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        finally:
            bar.close()
        return rows
