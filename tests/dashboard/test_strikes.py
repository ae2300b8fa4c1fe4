"""Strike Picker data: a catalog minute through the strategy's own selector and pipeline; a recorded live
minute sized with what the run had (or the controls, where its recording lacks it)."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard import strikes
from dashboard.db import open_journal
from feeds.catalog import Catalog
from feeds.catalog.chain import ChainProvider
from journal.live import ChainRow, LiveJournal, chain_payload, signal_payload
from journal.writer import RunEntry
from options_scalper.model import AccountState, Direction, Signal
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


def test_a_catalog_minute_is_sized_with_the_controls_and_says_so(catalog, config):
    ts = strikes.utc_minute(DAY, "10:15")
    big = strikes.chain_view(catalog, "SPY", ts, Direction.BULLISH, config, equity=100_000.0)
    small = strikes.chain_view(catalog, "SPY", ts, Direction.BULLISH, config, equity=25_000.0, conviction=60)
    assert big.intent is not None and small.intent is not None
    assert small.intent.option_symbol == big.intent.option_symbol
    assert 0 < small.intent.quantity < big.intent.quantity  # momentum_burst: 5% of the equity
    assert small.verdict.startswith(f"would buy {small.intent.quantity} x ")
    assert small.sizing.account == AccountState(equity=25_000.0, cash=25_000.0)
    assert small.sizing.conviction == 60
    assert small.sizing.account_source == strikes.NO_CATALOG_EQUITY
    assert small.sizing.conviction_source == strikes.NO_CATALOG_CONVICTION
    assert small.sizing.text() == (
        f"sized with equity $25,000.00 and cash $25,000.00 ({strikes.NO_CATALOG_EQUITY}); "
        f"conviction 60 ({strikes.NO_CATALOG_CONVICTION})"
    )


def _snapshot(catalog, config, hhmm="10:15"):
    ts = strikes.utc_minute(DAY, hhmm)
    bars = strikes.minutes(catalog, "SPY", DAY)
    return strikes.decision_snapshot(ChainProvider(catalog, "SPY"), bars, ts, config.max_quote_age_minutes)


def test_the_conviction_sizes_the_verdict_and_below_the_floor_refuses_it(catalog):
    ema, _ = strikes.strategy_config("ema_cloud", {})
    snap = _snapshot(catalog, ema)
    low = strikes.snapshot_view(
        snap, [], Direction.BULLISH, ema, sizing=strikes.control_sizing(conviction=50)
    )
    full = strikes.snapshot_view(
        snap, [], Direction.BULLISH, ema, sizing=strikes.control_sizing(conviction=90)
    )
    assert low.intent is not None and full.intent is not None
    assert low.intent.quantity < full.intent.quantity  # ema_cloud scales its risk by the conviction
    floor = ema.min_conviction_to_scalp
    refused = strikes.snapshot_view(
        snap, [], Direction.BULLISH, ema, sizing=strikes.control_sizing(conviction=floor - 1)
    )
    assert refused.intent is None
    assert refused.verdict.startswith(f"refused: low_conviction (conviction {floor - 1} is below")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, catalog, config):
    """A live journal with two recorded SPY minutes: one with the run's account and an entered signal, one
    written before either was recorded (no ``account`` / ``signals`` in its payload)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('recorded')}/journal.sqlite"
    journal = LiveJournal(url, "20241030T141500Z-0000beef", "alpaca")
    journal.start_run(RunEntry(run_id=journal.run_id, strategy="momentum_burst"), "paper", "PA1")
    with_account = _snapshot(catalog, config, "10:15")
    without = _snapshot(catalog, config, "10:16")
    account = AccountState(equity=30_000.0, cash=20_000.0, open_scalps=0, scalps_today=1)
    signal = Signal("mb-SPY-202410301415-burst", "SPY", with_account.ts, Direction.BULLISH, 72, "burst")
    payload = {**chain_payload(with_account, account=account), "signals": [signal_payload(signal)]}
    old = chain_payload(without)
    del old["account"]  # a row of the first recordings
    journal.heartbeat(
        None,
        [
            ChainRow("SPY", with_account.ts, with_account.underlying_price, payload),
            ChainRow("SPY", without.ts, without.underlying_price, old),
        ],
    )
    journal.close()
    return open_journal(url), journal.run_id, with_account, without, account


def test_a_recorded_minute_is_sized_with_the_runs_account_and_its_signals_conviction(recorded, config):
    journal, run_id, snap, _, account = recorded
    view = strikes.live_chain_view(journal, run_id, "SPY", snap.ts, Direction.BULLISH, config, equity=1e6)
    assert view.sizing == strikes.Sizing(
        account,
        72,
        f"run {run_id}'s account at this minute",
        "signal mb-SPY-202410301415-burst, entered at this minute",
    )
    # the verdict is the pipeline's on that account: the same as the catalog minute sized alike
    same = strikes.snapshot_view(snap, [], Direction.BULLISH, config, sizing=view.sizing)
    assert view.intent is not None and view.intent == same.intent
    default = strikes.snapshot_view(snap, [], Direction.BULLISH, config)  # the picker's $100,000
    assert default.intent is not None and default.intent.quantity > view.intent.quantity
    puts = strikes.live_chain_view(journal, run_id, "SPY", snap.ts, Direction.BEARISH, config, conviction=66)
    assert puts.sizing.account == account and puts.sizing.conviction == 66
    assert puts.sizing.conviction_source == (
        f"{strikes.CONVICTION_CONTROL}: the signal entered at this minute (mb-SPY-202410301415-burst) was bullish"
    )


def test_a_minute_recorded_without_the_account_is_sized_with_the_controls_and_says_so(recorded, config):
    journal, run_id, _, snap, _ = recorded
    view = strikes.live_chain_view(
        journal, run_id, "SPY", snap.ts, Direction.BULLISH, config, equity=40_000.0, conviction=70
    )
    assert (
        view.sizing.account == AccountState(equity=40_000.0, cash=40_000.0) and view.sizing.conviction == 70
    )
    assert view.sizing.account_source == (
        f"{strikes.EQUITY_CONTROL}: this minute's chain was recorded without the run's account"
    )
    assert (
        view.sizing.conviction_source
        == f"{strikes.CONVICTION_CONTROL}: run {run_id} entered on no signal at this minute"
    )
    same = strikes.snapshot_view(
        snap, [], Direction.BULLISH, config, sizing=strikes.control_sizing(40_000.0, 70)
    )
    assert view.verdict == same.verdict and view.verdict.startswith("would buy")
