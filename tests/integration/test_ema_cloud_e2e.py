"""EmaCloudScalp end to end on the bundled sample: ingest -> Cerebro -> analyzers -> report.

The sample (``feeds.synthetic.ensure_sample``: SPY and TSLA, ten sessions) is
ingested into a temporary catalog; the run trades the eight sessions after two
warmup sessions, both symbols, with two documented overrides of PRD-136's
defaults (with the defaults the sample gives 4 trades in 8 sessions):

* ``max_theta_burn_pct=1.0``: PRD-136's 5 %/day theta-burn limit is below the
  burn of every 1DTE contract (20-70 % a day on the sample), so with it no
  1DTE scalp can ever open, not even after the 0DTE cutoff;
* ``fill_timeout_seconds=300``: the limit at mid + $0.02 may wait five bars
  instead of one (15 s rounds up to one bar on 1-minute quotes).
"""

from __future__ import annotations

import math
from datetime import date, time, timedelta
from typing import Any

import pytest

from analyzers.report import build_report
from analyzers.scalp_analyzers import EquityCurve, ScalpStats, SuccessCriteria
from app.cerebro import build_cerebro
from feeds.catalog import Catalog
from feeds.synthetic import sample
from options_scalper.calendar import ET, cutoff_utc
from options_scalper.model import ExitReason
from strategies.ema_cloud import EmaCloudScalp

CASH = 100_000.0
SYMBOLS = ["SPY", "TSLA"]
FIRST_TRADING_DAY = date(2024, 10, 30)  # 10-28 and 10-29 warm the 10-minute EMA(50) up
OVERRIDES: dict[str, Any] = {"max_theta_burn_pct": 1.0, "fill_timeout_seconds": 300}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    src = sample.ensure_sample(progress=False)
    cat = Catalog(tmp_path_factory.mktemp("ema_cloud_e2e") / "catalog")
    summary = cat.ingest(src, symbols=SYMBOLS, progress=False)
    assert summary.failed == 0 and summary.ingested == 2 * len(sample.SAMPLE_SESSIONS)
    return cat


@pytest.fixture(scope="module")
def result(catalog: Catalog) -> tuple[EmaCloudScalp, dict, float]:
    cer = build_cerebro(
        EmaCloudScalp,
        str(catalog.root),
        SYMBOLS,
        fromdate=FIRST_TRADING_DAY,
        cash=CASH,
        warmup_days=2,
        **OVERRIDES,
    )
    cer.addanalyzer(ScalpStats, _name="scalp_stats")
    cer.addanalyzer(EquityCurve, _name="equity", bars=False)
    cer.addanalyzer(SuccessCriteria, _name="criteria")
    strat = cer.run()[0]
    an = strat.analyzers
    report = build_report(
        an.scalp_stats.get_analysis(),
        an.equity.get_analysis(),
        an.criteria.get_analysis(),
        strat.rejections,
        [],
        {"strategy": "ema_cloud", "params": OVERRIDES},
    )
    return strat, report, float(cer.broker.getvalue())


def test_sample_run_trades_and_the_report_adds_up(result):
    strat, report, final_value = result
    trades = strat.closed_scalps
    n = report["total_trades"]
    assert n == len(trades) >= 8
    assert report["winning_trades"] + report["losing_trades"] == n
    assert sum(report["exit_breakdown"].values()) == n
    by_formula = sum((t.exit_premium - t.entry_premium) * 100 * t.contracts - t.commission for t in trades)
    assert report["total_pnl"] == pytest.approx(by_formula, abs=1e-6)
    assert not strat.scalps  # flat at the end
    assert final_value - CASH == pytest.approx(report["total_pnl"], abs=1e-6)
    assert report["end_value"] - report["initial_value"] == pytest.approx(report["total_pnl"], abs=1e-6)
    wins = [t.pnl for t in trades if t.pnl > 0]
    losses = [-t.pnl for t in trades if t.pnl <= 0]
    if losses and sum(losses) > 0:
        assert report["profit_factor"] == pytest.approx(sum(wins) / sum(losses))


def test_sample_trades_follow_the_prd_rules(result):
    strat, report, _ = result
    reasons = {r.value for r in ExitReason}
    assert report["rejections"] == dict(strat.rejections)
    assert strat.signal_counts["signals"] > len(strat.closed_scalps)
    assert strat.rejections["volume_not_confirmed"] > 0
    for t in strat.closed_scalps:
        assert t.exit_reason in reasons
        assert t.conviction >= 50 and t.dte in (0, 1) and t.contracts >= 1
        assert t.commission == pytest.approx(2 * 0.65 * t.contracts)
        entry_et = t.entry_time.astimezone(ET)
        day = entry_et.date()
        assert entry_et.time() > time(9, 35)  # decided at or after 09:35, filled on a later bar
        cutoff = cutoff_utc(day, time(14, 0) if t.dte == 0 else time(15, 30))  # half-day shifted
        assert t.exit_time <= cutoff + timedelta(minutes=1)  # decided on the cutoff bar, sold on the next
        assert math.isfinite(t.entry_premium) and math.isfinite(t.exit_premium)
