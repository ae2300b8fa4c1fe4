"""Memory flat in the number of days: a long generated run holds as much per-bar state on its last day as on its
second (the bounded feeds' line buffers, the equity curve's time column), whatever it traded."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import backtrader as bt
import pytest

from analyzers.equity import BarColumns
from analyzers.scalp_analyzers import EquityCurve
from app.cerebro import build_cerebro
from feeds.backtest.clock import CONTRACT_KEEP_BARS, UnderlyingFeed
from feeds.backtest.contracts import ContractFeed
from options_scalper.calendar import sessions_between
from tests.support.memory_catalog import MemoryCatalog, synthetic_day
from tests.support.probe import ProbeScalp
from tests.support.scalpers import FixedScalper

DAYS = tuple(sessions_between(date(2024, 3, 1), date(2024, 4, 12)))  # 30 sessions
CLOCK_KEEP_BARS = 390


class Trading(ProbeScalp):
    def build_scalper(self) -> Any:
        return FixedScalper(order_type="ask", limit_offset=0.02)


class DayState(bt.Analyzer):
    """At each session's first bar: what the feeds and the equity curve hold (counts, never bytes)."""

    def start(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._day: date | None = None

    def next(self) -> None:
        clock = self.strategy.datas[0]
        if clock.current_day == self._day:
            return
        self._day = clock.current_day
        tracker = self.strategy.analyzers.equity._tracker
        self.rows.append(
            {
                "bars": len(clock),
                "clock": [len(line.array) for line in clock.lines],
                "contracts": [
                    len(line.array)
                    for d in self.strategy.datas
                    if isinstance(d, ContractFeed)
                    for line in d.lines
                ],
                "epoch_runs": tracker.bars["epoch"].stored_values() // 3,
                "trades": len(self.strategy.closed_scalps),
                "backtrader_orders": _backtrader_history(self.strategy),
            }
        )

    def get_analysis(self) -> dict[str, Any]:
        return {"rows": self.rows}


def _backtrader_history(strategy: Any) -> tuple[int, int, int, int]:
    """What Backtrader itself keeps of orders and trades (btcompat.history lets finished ones go)."""
    broker = strategy.broker
    trades = sum(len(ts) for by_id in strategy._trades.values() for ts in by_id.values())
    return len(strategy._orders), len(broker.orders), len(broker._pchildren), trades


@pytest.fixture(scope="module")
def state() -> list[dict[str, Any]]:
    cat = MemoryCatalog()
    for d in DAYS:
        bars, quotes = synthetic_day(
            "SPY", d, strikes=(99.0, 100.0, 101.0), expiries=(d,), seed=d.toordinal()
        )
        cat.add_day("SPY", d, bars, quotes)
    cer = build_cerebro(Trading, cat, ["SPY"], fromdate=DAYS[1], warmup_days=1, cash=50_000.0)
    clock = next(d for d in cer.datas if isinstance(d, UnderlyingFeed))
    clock.p.keep_bars = CLOCK_KEEP_BARS  # opt-in for the clock (cerebro.plot needs every bar)
    cer.addanalyzer(EquityCurve, _name="equity")
    cer.addanalyzer(DayState, _name="state")
    strat = cer.run()[0]
    rows: list[dict[str, Any]] = strat.analyzers.state.get_analysis()["rows"]
    assert len(rows) == len(DAYS)
    assert len(strat.closed_scalps) > len(DAYS)  # the run traded (and bound contract feeds) every day
    return rows


def test_bounded_feed_buffers_hold_the_same_values_on_the_last_day_as_on_the_second(
    state: list[dict[str, Any]],
) -> None:
    second, last = state[1], state[-1]
    assert last["bars"] > 25 * second["bars"]  # the run went on ...
    assert last["clock"] == second["clock"] == [CLOCK_KEEP_BARS] * 7  # ... the buffers did not
    assert last["contracts"] == second["contracts"] == [CONTRACT_KEEP_BARS] * 3 * 12


def test_per_day_state_counts_stay_flat_from_day_to_day(state: list[dict[str, Any]]) -> None:
    buffers = {(tuple(r["clock"]), tuple(r["contracts"])) for r in state[1:]}
    assert len(buffers) == 1
    epoch_runs_per_day = {b["epoch_runs"] - a["epoch_runs"] for a, b in itertools.pairwise(state)}
    assert epoch_runs_per_day == {1}  # the equity curve's times: one run a session, not 390 values
    assert state[-1]["trades"] > state[1]["trades"]


def test_backtraders_record_of_finished_orders_and_trades_does_not_grow_with_the_days(
    state: list[dict[str, Any]],
) -> None:
    # without btcompat.history each list grows by every order of every session
    trades_before = [r["trades"] for r in state]
    assert trades_before[-1] - trades_before[1] > 2 * len(DAYS)  # many orders came and went ...
    held = {r["backtrader_orders"] for r in state[1:]}
    assert max(max(h) for h in held) <= 3  # ... what is held is the current trade per contract feed


def _indicator_values(strategy: Any) -> int:
    """Values held by the line buffers of every indicator of ``strategy`` (nested ones included)."""
    stack = [it for its in strategy._lineiterators.values() for it in its]
    held = 0
    while stack:
        it = stack.pop()
        held += sum(len(line.array) for line in it.lines)
        stack.extend(x for xs in getattr(it, "_lineiterators", {}).values() for x in xs)
    return held


class IndicatorState(bt.Analyzer):
    """At each session's first bar: the values the strategy's indicators hold."""

    def start(self) -> None:
        self.rows: list[int] = []
        self._day: date | None = None

    def next(self) -> None:
        clock = self.strategy.datas[0]
        if clock.current_day != self._day:
            self._day = clock.current_day
            self.rows.append(_indicator_values(self.strategy))

    def get_analysis(self) -> dict[str, Any]:
        return {"rows": self.rows}


@pytest.mark.parametrize("strategy", ["ema_cloud", "momentum_burst"])
def test_the_shipped_strategies_indicators_hold_as_much_on_the_last_day_as_on_the_third(
    strategy: str,
) -> None:
    from strategies.ema_cloud import EmaCloudScalp
    from strategies.momentum_burst import MomentumBurstScalp

    cls = {"ema_cloud": EmaCloudScalp, "momentum_burst": MomentumBurstScalp}[strategy]
    cat = MemoryCatalog()
    days = DAYS[:8]
    for d in days:
        bars, quotes = synthetic_day("SPY", d, strikes=(100.0,), expiries=(d,), seed=d.toordinal())
        cat.add_day("SPY", d, bars, quotes)
    # what a run that is not plotted uses (app.backtest.build): bounded clock, exactbars=-1
    cer = build_cerebro(cls, cat, ["SPY"], fromdate=days[1], warmup_days=1, clock_keep_bars=390, exactbars=-1)
    cer.addanalyzer(IndicatorState, _name="state")
    strat = cer.run()[0]
    rows = strat.analyzers.state.get_analysis()["rows"]
    assert len(rows) == len(days) and len(strat.books["SPY"].clock) == 390 * len(days)
    assert rows[-1] == rows[2] > 0  # the macro cloud has filled its buffers by the third session


def _equity_run(writer: bool) -> Any:
    cat = MemoryCatalog()
    days = DAYS[:3]
    for d in days:
        bars, quotes = synthetic_day("SPY", d, strikes=(100.0,), expiries=(d,), seed=d.toordinal())
        cat.add_day("SPY", d, bars, quotes)
    cer = build_cerebro(Trading, cat, ["SPY"], fromdate=days[1], warmup_days=1, cash=50_000.0)
    cer.addanalyzer(EquityCurve, _name="equity")
    if writer:
        cer.addwriter(bt.WriterStringIO)
    return cer.run()[0].analyzers.equity


def test_a_run_without_writers_never_makes_the_equity_curves_per_bar_lists() -> None:
    # Backtrader's stop_writers asks every analyzer for its analysis even with no writer; the
    # product's Cerebro does not, so the per-bar columns stay runs until the report asks
    equity = _equity_run(writer=False)
    assert isinstance(equity._analysis["bars"], BarColumns)
    bars = equity.get_analysis()["bars"]  # the report's call makes them, as before
    assert isinstance(bars, dict) and len(bars["value"]) == 3 * 390  # the warm-up session and two more


def test_a_run_with_a_writer_still_gets_backtraders_summary() -> None:
    equity = _equity_run(writer=True)
    assert isinstance(equity._analysis["bars"], dict)  # made by the writer summary's get_analysis()
    assert len(equity._analysis["bars"]["value"]) == 3 * 390
