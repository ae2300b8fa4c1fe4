"""The clock's one-bar-per-session-minute rule, shared by the backtest clock and the live clock.

``fill_session(grid_ns, start_ns, values, prev_close)`` places an underlying's
1-minute bars (stamped at their START) on a session's grid of close stamps and
fills every minute without a bar with a flat bar at the previous close:

* a bar starting at t is the grid minute stamped t + 1 minute; bars off the grid
  (pre/post market, odd stamps) are dropped and counted;
* a gap's flat price is the close of the latest real bar before it, else
  ``prev_close`` (the previous session's last close), else, on the very first
  session, the open of the session's first real bar;
* a gap's volume is 0 (no trades), unless none of the session's bars carries a
  volume (an underlying derived from put-call parity): then it is NaN, as unknown
  as every other bar's.

The live clock applies it to the bars received so far on the part of the grid
already known to be complete, so both clocks emit the same bars.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NS_PER_MINUTE = 60_000_000_000


@dataclass(frozen=True)
class FilledSession:
    """(n, 5) OHLCV rows on the grid, which rows were gaps, and how many source bars were off the grid."""

    ohlcv: np.ndarray
    gaps: np.ndarray  # bool, True where the row is a filled (flat) bar
    dropped: int

    @property
    def last_close(self) -> float:
        return float(self.ohlcv[-1, 3]) if len(self.ohlcv) else float("nan")


def fill_session(
    grid_ns: np.ndarray, start_ns: np.ndarray | None, values: np.ndarray | None, prev_close: float
) -> FilledSession:
    """Bars starting at ``start_ns`` (int64 UTC ns) with (k, 5) OHLCV ``values`` on ``grid_ns`` (close stamps)."""
    n = len(grid_ns)
    out = np.full((n, 5), np.nan)
    have = np.zeros(n, dtype=bool)
    dropped = 0
    if start_ns is not None and values is not None and len(start_ns):
        close_ns = np.asarray(start_ns, dtype=np.int64) + NS_PER_MINUTE
        order = np.argsort(close_ns, kind="stable")
        close_ns = close_ns[order]
        values = np.asarray(values, dtype=np.float64)[order]
        idx = np.searchsorted(grid_ns, close_ns)
        on_grid = (idx < n) & (grid_ns[np.minimum(idx, n - 1)] == close_ns) if n else np.zeros(0, bool)
        dropped = int((~on_grid).sum()) if n else len(close_ns)
        if n:
            out[idx[on_grid]] = values[on_grid]
            have[idx[on_grid]] = True
    prev = prev_close
    if np.isnan(prev) and have.any():
        prev = out[np.argmax(have), 0]  # very first day: open of the first real bar
    pos = np.where(have, np.arange(n), -1)
    np.maximum.accumulate(pos, out=pos)
    prev_close_rows = np.where(pos >= 0, out[np.maximum(pos, 0), 3], prev)
    # a gap's flat price is the close of the latest real bar before it
    carry = np.r_[prev, prev_close_rows[:-1]]
    gaps = ~have
    for col in range(4):
        out[gaps, col] = carry[gaps]
    # no trades in a gap minute means volume 0, unless the day's bars carry no volume at
    # all (a parity underlying): then a gap's volume is as unknown as every other bar's
    volume_unknown = bool(have.any()) and not bool(np.isfinite(out[have, 4]).any())
    out[gaps, 4] = np.nan if volume_unknown else 0.0
    return FilledSession(out, gaps, dropped)


__all__ = ["NS_PER_MINUTE", "FilledSession", "fill_session"]
