"""``SplitJournalRecorder``: the journal recorder that also writes the run's ``--split`` on its ``runs`` row."""

from __future__ import annotations

from analyzers.journal import JournalRecorder


class SplitJournalRecorder(JournalRecorder):
    """``JournalRecorder`` plus ``split`` (``""``: no ``--split``), stored in ``runs.split``."""

    params = (("split", ""),)  # type: ignore[assignment]  # Backtrader merges it with the base params

    def start(self) -> None:
        super().start()
        if self.p.split and self._writer is not None:
            self._writer.set_split(str(self.p.split))
