"""``JournalRecorder``: the Backtrader analyzer that journals each run and each scalp as it closes.

Reads ``strategy.closed_scalps`` by the protocol in ``analyzers/__init__.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

import backtrader as bt

from analyzers.scalp_analyzers import ClosedScalpReader
from journal.errors import JournalError, mask_url
from journal.writer import JournalWriter, RunEntry, new_run_id


def run_json(
    strategy: str,
    symbols: tuple[str, ...] | list[str] = (),
    start: date | None = None,
    end: date | None = None,
    data_path: str | None = None,
    catalog_path: str | None = None,
    venue_params: Mapping[str, Any] | None = None,
) -> str:
    """Return the JSON text ``JournalRecorder``'s ``run`` param takes (a flat, picklable string).

    ``venue_params``: the store's settings (``cap_to_size``, ``pool_size``), journaled
    with the strategy's params since they change the fills.
    """
    return json.dumps(
        {
            "strategy": strategy,
            "symbols": list(symbols),
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
            "data_path": data_path,
            "catalog_path": catalog_path,
            "venue_params": dict(venue_params or {}),
        },
        default=str,
    )


def _run_entry(run_id: str, run: str, params: dict[str, Any], fallback_name: str) -> RunEntry:
    try:
        info = json.loads(run) if run else {}
    except json.JSONDecodeError as exc:
        raise JournalError(
            f"JournalRecorder: run={run!r} is not JSON ({exc}); build it with run_json()"
        ) from exc
    return RunEntry(
        run_id=run_id,
        strategy=str(info.get("strategy") or fallback_name),
        params={**params, **(info.get("venue_params") or {})},
        symbols=tuple(info.get("symbols") or ()),
        start=date.fromisoformat(info["start"]) if info.get("start") else None,
        end=date.fromisoformat(info["end"]) if info.get("end") else None,
        data_path=info.get("data_path"),
        catalog_path=info.get("catalog_path"),
    )


class JournalRecorder(bt.Analyzer):
    """Record the run in ``runs`` and write every closed scalp, tagged with the run id, as it closes.

    Params: ``url`` (SQLAlchemy URL, e.g. ``journal.writer.default_url(out_dir)``);
    ``run_id`` (``""``: draw a new one, as each run of an ``optstrategy`` sweep does);
    ``run`` (``run_json(...)`` text: strategy name, symbols, sessions, data paths).
    The run's params in the journal are the strategy's own effective params plus the venue's.
    """

    params = (("url", ""), ("run_id", ""), ("run", ""))

    def start(self) -> None:
        if not self.p.url:
            raise JournalError(
                "JournalRecorder needs a database url, e.g. url='sqlite:///out/journal.sqlite'"
            )
        self._reader: ClosedScalpReader | None = ClosedScalpReader(self.strategy, type(self).__name__)
        self._run_id = str(self.p.run_id) or new_run_id()
        params = dict(self.strategy.params._getkwargs())
        entry = _run_entry(self._run_id, str(self.p.run), params, type(self.strategy).__name__)
        self._writer: JournalWriter | None = JournalWriter(str(self.p.url))
        self._writer.start_run(entry)
        self._ids: list[int] = []

    def notify_trade(self, trade: bt.Trade) -> None:
        if trade.isclosed:
            self._write_new()

    def _write_new(self) -> None:
        if self._reader is None or self._writer is None:
            return
        for scalp in self._reader.take_new():
            self._ids.append(self._writer.write(scalp))

    def stop(self) -> None:
        try:
            self._write_new()
            if self._writer is not None:
                self._writer.finish_run("finished")
        finally:
            if self._writer is not None:
                self._writer.close()
            # an optstrategy result is pickled: keep no engine or strategy data
            self._reader, self._writer = None, None

    def get_analysis(self) -> dict[str, Any]:
        return {
            "url": mask_url(str(self.p.url)),
            "run_id": self._run_id,
            "rows_written": len(self._ids),
            "ids": list(self._ids),
        }
