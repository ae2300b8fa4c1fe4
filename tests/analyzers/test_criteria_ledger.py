"""Seed 003's OOS degradation across two runs (the split ledger's figures): pure."""

from __future__ import annotations

import pytest

from analyzers.criteria import ledger_degradation_row


@pytest.mark.parametrize(
    ("dev", "oos", "value", "passed"),
    [
        (0.20, 0.15, 0.25, True),  # 25% worse: within 30%
        (0.20, 0.10, 0.50, False),
        (0.20, 0.30, -0.50, True),  # better out of sample
        (-0.05, 0.10, None, None),  # dev not positive: undefined
        (None, 0.10, None, None),  # dev without trades
    ],
)
def test_ledger_degradation_row_compares_avg_pnl_per_trade(dev, oos, value, passed):
    row = ledger_degradation_row({"avg_pnl_pct": dev, "run_id": "d"}, {"avg_pnl_pct": oos, "run_id": "o"})
    assert row["key"] == "oos_degradation" and row["source"] == "ledger"
    assert row["value"] == (pytest.approx(value) if value is not None else None)
    assert row["passed"] is passed
    assert row["dev"]["run_id"] == "d" and row["oos"]["avg_pnl_pct"] == oos
    assert "dev run d, out-of-sample run o" in row["detail"]
