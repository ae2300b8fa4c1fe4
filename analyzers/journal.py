"""``JournalRecorder``: the Backtrader analyzer that journals each scalp as it closes.

Reads ``strategy.closed_scalps`` by the protocol in ``analyzers/__init__.py``.
"""

from __future__ import annotations

from typing import Any

import backtrader as bt

from analyzers.scalp_analyzers import ClosedScalpReader
from journal.errors import JournalError, mask_url
from journal.writer import JournalWriter


class JournalRecorder(bt.Analyzer):
    """Write every closed scalp to the journal at ``url`` as soon as it closes.

    Params: ``url`` (SQLAlchemy URL, e.g. ``journal.writer.default_url(out_dir)``).
    """

    params = (("url", ""),)

    def start(self) -> None:
        if not self.p.url:
            raise JournalError(
                "JournalRecorder needs a database url, e.g. url='sqlite:///out/journal.sqlite'"
            )
        self._reader: ClosedScalpReader | None = ClosedScalpReader(self.strategy, type(self).__name__)
        self._writer: JournalWriter | None = JournalWriter(str(self.p.url))
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
        finally:
            if self._writer is not None:
                self._writer.close()
            # an optstrategy result is pickled: keep no engine or strategy data
            self._reader, self._writer = None, None

    def get_analysis(self) -> dict[str, Any]:
        return {"url": mask_url(str(self.p.url)), "rows_written": len(self._ids), "ids": list(self._ids)}
