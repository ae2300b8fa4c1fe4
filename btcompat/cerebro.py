"""Cerebro without the writer summary nobody asked for: the one place that overrides ``Cerebro``.

Depends on Backtrader 1.9.78.123 (``setup.cfg`` pins it): at the end of every run
``Cerebro.runstrategies`` calls ``stop_writers(runstrats)``, which builds the writers'
summary (``data.getwriterinfo()``, ``strategy.getwriterinfo()``: that calls every
analyzer's ``get_analysis()``) *before* looking at whether any writer exists, then
hands it to ``self.runwriters``. With no writer the summary is thrown away, but making
it has already turned the equity analysis' per-bar columns into Python lists: five lists
of a float per bar, ~60 MB at 1,000 days, the peak of a long run. ``ScalpCerebro`` skips
the summary when there is no writer and builds it exactly as Backtrader does otherwise
(``cerebro.addwriter`` / ``writer=True`` still work). ``tests/integration/test_memory_bound.py``
proves the per-bar lists are not made by a run, and that a run with a writer gets them.
"""

from __future__ import annotations

from typing import Any

import backtrader as bt

__all__ = ["ScalpCerebro"]


class ScalpCerebro(bt.Cerebro):
    """``bt.Cerebro`` whose run does not summarise for writers when there are none."""

    def stop_writers(self, runstrats: Any) -> None:
        if not self.runwriters:
            return
        super().stop_writers(runstrats)
