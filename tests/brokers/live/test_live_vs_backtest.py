"""The live Cerebro on a replayed catalog day takes the backtest's trades at the backtest's prices.

``cerebro_for(LiveStore(ReplayVenue(...)), Strategy, ...)`` runs in lockstep with the
replay (its fills by the backtest's rule, ``options_scalper.fills``); ``build_cerebro``
runs the same day from the catalog. The live window ends before the close, so the
live run's closed scalps must be exactly the backtest's scalps closed by then.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.cerebro import build_cerebro
from brokers.live.sessions import warmup_sessions
from feeds.catalog import Catalog
from strategies.ema_cloud import EmaCloudScalp
from strategies.momentum_burst import MomentumBurstScalp
from tests.support.live_runs import SPY_DAY, TSLA_DAY, live_run, replay


def _key(s: Any) -> tuple[Any, ...]:
    return (
        s.signal_id, s.option_symbol, s.contracts, s.entry_time, s.exit_time, s.exit_reason,
        round(s.entry_premium, 6), round(s.exit_premium, 6), round(s.pnl, 4), round(s.commission, 4),
        s.metadata.get("added"), s.metadata.get("depth_limited"),
    )  # fmt: skip


def _compare(
    catalog: Path, strategy: type, symbol: str, day: Any, end_et: str, warmup: int
) -> tuple[Any, Any]:
    """Both runs with ``warmup`` sessions before ``day`` (every one the catalog holds: the same bars)."""
    backtest = build_cerebro(strategy, str(catalog), [symbol], fromdate=day, todate=day, warmup_days=2)
    backtest = backtest.run()[0]
    venue = replay(catalog, symbol, day, end_et, warmup_days=warmup)
    live, store = live_run(venue, strategy, symbol, day, catalog=catalog)
    end = venue.market.end_utc
    # the live clock warmed up on the backtest's sessions: it skipped only those the catalog lacks
    held = set(Catalog(catalog).days(symbol))
    assert store.clocks[0].skipped_sessions == [d for d in warmup_sessions(day, 2) if d not in held]
    expected = [_key(s) for s in backtest.closed_scalps if s.exit_time <= end]
    assert expected, "the window must hold at least one of the backtest's trades"
    assert [_key(s) for s in live.closed_scalps] == expected
    assert all(math.isfinite(s.pnl) for s in live.closed_scalps)
    return live, store


def test_ema_cloud_live_takes_the_backtests_trades(spy_catalog: Path) -> None:
    _, store = _compare(spy_catalog, EmaCloudScalp, "SPY", SPY_DAY, "12:05", warmup=1)
    clock = store.clocks[0]
    assert clock.trading_start_num < clock.datetime[0]
    assert store.venue.chain_calls >= 1  # type: ignore[attr-defined]


def test_momentum_burst_live_takes_the_backtests_trades(tsla_catalog: Path) -> None:
    live, store = _compare(tsla_catalog, MomentumBurstScalp, "TSLA", TSLA_DAY, "11:15", warmup=2)
    assert len(live.closed_scalps) >= 2
    # the broker's cash is what the venue's account says after the same fills and commissions
    account = store.venue.account()
    assert abs(store.getbroker().getcash() - account.cash) < 1e-6
    assert all(s.exit_time < datetime(2024, 10, 30, 15, 16, tzinfo=UTC) for s in live.closed_scalps)


def test_a_dry_run_takes_the_same_trades_and_sends_no_order(tsla_catalog: Path) -> None:
    backtest = build_cerebro(
        MomentumBurstScalp, str(tsla_catalog), ["TSLA"], fromdate=TSLA_DAY, todate=TSLA_DAY
    )
    expected = backtest.run()[0].closed_scalps
    venue = replay(tsla_catalog, "TSLA", TSLA_DAY, "11:15", warmup_days=2)
    live, store = live_run(venue, MomentumBurstScalp, "TSLA", TSLA_DAY, catalog=tsla_catalog, dry_run=True)
    end = venue.market.end_utc
    assert [_key(s) for s in live.closed_scalps] == [_key(s) for s in expected if s.exit_time <= end]
    assert venue.market.find_order(f"run-{1}") is None and not venue.market.positions()
    assert venue.market.account().cash == 100_000.0  # the real account never traded
    assert abs(store.venue.account().cash - store.getbroker().getcash()) < 1e-6  # the dry account booked them
