"""Ingest independent source days in worker processes (``Catalog.ingest(workers=N)``).

A day read from its own CBBO file (with its own bars file, or none) depends on no
other day: each goes to a worker process as it frees up, and each worker holds one
day at a time, so the peak memory is ``workers`` x one day's, whatever the number of
days. Days of a range file (one file, many days, one streaming pass) and days whose
bars come from a multi-day bars file stay in the calling process. Each worker writes
its day's files and manifest (the day's own files: no two workers write the same
path); the summaries come back in the days' order, so the summary and its failures
read as a one-process ingest's.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from feeds.catalog.settings import IngestSettings, IngestSummary
from feeds.catalog.sources import DayPlan
from options_scalper.calendar import is_session

__all__ = ["ingest_days", "merge_summary", "runs_alone"]


def runs_alone(plan: DayPlan) -> bool:
    """True when ``plan``'s day can be ingested in a process of its own."""
    return plan.day not in plan.files.range_days and not plan.files.bars_multi


def ingest_days(
    ingest_one: Callable[[Path, DayPlan, IngestSettings], IngestSummary],
    root: Path,
    plans: Iterable[DayPlan],
    settings: IngestSettings,
    workers: int,
) -> Iterator[IngestSummary]:
    """``ingest_one(root, plan, settings)`` of each plan, in order, from ``workers`` processes.

    ``ingest_one`` is a module-level function (it is pickled by name); the workers are forked,
    so a day costs no re-import.
    """
    plans = list(plans)
    if not plans:
        return
    is_session(plans[0].day)  # the exchange calendar, built once here: the forked workers inherit it
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(plans)), mp_context=ctx) as pool:
        yield from pool.map(ingest_one, [root] * len(plans), plans, [settings] * len(plans))


def merge_summary(into: IngestSummary, part: IngestSummary) -> None:
    """Add ``part``'s counts, drops and failures to ``into``."""
    into.ingested += part.ingested
    into.skipped += part.skipped
    into.failed += part.failed
    into.not_sessions += part.not_sessions
    into.rows_in += part.rows_in
    into.rows_out += part.rows_out
    into.dropped.update(part.dropped)
    into.failures.extend(part.failures)
