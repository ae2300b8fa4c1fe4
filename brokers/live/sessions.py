"""The sessions the live clock walks: which days, their bars so far, the backtest's fill of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from feeds.backtest.gapfill import fill_session
from feeds.backtest.gridfeed import DayGrid
from options_scalper.calendar import is_session, next_session, previous_session, session_date

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ns(ts: datetime) -> int:
    """UTC nanoseconds of an aware (or naive UTC) datetime."""
    aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
    return ((aware - _EPOCH) // timedelta(microseconds=1)) * 1000


def session_of(now: datetime) -> date:
    """The session ``now`` belongs to, or the next one when ``now`` is not on a session day."""
    day = session_date(now)
    return day if is_session(day) else next_session(day)


def warmup_sessions(today: date, warmup_days: int) -> list[date]:
    """The ``warmup_days`` sessions before ``today``, oldest first (the backtest's warm-up)."""
    days: list[date] = []
    day = today
    for _ in range(max(0, int(warmup_days))):
        day = previous_session(day)
        days.append(day)
    return days[::-1]


@dataclass
class Session:
    """One session's bars received so far (by start, UTC ns) and how many of its minutes were emitted."""

    grid: DayGrid
    starts: dict[int, tuple[float, ...]]
    emitted: int = 0
    rows: np.ndarray | None = None
    _stale: bool = True

    def fill(self, known: int, prev_close: float) -> np.ndarray:
        """The filled OHLCV rows of the first ``known`` grid minutes."""
        if self.rows is None or len(self.rows) < known or self._stale:
            starts = np.fromiter(self.starts.keys(), dtype=np.int64, count=len(self.starts))
            values = np.array(list(self.starts.values()), dtype=np.float64).reshape(-1, 5)
            self.rows = fill_session(self.grid.ns[:known], starts, values, prev_close).ohlcv
            self._stale = False
        return self.rows


__all__ = ["Session", "session_of", "to_ns", "warmup_sessions"]
