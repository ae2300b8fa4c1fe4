"""The same 16-trial sweep on the local engine (forked processes) and on Ray, on this machine.

    .venv/bin/python bench/sweep_engines.py [--strategy ema_cloud] [--days 3] [--workers 2]

Both engines run the product's path (``app.search.plan_search`` + the engine's
``run``) over the bundled sample's first ``--days`` sessions: a 4 x 4 grid of
``profit_target_pct`` x ``max_loss_pct``. The local engine is the floor measured
in the same run; Ray runs on a local instance of ``--workers`` CPUs, started
before its clock starts (the start-up is printed on its own). The rows of both
must be identical. One machine: expect parity at best (Ray adds task start-up and
serialisation); the point of Ray is that the same command scales out to a cluster.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GRID = ("profit_target_pct=0.2:0.35:0.05", "max_loss_pct=0.3:0.6:0.1")  # 16 trials


def _warm_worker() -> None:
    import time

    import app.trial  # noqa: F401  (backtrader, pandas, pyarrow, the strategies)

    time.sleep(1.0)  # hold the worker so the next warm-up task lands on another one


def _csv(rows: list[dict], plan: object) -> str:
    """The optimization.csv text of ``rows`` (NaN-safe comparison)."""
    from app.sweep import grid_order
    from app.sweep_results import results_frame

    grid_order(rows, plan.axes)  # type: ignore[attr-defined]
    frame = results_frame(rows, plan.axes, plan.metric)  # type: ignore[attr-defined]
    return str(frame.to_csv(index=False, float_format="%.10g"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strategy", default="ema_cloud")
    ap.add_argument("--days", type=int, default=3, help="sessions of the bundled sample (default 3)")
    ap.add_argument("--workers", type=int, default=2, help="local processes and Ray CPUs (default 2)")
    args = ap.parse_args()

    import ray

    from app.backtest import RunRequest, prepare
    from app.engine_local import LocalEngine
    from app.engine_ray import RayEngine
    from app.search import plan_search
    from feeds.databento.layout import discover
    from feeds.synthetic.sample import default_sample_dir, ensure_sample

    data = ensure_sample(default_sample_dir(), progress=False)
    days = sorted(discover(data, ["SPY"])["SPY"].cbbo)[1 : 1 + args.days]  # the first warms up
    req = RunRequest(
        strategy=args.strategy,
        start=days[0],
        end=days[-1],
        warmup_days=1,
        quiet=True,
        out_dir=Path(tempfile.mkdtemp(prefix="bench-sweep-engines-")),
        optimize=GRID,
    )
    prep = prepare(req)
    plan = plan_search(prep)
    assert plan.combos is not None and len(plan.combos) == 16
    print(f"{len(plan.combos)} trials of {args.strategy} over {days[0]}..{days[-1]} ({len(days)} sessions)")

    local_rows: list[dict] = []
    started = time.perf_counter()
    with LocalEngine(args.workers) as engine:
        engine.run(prep, plan.axes, plan.combos, local_rows, progress=False)
    local = time.perf_counter() - started
    print(f"local engine, {args.workers} processes: {local:7.1f} s")

    started = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    warm = ray.remote(num_cpus=1)(_warm_worker)
    ray.get([warm.remote() for _ in range(args.workers)])  # each worker process imports the project once
    print(f"ray start-up and worker imports (not in the sweep time): {time.perf_counter() - started:7.1f} s")
    ray_rows: list[dict] = []
    try:
        with RayEngine(None) as engine:
            started = time.perf_counter()
            engine.run(prep, plan.axes, plan.combos, ray_rows, progress=False)
            on_ray = time.perf_counter() - started
    finally:
        ray.shutdown()
    print(f"ray engine, {args.workers} CPUs:        {on_ray:7.1f} s")
    print(f"ray / local: {on_ray / local:.2f}x the time")
    same = _csv(local_rows, plan) == _csv(ray_rows, plan)
    print(f"rows identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
