"""The out-of-sample guard: every run touching OOS dates goes in the split ledger; a second parameter set refuses.

Seed 003: the out-of-sample years are the final test, touched ONCE. Before a run
(or a sweep) starts, ``guard`` records one ledger row per parameter set and per
split its sessions touch (``journal.ledger``: the ``--journal`` database, else
``<catalog>/split_ledger.sqlite``). When the run touches the out-of-sample split
and the ledger already holds a different parameter set of the same strategy there
(or a sweep brings several), it refuses with exit code 2 unless ``--i-know`` is
given. The same parameters again are a re-run: allowed, and counted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from analyzers.criteria import ledger_degradation_row
from analyzers.stats import session_date_et
from app.cli import one_line
from app.request import BadInput
from app.splits import DEV, OOS
from journal.errors import JournalError, mask_url
from journal.ledger import Ledger, LedgerRow, Touch, ledger_url, params_key
from options_scalper.records import ClosedScalp
from strategies import registry


@dataclass(frozen=True)
class LedgerStatus:
    """What the guard recorded: the ledger, this run's rows ``(id, split, start, end)``, the OOS count."""

    url: str
    rows: tuple[tuple[int, str, date, date], ...]
    keys: tuple[str, ...]  # the parameter sets, as ledger keys, in the order given
    touches_oos: bool
    oos_touches: int  # rows of this strategy in the out-of-sample split, this run's included

    def console_line(self, strategy: str) -> str:
        return (
            f"out-of-sample touched {self.oos_touches} time(s) by {strategy} (ledger {mask_url(self.url)})\n"
        )


def ledger_url_for(prep: Any) -> str:
    """The ``--journal`` database when one is named, else the ledger beside the catalog."""
    return prep.request.journal_url or ledger_url(prep.catalog.root)


