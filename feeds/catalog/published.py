"""Statistics as they were known at each instant of the day: values count from their publication on."""

from __future__ import annotations

import bisect

import numpy as np
import pandas as pd


def _take(values: np.ndarray, codes: np.ndarray, missing: object) -> np.ndarray:
    """``values[codes]`` with ``missing`` where the code is -1 (a null in the source)."""
    if codes.size and codes.min() < 0:
        values = np.append(values, np.array([missing], dtype=values.dtype))
    return values[codes]


class Publications:
    """Open interest and volume as they were known at each instant of the day (no look-ahead).

    The catalog's statistics rows carry ``published`` (DataBento's ``ts_recv``): a
    value counts from its publication on. Open interest published before the open
    (the previous session's) is in force all day; a figure published later in the
    day only from then; one published after the close never reaches the session.
    """

    def __init__(self, frame: pd.DataFrame, code_of: dict[str, int]) -> None:
        n_codes = len(code_of)
        ts = pd.to_datetime(frame["published"], utc=True).dt.tz_localize(None)
        published = ts.to_numpy("datetime64[ns]").astype(np.int64)
        order = np.argsort(published, kind="stable")
        codes = np.array([code_of.get(str(s), -1) for s in frame["symbol"].to_numpy()], dtype=np.int64)[order]
        published = published[order]
        values = {
            name: pd.to_numeric(frame[name], errors="coerce").to_numpy(np.float64)[order]
            for name in ("open_interest", "volume")
            if name in frame.columns
        }
        current = {name: np.full(n_codes, np.nan) for name in ("open_interest", "volume")}
        self.times: list[int] = []
        self.states: list[dict[str, np.ndarray]] = []
        for at in np.unique(published).tolist():
            rows = (published == at) & (codes >= 0)
            for name, column in values.items():
                hit = rows & np.isfinite(column)
                current[name][codes[hit]] = column[hit]
            self.times.append(int(at))
            self.states.append({k: v.copy() for k, v in current.items()})
        last = self.states[-1] if self.states else current
        self.ever_known = (
            bool(np.isfinite(last["open_interest"]).any()),
            bool(np.isfinite(last["volume"]).any()),
        )

    def at(self, t_ns: int, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, bool]:
        """(open interest, volume) of the rows with symbol ``codes`` as known at ``t_ns``, and whether known."""
        k = bisect.bisect_right(self.times, t_ns) - 1
        if k < 0:
            nan = np.full(codes.shape[0], np.nan)
            return nan, nan.copy(), False, False
        state = self.states[k]
        oi = _take(state["open_interest"], codes, np.nan)
        vol = _take(state["volume"], codes, np.nan)
        return (
            oi.astype(np.float64),
            vol.astype(np.float64),
            bool(np.isfinite(state["open_interest"]).any()),
            bool(np.isfinite(state["volume"]).any()),
        )
