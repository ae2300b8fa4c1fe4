"""``FlakyProbe``: ``ProbeScalp`` that fails on purpose, to prove a sweep engine retries and reports failures.

``crash``: 0 runs normally; 1 fails the first time it starts (it leaves a marker file
in ``marker_dir``) and runs normally the next time; 2 fails every time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.probe import ProbeScalp


class FlakyProbe(ProbeScalp):
    params: Any = (("crash", 0), ("marker_dir", ""))

    def __init__(self) -> None:
        if self.p.crash == 2:
            raise RuntimeError("FlakyProbe crash=2 fails every time")
        if self.p.crash == 1:
            marker = Path(self.p.marker_dir) / "flaky-crashed-once"
            if not marker.exists():
                marker.write_text("crashed once")
                raise RuntimeError("FlakyProbe crash=1 fails the first time")
        super().__init__()
