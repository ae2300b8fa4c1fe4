"""Bar times for strategies and analyzers: Backtrader date numbers as aware UTC datetimes, session closes.

Every venue's clock stamps a bar at its close in naive UTC (Backtrader's own
numbers); decisions need aware UTC datetimes and the session's close. Both are
memoised per object (one per strategy, which its analyzers share), never in module globals.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import backtrader as bt

from options_scalper.calendar import session_date, session_open_close

_MEMO_MAX = 8192


class BarTimes:
    """Aware UTC datetimes of Backtrader date numbers (bar stamps), memoised."""

    def __init__(self) -> None:
        self._memo: dict[float, datetime] = {}

    def of(self, num: float) -> datetime:
        """Aware UTC datetime of Backtrader date number ``num``."""
        hit = self._memo.get(num)
        if hit is None:
            hit = bt.num2date(num).replace(tzinfo=UTC)
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()
            self._memo[num] = hit
        return hit

    def bar(self, data: Any, ago: int = 0) -> datetime:
        """The stamp (close) of ``data``'s bar ``ago`` bars back, aware UTC."""
        return self.of(data.datetime[-ago] if ago else data.datetime[0])


class SessionClock:
    """Open and close (aware UTC) of the session an instant belongs to; one calendar call per session."""

    def __init__(self) -> None:
        self._last: tuple[datetime, datetime] | None = None

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """(open, close) of the session of ``now`` (aware UTC); ``CalendarError`` off-session."""
        last = self._last
        if last is not None and last[0] <= now <= last[1]:
            return last
        open_, close = session_open_close(session_date(now))
        last = self._last = (open_.astimezone(UTC), close.astimezone(UTC))
        return last

    def close(self, now: datetime) -> datetime:
        """The close of ``now``'s session (aware UTC)."""
        return self.bounds(now)[1]
