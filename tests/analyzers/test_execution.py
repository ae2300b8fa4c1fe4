"""Execution cost from hand-built scalps: thresholds vs realised P&L, entry slippage, depth-limited fills."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from analyzers.execution import (
    UNKNOWN_THRESHOLDS,
    ExitThresholds,
    entry_slippage_pct,
    execution_cost,
    exit_thresholds,
    percentile,
)
from analyzers.report import build_report, render_console, write_report_json
from options_scalper.config import MomentumConfig, ScalpConfig
from options_scalper.records import ClosedScalp

COMMISSION = 1.30  # one contract in and out at $0.65
MOMENTUM = ExitThresholds(take_profit_pct=0.30, stop_loss_pct=0.15, source="test")


def scalp(n: int, reason: str, entry: float, exit_: float, **metadata: Any) -> ClosedScalp:
    """One contract; pnl and pnl_pct computed the way trades.csv has them (net of commission)."""
    t0 = datetime(2024, 11, 4, 15, 0, tzinfo=UTC) + timedelta(minutes=20 * n)
    pnl = (exit_ - entry) * 100 - COMMISSION
    return ClosedScalp(
        signal_id=f"sig-{n}", ticker="TSLA", option_symbol="TSLA  241104C00250000", option_type="call",
        strike=250.0, expiry=date(2024, 11, 4), dte=0, direction="long_call", contracts=1,
        entry_premium=entry, exit_premium=exit_, entry_delta=0.4, entry_theta=-0.5, entry_iv=0.6,
        exit_reason=reason, pnl=pnl, pnl_pct=pnl / (entry * 100), entry_time=t0,
        exit_time=t0 + timedelta(minutes=6), commission=COMMISSION, conviction=70, metadata=metadata,
    )  # fmt: skip


TRADES = [
    scalp(0, "stop_loss", 1.00, 0.80, decision_ask=0.95, depth_limited=False),  # pnl -21.30, -21.3 %
    scalp(1, "stop_loss", 2.00, 1.10, decision_ask=2.00, depth_limited=True),  # pnl -91.30, -45.65 %
    scalp(2, "take_profit", 1.00, 1.50, decision_ask=0.50, depth_limited=False),  # pnl +48.70, +48.7 %
    scalp(3, "time_exit", 4.00, 4.20),  # pnl +18.70, +4.675 %; records neither key
]


def test_stop_and_target_realised_vs_threshold_per_exit_reason() -> None:
    rows = execution_cost(TRADES, MOMENTUM)["by_exit_reason"]
    assert list(rows) == ["take_profit", "stop_loss", "time_exit"]  # ExitReason order
    stop = rows["stop_loss"]
    assert (stop["trades"], stop["threshold_pct"]) == (2, -0.15)
    assert stop["pnl_pct"] == pytest.approx(
        {"mean": (-0.213 - 0.4565) / 2, "median": (-0.213 - 0.4565) / 2, "worst": -0.4565, "best": -0.213}
    )
    assert stop["premium_move_pct"]["mean"] == pytest.approx((-0.20 - 0.45) / 2)
    assert stop["mean_move_past_threshold_pct"] == pytest.approx(-0.325 + 0.15)  # 17.5 points past the stop
    target = rows["take_profit"]
    assert (target["trades"], target["threshold_pct"]) == (1, 0.30)
    assert target["pnl_pct"]["mean"] == pytest.approx(0.487)
    assert target["premium_move_pct"]["mean"] == pytest.approx(0.50)
    assert (
        rows["time_exit"]["threshold_pct"] is None
        and rows["time_exit"]["mean_move_past_threshold_pct"] is None
    )


def test_entry_slippage_distribution_against_the_decision_ask() -> None:
    slip = execution_cost(TRADES, MOMENTUM)["entry_slippage"]
    per_trade = [0.05 / 0.95, 0.0, 1.0]  # (entry - ask) / ask of the three scalps that know their ask
    assert (slip["trades"], slip["known"], slip["unknown"]) == (4, 3, 1)
    assert slip["mean"] == pytest.approx(sum(per_trade) / 3)
    assert slip["median"] == pytest.approx(0.05 / 0.95)
    assert slip["p90"] == pytest.approx(0.05 / 0.95 + (1.0 - 0.05 / 0.95) * 0.8)
    assert slip["max"] == pytest.approx(1.0)
    assert (slip["alert_pct"], slip["above_alert"]) == (0.05, 2)  # +5.26 % and +100 %; 0 % is inside
    assert [w["signal_id"] for w in slip["worst_entries"]] == ["sig-2", "sig-0", "sig-1"]
    assert slip["worst_entries"][0] | {"entry_time": None} == {
        "signal_id": "sig-2",
        "option_symbol": "TSLA  241104C00250000",
        "entry_time": None,
        "decision_ask": 0.50,
        "entry_premium": 1.00,
        "slippage_pct": pytest.approx(1.0),
    }


def test_depth_limited_share_counts_only_scalps_that_say() -> None:
    depth = execution_cost(TRADES, MOMENTUM)["depth_limited"]
    assert depth == {"trades": 4, "known": 3, "unknown": 1, "depth_limited": 1, "share": pytest.approx(1 / 3)}


def test_missing_keys_are_unknown_never_zero() -> None:
    cost = execution_cost([scalp(0, "stop_loss", 1.0, 0.8), scalp(1, "take_profit", 1.0, 1.4)], MOMENTUM)
    slip, depth = cost["entry_slippage"], cost["depth_limited"]
    assert (slip["known"], slip["mean"], slip["p90"], slip["max"], slip["above_alert"]) == (
        0,
        None,
        None,
        None,
        0,
    )
    assert (depth["known"], depth["share"]) == (0, None)
    assert any("'decision_ask'" in n and "2 of 2" in n for n in cost["notes"])
    assert any("'depth_limited'" in n for n in cost["notes"])


@pytest.mark.parametrize("ask", [0, -1.0, float("nan"), float("inf"), "0.95", True, None])
def test_an_unusable_decision_ask_is_unknown(ask: Any) -> None:
    assert entry_slippage_pct(scalp(0, "stop_loss", 1.0, 0.8, decision_ask=ask)) is None


def test_a_depth_flag_that_is_not_a_bool_is_unknown() -> None:
    cost = execution_cost([scalp(0, "stop_loss", 1.0, 0.8, depth_limited="yes")], MOMENTUM)
    assert cost["depth_limited"]["known"] == 0


def test_no_trades_give_empty_figures_and_a_note() -> None:
    cost = execution_cost([], MOMENTUM)
    assert cost["by_exit_reason"] == {} and cost["entry_slippage"]["mean"] is None
    assert cost["notes"] == ["no closed scalps: nothing to measure"]


def test_percentile_matches_numpy_linear_interpolation() -> None:
    rng = random.Random(11)
    for n in (1, 2, 3, 10, 97):
        values = [rng.uniform(-1, 4) for _ in range(n)]
        for q in (0.0, 0.5, 0.9, 1.0):
            assert percentile(values, q) == pytest.approx(float(np.percentile(values, 100 * q)))
    assert percentile([], 0.9) is None


# ------------------------------------------------------------------ thresholds from the run's params


def test_thresholds_merge_run_params_over_the_momentum_defaults() -> None:
    th = exit_thresholds(MomentumConfig, {"take_profit_pct": 0.4, "cap_to_size": False})  # a venue param
    assert (th.take_profit_pct, th.stop_loss_pct) == (0.4, 0.15)
    assert th.source == "run params over MomentumConfig defaults"


def test_thresholds_of_the_ema_cloud_config_are_its_target_and_max_loss() -> None:
    from strategies.ema_cloud.config import EmaCloudConfig

    assert exit_thresholds(EmaCloudConfig, {}) == ExitThresholds(
        0.25, 0.50, 0.05, "run params over EmaCloudConfig defaults"
    )
    th = exit_thresholds(EmaCloudConfig, {"max_loss_pct": 0.3, "profit_target_pct": 0.6})
    assert (th.take_profit_pct, th.stop_loss_pct) == (0.6, 0.3)


def test_a_profile_reaches_the_thresholds_through_the_resolved_params() -> None:
    from strategies import registry

    cls = registry.load_strategy("momentum_burst")
    params = registry.resolve_params("momentum_burst", cls, [], profile="conservative")
    th = exit_thresholds(registry.load_config_class("momentum_burst"), params)
    assert (th.take_profit_pct, th.stop_loss_pct) == (0.25, 0.10)


def test_thresholds_unknown_without_a_usable_config() -> None:
    class NoRules:
        pass

    assert exit_thresholds(None, {}) == UNKNOWN_THRESHOLDS
    assert exit_thresholds(NoRules, {}) == UNKNOWN_THRESHOLDS
    assert exit_thresholds(ScalpConfig, {"max_loss_pct": 7.0}) == UNKNOWN_THRESHOLDS  # refused by the config


def test_the_module_imports_no_backtrader() -> None:
    code = "import sys, analyzers.execution; sys.exit('backtrader' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# ------------------------------------------------------------------ report.json and console


def _report(trades: list[ClosedScalp], thresholds: ExitThresholds) -> dict[str, Any]:
    cost = execution_cost(trades, thresholds)
    return build_report({}, {}, [], {}, [], {"strategy": "momentum_burst"}, execution_cost=cost)


def test_report_json_carries_the_section_in_snake_case(tmp_path) -> None:
    path = write_report_json(_report(TRADES, MOMENTUM), tmp_path / "report.json")
    cost = json.loads(path.read_text())["execution_cost"]
    assert set(cost) == {"thresholds", "by_exit_reason", "entry_slippage", "depth_limited", "notes"}
    assert cost["by_exit_reason"]["stop_loss"]["pnl_pct"]["mean"] == pytest.approx(-0.33475)


def test_console_shows_threshold_vs_realised_slippage_and_depth() -> None:
    text = render_console(_report(TRADES, MOMENTUM))
    section = text[text.index("Execution cost") :].split("\n\n")[0]
    stop_row = next(line for line in section.splitlines() if line.strip().startswith("stop_loss"))
    assert stop_row.split() == ["stop_loss", "2", "-15.0%", "-33.5%", "-33.5%", "-45.6%", "-32.5%"]
    assert (
        "Entry vs decision ask (3 of 4 scalps): mean +35.1%, median +5.3%, p90 +81.1%, max +100.0%" in section
    )
    assert "2 above 5%" in section
    assert "Depth-limited fills: 1 of 3 scalps (33.3%)" in section
    assert "1 scalp(s) without a decision ask" in section


def test_console_says_unknown_when_no_scalp_records_the_keys() -> None:
    text = render_console(_report([scalp(0, "stop_loss", 1.0, 0.8)], UNKNOWN_THRESHOLDS))
    assert "Entry vs decision ask: unknown for all 1 scalps" in text
    assert "Depth-limited fills: unknown for all 1 scalps" in text
    assert "exit thresholds unknown" in text
    stop_row = next(
        line for line in text.splitlines() if line.strip().startswith("stop_loss") and "%" in line
    )
    assert stop_row.split()[2] == "n/a"
