"""Strike Picker data: a catalog minute through the strategy's own selector and pipeline."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard import strikes
from feeds.catalog import Catalog
from options_scalper.model import Direction
from options_scalper.reasons import RejectReason
from options_scalper.selection import StrikeSelector

DAY = date(2024, 10, 30)


@pytest.fixture(scope="module")
def catalog(backtest_journal):
    return Catalog(backtest_journal.catalog)


@pytest.fixture(scope="module")
def config():
    cfg, notes = strikes.strategy_config("momentum_burst", {"delta_tolerance": 0.2, "not_a_field": 1})
    assert notes == [] and cfg.delta_tolerance == 0.2  # the run's params that are config fields
    return cfg


def test_the_pick_is_the_selectors_and_the_best_kept_contract(catalog, config):
    ts = strikes.utc_minute(DAY, "10:15")
    view = strikes.chain_view(catalog, "SPY", ts, Direction.BULLISH, config)
    assert view.pick is not None and view.refusal is None
    # the same selector on the same snapshot, called directly
    bars = strikes.minutes(catalog, "SPY", DAY)
    from feeds.catalog.chain import ChainProvider

    snap = strikes.decision_snapshot(ChainProvider(catalog, "SPY"), bars, ts, config.max_quote_age_minutes)
    allowed = strikes.tradable_expiries(config, snap, ts)
    direct = StrikeSelector(config.selection_criteria()).select(
        snap, Direction.BULLISH, ts, allowed_expiries=allowed
    )
    assert direct.option_symbol == view.pick.option_symbol
    calls = view.table[view.table["right"] == "call"]
    assert (calls["status"] == "picked").sum() == 1
    kept = calls[calls["status"].isin(["picked", "kept"])]
    assert kept.loc[kept["score"].idxmax(), "option_symbol"] == view.pick.option_symbol
    refused = calls[calls["status"] == "refused"]
    assert len(refused) and refused["reason"].map(lambda r: r in set(RejectReason)).all()
    assert set(view.table[view.table["right"] == "put"]["status"]) == {"other right"}
    assert view.verdict.startswith(("would buy", "refused: "))
    # the heatmap: calls' deltas, strikes x expiries, positive and falling with the strike
    assert view.heatmap.shape[0] == calls["strike"].nunique()
    column = view.heatmap[view.pick.expiry].dropna()
    assert (column > 0).all() and column.is_monotonic_decreasing


def test_before_the_start_time_every_contract_is_refused_with_the_pipelines_code(catalog, config):
    view = strikes.chain_view(catalog, "SPY", strikes.utc_minute(DAY, "09:31"), Direction.BEARISH, config)
    assert view.pick is None and view.refusal is not None
    assert view.refusal.reason_code == RejectReason.BEFORE_START
    puts = view.table[view.table["right"] == "put"]
    assert set(puts["reason"]) == {"before_start"}
    assert view.verdict.startswith("refused: before_start")


def test_a_tighter_delta_band_refuses_more(catalog):
    ts = strikes.utc_minute(DAY, "10:15")
    wide, _ = strikes.strategy_config("momentum_burst", {"delta_tolerance": 0.25})
    narrow, _ = strikes.strategy_config("momentum_burst", {"delta_tolerance": 0.02})
    a = strikes.chain_view(catalog, "SPY", ts, Direction.BULLISH, wide).counts()
    b = strikes.chain_view(catalog, "SPY", ts, Direction.BULLISH, narrow).counts()
    assert b.get("kept", 0) + b.get("picked", 0) < a.get("kept", 0) + a.get("picked", 0)


def test_a_minute_without_a_bar_is_one_clear_error(catalog, config):
    with pytest.raises(ValueError, match="not a bar close"):
        strikes.chain_view(catalog, "SPY", strikes.utc_minute(DAY, "18:00"), Direction.BULLISH, config)


def test_an_unknown_strategy_falls_back_with_a_note():
    cfg, notes = strikes.strategy_config("nosuch:Strategy", {})
    assert cfg is not None and notes and "not loadable" in notes[0]