def effective_params(prep: Any, combo: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The full parameter set of a run: the strategy's defaults, then ``--param``, then a sweep's values."""
    return {**registry.settable_params(prep.strategy_cls), **prep.params, **(combo or {})}


def _changes(earlier: str, now: str) -> str:
    before, after = json.loads(earlier), json.loads(now)
    keys = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    shown = ", ".join(f"{k} {before.get(k)!r} then, {after.get(k)!r} now" for k in keys[:3])
    return shown + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")


def refusal(earlier: Sequence[LedgerRow], keys: Sequence[str], strategy: str, period: str) -> str | None:
    """Why touching the out-of-sample split with ``keys`` must be refused, or None (first touch or a re-run)."""
    if len(set(keys) | {r.params_json for r in earlier}) <= 1:
        return None
    what = f"out-of-sample {period} is touched once"
    if not earlier:
        return f"a sweep of {len(set(keys))} parameter sets over {what} (seed 003); pass --i-know to proceed"
    first = earlier[0]
    other = next((k for k in keys if k != first.params_json), keys[0])
    return (
        f"{what}: {strategy} touched it {len(earlier)} time(s) already, first on {first.touched_at:%Y-%m-%d} "
        f"(run {first.run_id or 'of a sweep'}, {first.start}..{first.end}) with other params "
        f"({_changes(first.params_json, other)}); pass --i-know to proceed"
    )


def _open(prep: Any) -> Ledger:
    try:
        return Ledger(ledger_url_for(prep))
    except JournalError as exc:
        if prep.request.journal_url is not None:
            raise BadInput(f"--journal: {one_line(exc)}") from exc
        raise


def precheck(prep: Any, n_sets: int, what: str) -> None:
    """Before a search whose parameter sets come as it runs (Optuna, walk-forward): refuse what ``guard`` would.

    Out-of-sample dates in the range refuse (unless ``--i-know``) when the search brings
    more than one parameter set there, or the ledger holds the strategy there already.
    """
    req = prep.request
    oos = next((s for s, _, _ in prep.splits.touched(prep.start, prep.end) if s.name == OOS), None)
    if oos is None or req.i_know or req.data_dir is None:
        return
    ledger = _open(prep)
    try:
        earlier = ledger.rows(req.strategy, OOS)
    finally:
        ledger.close()
    if n_sets <= 1 and not earlier:
        return
    already = f"; {req.strategy} touched it {len(earlier)} time(s) already" if earlier else ""
    raise BadInput(
        f"{what} would bring up to {n_sets} parameter set(s) to out-of-sample {oos.text()}, touched once "
        f"(seed 003){already}; end the range before {oos.start} (e.g. --split dev) or pass --i-know to proceed"
    )


def guard(
    prep: Any,
    param_sets: Sequence[Mapping[str, Any]],
    *,
    kind: str,
    run_id: str | None = None,
    refuse: bool = True,
) -> LedgerStatus:
    """Refuse a second out-of-sample parameter set (unless ``--i-know``); record the run's touches.

    ``refuse=False`` only records (the caller ran ``precheck`` before its search).
    """
    req = prep.request
    url = ledger_url_for(prep)
    touched = prep.splits.touched(prep.start, prep.end)
    oos = next((s for s, _, _ in touched if s.name == OOS), None)
    keys = [params_key(p) for p in param_sets]
    ledger = _open(prep)
    try:
        earlier = ledger.rows(req.strategy, OOS)
        # the bundled sample is synthetic data for trying the toolkit, not anybody's out-of-sample years
        if refuse and oos is not None and not req.i_know and req.data_dir is not None:
            reason = refusal(earlier, keys, req.strategy, oos.text())
            if reason:
                raise BadInput(reason)
        touches = [
            Touch(
                strategy=req.strategy,
                params_json=key,
                split=split.name,
                start=lo,
                end=hi,
                kind=kind,
                run_id=run_id,
                requested_split=req.split,
                symbols=tuple(prep.symbols),
            )
            for key in keys
            for split, lo, hi in touched
        ]
        ids = ledger.record(touches)
    finally:
        ledger.close()
    rows = tuple((i, t.split, t.start, t.end) for i, t in zip(ids, touches, strict=True))
    count = len(earlier) + (len(keys) if oos is not None else 0)
    return LedgerStatus(url=url, rows=rows, keys=tuple(keys), touches_oos=oos is not None, oos_touches=count)


def period_figures(trades: Sequence[ClosedScalp], start: date, end: date) -> tuple[int, float | None, float]:
    """``(trades, avg pnl_pct, total pnl)`` of the trades entered (US/Eastern date) in ``start``..``end``."""
    inside = [t for t in trades if start <= session_date_et(t) <= end]
    avg = sum(t.pnl_pct for t in inside) / len(inside) if inside else None
    return len(inside), avg, float(sum(t.pnl for t in inside))


def store_figures(status: LedgerStatus, trades: Sequence[ClosedScalp]) -> None:
    """Store, on each of a finished run's ledger rows, the figures of its trades inside that split."""
    ledger = Ledger(status.url)
    try:
        for row_id, _split, lo, hi in status.rows:
            ledger.set_figures(row_id, *period_figures(trades, lo, hi))
    finally:
        ledger.close()


def store_sweep_figures(
    status: LedgerStatus, rows: Sequence[Mapping[str, Any]], axes: Sequence[Any], prep: Any
) -> None:
    """Store each finished combination's figures on its ledger row when the sweep lies in one split."""
    splits = {split for _, split, _, _ in status.rows}
    if len(splits) != 1 or len(status.rows) != len(status.keys):
        return  # a sweep across splits has no per-split figures
    row_of = {key: row_id for key, (row_id, _, _, _) in zip(status.keys, status.rows, strict=True)}
    ledger = Ledger(status.url)
    try:
        for result in rows:
            if result.get("error"):
                continue  # a trial that failed has no figures
            key = params_key(effective_params(prep, {a.name: result[a.name] for a in axes}))
            if key in row_of:
                avg = result.get("avg_pnl_pct")
                avg = None if avg is None or avg != avg else float(avg)  # NaN: no trades
                ledger.set_figures(row_of[key], int(result["total_trades"]), avg, float(result["total_pnl"]))
    finally:
        ledger.close()


def _figures(row: LedgerRow) -> dict[str, Any]:
    return {
        "run_id": row.run_id,
        "kind": row.kind,
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
        "trades": row.trades,
        "avg_pnl_pct": row.avg_pnl_pct,
        "total_pnl": row.total_pnl,
    }


def ledger_degradation(status: LedgerStatus, strategy: str) -> dict[str, Any] | None:
    """Seed 003's dev-vs-OOS row from the newest finished dev and OOS runs with this run's params, or None."""
    touched = {split for _, split, _, _ in status.rows}
    if len(status.keys) != 1 or not touched & {DEV, OOS}:
        return None
    ledger = Ledger(status.url)
    try:
        dev = ledger.latest_finished(strategy, status.keys[0], DEV)
        oos = ledger.latest_finished(strategy, status.keys[0], OOS)
    finally:
        ledger.close()
    if dev is None or oos is None:
        return None
    return ledger_degradation_row(_figures(dev), _figures(oos))


def with_degradation(criteria_rows: Sequence[Mapping[str, Any]], row: Mapping[str, Any] | None) -> list[Any]:
    """The criteria rows with the run's own ``oos_degradation`` replaced by ``row`` when the run cannot tell."""
    out = []
    for r in criteria_rows:
        if r.get("key") == "oos_degradation" and row is not None and r.get("value") is None:
            r = dict(row)
        out.append(r)
    return out
