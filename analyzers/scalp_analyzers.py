"""Backtrader analyzers over closed scalps: thin adapters around the pure modules.

See ``analyzers/__init__.py`` for the ``closed_scalps`` / ``rejections`` protocol.
Every ``get_analysis()`` returns plain JSON values (``inf``/``NaN`` -> ``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import backtrader as bt

from analyzers.criteria import criteria_analysis
from analyzers.equity import BarColumns, DailyEquity, EquityTracker
from analyzers.jsonsafe import to_jsonable
from analyzers.stats import scalp_stats
from options_scalper.model import ScalperError
from options_scalper.records import ClosedScalp
from strategies.bartime import BarTimes


class ScalpProtocolError(ScalperError):
    """The strategy does not expose what the scalp analyzers read."""


class ClosedScalpReader:
    """Take the records a strategy appended to ``closed_scalps`` since the last call."""

    def __init__(self, strategy: Any, analyzer_name: str) -> None:
        records = getattr(strategy, "closed_scalps", None)
        if not isinstance(records, list):
            raise ScalpProtocolError(
                f"{analyzer_name} needs a strategy with a 'closed_scalps' list "
                f"(derive from strategies.base.ScalpStrategyBase); {type(strategy).__name__} has none"
            )
        self._records: list[ClosedScalp] = records
        self._seen = 0

    def take_new(self) -> list[ClosedScalp]:
        new = self._records[self._seen :]
        self._seen = len(self._records)
        return new


def strategy_rejections(strategy: Any) -> dict[str, int]:
    """Return the strategy's rejected-signal counts, most frequent first (``{}`` without any)."""
    counts = getattr(strategy, "rejections", None)
    if not isinstance(counts, Mapping):
        return {}
    return {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))}


def strategy_bar_times(strategy: Any) -> BarTimes:
    """The strategy's own bar-time memo when it has one (one conversion a bar for all), else a new one."""
    times = getattr(strategy, "times", None)
    return times if isinstance(times, BarTimes) else BarTimes()


def bar_time_utc(strategy: Any) -> Any:
    """Return the clock feed's current bar time (naive UTC, Backtrader's storage convention)."""
    return bt.num2date(strategy.datas[0].datetime[0])


def _clock_line(strategy: Any) -> Any:
    """The clock feed's ``datetime`` line buffer (``line[0]`` is the bar's date2num), looked up once."""
    return strategy.datas[0].lines.datetime


class ScalpStats(bt.Analyzer):
    """``scalp_stats`` of the closed scalps, plus ``rejections`` (reason -> count)."""

    def start(self) -> None:
        self._reader: ClosedScalpReader | None = ClosedScalpReader(self.strategy, type(self).__name__)
        self._trades: list[ClosedScalp] = []
        self._analysis: dict[str, Any] = {}

    def notify_trade(self, trade: bt.Trade) -> None:
        if trade.isclosed and self._reader is not None:
            self._trades.extend(self._reader.take_new())

    def stop(self) -> None:
        if self._reader is not None:
            self._trades.extend(self._reader.take_new())
        analysis = scalp_stats(self._trades)
        analysis["rejections"] = strategy_rejections(self.strategy)
        self._analysis = to_jsonable(analysis)
        self._reader, self._trades = None, []  # an optstrategy result carries the analysis only

    def get_analysis(self) -> dict[str, Any]:
        return self._analysis


class EquityCurve(bt.Analyzer):
    """Account value, cash and drawdown per bar; end-of-day equity and P&L per session.

    Params: ``bars`` (keep the per-bar columns; False keeps only daily rows and maxima).
    """

    params = (("bars", True),)

    def start(self) -> None:
        self._tracker = EquityTracker(self.strategy.broker.getvalue(), keep_bars=bool(self.p.bars))
        self._analysis: dict[str, Any] = {}
        self._clock = _clock_line(self.strategy)
        self._times = strategy_bar_times(self.strategy)

    def next(self) -> None:
        broker = self.strategy.broker
        self._tracker.update(self._times.of(self._clock[0]), broker.getvalue(), broker.getcash())

    def stop(self) -> None:
        # the per-bar columns stay runs (BarColumns) until get_analysis() is asked for them: the
        # run itself never holds a Python object per bar; bar_arrays() reads them as numpy arrays
        analysis = self._tracker.as_dict(jsonable_bars=True, lazy_bars=True)
        self._analysis = {k: v if k == "bars" else to_jsonable(v) for k, v in analysis.items()}

    def get_analysis(self) -> dict[str, Any]:
        """The analysis as plain JSON values (the per-bar lists are made on the first call)."""
        bars = self._analysis.get("bars")
        if isinstance(bars, BarColumns):
            self._analysis["bars"] = dict(bars)
        return self._analysis

    def bar_arrays(self) -> dict[str, Any]:
        """The per-bar columns as float64 arrays (``epoch`` seconds UTC, ``value``, ``cash``,
        ``drawdown``, ``drawdown_pct``), without making the lists."""
        return self._tracker.bar_columns().arrays()


class SuccessCriteria(bt.Analyzer):
    """Seed 003's success criteria: ``{"overall": rows, "by_year": {year: rows}}``."""

    def start(self) -> None:
        self._reader: ClosedScalpReader | None = ClosedScalpReader(self.strategy, type(self).__name__)
        self._tracker = DailyEquity(
            self.strategy.broker.getvalue()
        )  # the criteria read end-of-day values only
        self._trades: list[ClosedScalp] = []
        self._analysis: dict[str, Any] = {}
        self._clock = _clock_line(self.strategy)
        self._times = strategy_bar_times(self.strategy)

    def notify_trade(self, trade: bt.Trade) -> None:
        if trade.isclosed and self._reader is not None:
            self._trades.extend(self._reader.take_new())

    def next(self) -> None:
        self._tracker.update(self._times.of(self._clock[0]), self.strategy.broker.getvalue())

    def stop(self) -> None:
        if self._reader is not None:
            self._trades.extend(self._reader.take_new())
        analysis = criteria_analysis(self._trades, self._tracker.daily, self._tracker.initial_value)
        self._analysis = to_jsonable(analysis)
        self._reader, self._trades = None, []

    def get_analysis(self) -> dict[str, Any]:
        return self._analysis
