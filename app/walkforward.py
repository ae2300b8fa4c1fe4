"""``--walk-forward train=6M,test=1M``: re-optimise on each training window, trade the next test window.

Windows roll over the run's trading sessions: ``NM`` is N calendar months,
``ND`` N trading sessions (``train=60D,test=20D``). The first training window
starts at the first session; each test window is the sessions right after its
training window; the next window starts one test length later (the last test
window may be cut short by the data). On each training window the ``--optimize``
search (grid, random or Optuna, on the chosen engine) runs over the training
sessions only (warm-up sessions before them, nothing after), the best row by
``--sort-by`` wins, and one backtest with the winner's params trades the test
window (its warm-up sessions come from the training window: they are the past).
Each test window starts with ``--cash``; the stitched out-of-sample equity chains
their P&L. Outputs: ``app.walkforward_report``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from app.backtest import BadInput, Prepared, RunFailed, build, one_line
from app.data import trading_sessions
from app.grid import GridAxis
from app.sweep_results import result_row
from options_scalper.model import ScalperError

_LENGTH = re.compile(r"^\s*(\d+)\s*([MmDd])\s*$")


@dataclass(frozen=True)
class Length:
    count: int
    unit: str  # "M" calendar months, "D" trading sessions

    def text(self) -> str:
        return f"{self.count}{self.unit}"


@dataclass(frozen=True)
class WalkSpec:
    train: Length
    test: Length

    def text(self) -> str:
        return f"train={self.train.text()},test={self.test.text()}"


@dataclass(frozen=True)
class Window:
    index: int  # 1-based
    train: tuple[date, ...]
    test: tuple[date, ...]


def parse_spec(text: str) -> WalkSpec:
    """``train=6M,test=1M`` or ``train=60D,test=20D`` (M: calendar months, D: trading sessions)."""
    parts: dict[str, Length] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        match = _LENGTH.match(value)
        if not sep or key not in ("train", "test") or key in parts or match is None or int(match[1]) < 1:
            raise BadInput(
                f"--walk-forward {text!r}: use train=<N>M,test=<N>M (calendar months) or "
                "train=<N>D,test=<N>D (trading sessions), e.g. train=6M,test=1M"
            )
        parts[key] = Length(int(match[1]), match[2].upper())
    if set(parts) != {"train", "test"}:
        raise BadInput(f"--walk-forward {text!r}: give both train= and test=, e.g. train=6M,test=1M")
    return WalkSpec(parts["train"], parts["test"])


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _take(sessions: Sequence[date], begin: int, length: Length) -> int:
    """The index just past ``length`` counted from ``sessions[begin]``."""
    if length.unit == "D":
        return min(len(sessions), begin + length.count)
    limit = add_months(sessions[begin], length.count)
    end = begin
    while end < len(sessions) and sessions[end] < limit:
        end += 1
    return end


def windows(sessions: Sequence[date], spec: WalkSpec) -> list[Window]:
    """The rolling (train, test) windows over ``sessions``; a window needs at least one test session."""
    out: list[Window] = []
    begin = 0
    while begin < len(sessions):
        train_end = _take(sessions, begin, spec.train)
        if train_end >= len(sessions):
            break
        test_end = _take(sessions, train_end, spec.test)
        out.append(
            Window(len(out) + 1, tuple(sessions[begin:train_end]), tuple(sessions[train_end:test_end]))
        )
        begin = _take(sessions, begin, spec.test)
    return out


def session_list(prep: Prepared) -> list[date]:
    """The trading sessions of the prepared range, every symbol's together."""
    _, trading = trading_sessions(prep.catalog, prep.symbols, prep.start, prep.end, 0)
    return sorted({d for days in trading.values() for d in days})


def plan_windows(prep: Prepared, spec: WalkSpec) -> list[Window]:
    sessions = session_list(prep)
    found = windows(sessions, spec)
    if not found:
        raise BadInput(
            f"--walk-forward {spec.text()}: {prep.start}..{prep.end} holds {len(sessions)} session(s), "
            "not one training window and a test session after it; use shorter windows or a longer range"
        )
    return found


def window_prep(prep: Prepared, days: Sequence[date]) -> Prepared:
    """``prep`` narrowed to ``days[0]..days[-1]`` (warm-up sessions before it are streamed, as always)."""
    lo, hi = days[0], days[-1]
    req = replace(prep.request, start=lo, end=hi)
    return replace(prep, request=req, start=lo, end=hi, sessions=len(days) + req.warmup_days)


@dataclass
class TestRun:
    """The test window's backtest with the winner's params."""

    row: dict[str, Any]
    trades: list[Any]
    daily: dict[date, float]  # session -> end-of-day account value, test sessions only


def run_test_window(prep: Prepared, winner: dict[str, Any], axes: Sequence[GridAxis]) -> TestRun:
    """Backtest ``prep`` (a test window) with ``winner`` on top of the ``--param`` values."""
    from analyzers.equity import daily_equity_map

    params = {**prep.params, **winner}
    cerebro = build(prep, params, journal_url=None, progress=False, equity_bars=False, criteria=False)
    try:
        strat = cerebro.run()[0]
    except ScalperError as exc:
        raise RunFailed(
            f"walk-forward test window {prep.start}..{prep.end} stopped: {one_line(exc)}"
        ) from exc
    daily = daily_equity_map(strat.analyzers.equity.get_analysis())
    inside = {d: v for d, v in daily.items() if prep.start <= d <= prep.end}
    return TestRun(row=result_row(strat, axes), trades=list(strat.closed_scalps), daily=inside)
