"""``run_live.py --param max_dte=2`` quotes the strategy's DTE window, so live picks what the backtest picks.

The backtest's chain is the catalog's (every expiry it ingested) and the strategy's selector
keeps 0..``max_dte`` sessions; the live chain asks the venue for that same window (read once
from the strategy's config by ``app.live.wiring.max_dte``, as the start-up symbol check).
On the sample's TSLA day momentum_burst with ``max_dte=2`` takes a 2-DTE contract at 10:38 ET
(the 0DTE and 1DTE candidates refused): a live chain stuck at 0-1 DTE cannot list it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from app.cerebro import build_cerebro
from app.live import wiring
from app.live.limits import LiveLimits
from journal.live_read import latest_live_run, run_closed_scalps
from options_scalper.expiry import trading_dte
from strategies.ema_cloud import EmaCloudScalp
from strategies.momentum_burst import MomentumBurstScalp
from tests.app.live.session_runs import session
from tests.support.live_runs import TSLA_DAY
from tests.support.replay_market import ReplayMarket


def _key(s: Any) -> tuple[Any, ...]:
    return (
        s.option_symbol, s.contracts, s.entry_time, s.exit_time, s.exit_reason,
        round(s.entry_premium, 6), round(s.exit_premium, 6), round(s.pnl, 4), round(s.commission, 4),
    )  # fmt: skip


def test_the_dte_window_is_the_strategys_max_dte() -> None:
    assert wiring.max_dte(MomentumBurstScalp, {"max_dte": 2}) == 2
    assert wiring.max_dte(EmaCloudScalp, {"max_dte": 3}) == 3
    assert wiring.max_dte(EmaCloudScalp, {}) == 1  # the config's default


def test_live_with_max_dte_2_takes_the_backtests_2dte_trade(tmp_path: Path, tsla_catalog: Path) -> None:
    backtest = build_cerebro(MomentumBurstScalp, str(tsla_catalog), ["TSLA"], fromdate=TSLA_DAY,
                             todate=TSLA_DAY, warmup_days=2, max_dte=2).run()[0]  # fmt: skip
    mkt = ReplayMarket(tsla_catalog, ["TSLA"], TSLA_DAY, warmup_days=2, end_et="11:15")
    expected = [_key(s) for s in backtest.closed_scalps if s.exit_time <= mkt.end_utc]
    two_dte = [
        s
        for s in backtest.closed_scalps
        if s.exit_time <= mkt.end_utc and trading_dte(TSLA_DAY, s.expiry) == 2
    ]
    assert two_dte, "the window must hold the backtest's 2-DTE pick"
    code, console = session(
        tmp_path,
        mkt,
        strategy="momentum_burst",
        symbols=("TSLA",),
        params=("max_dte=2",),
        warmup_days=2,
        limits=LiveLimits(max_daily_loss=1e6, max_premium_per_order=1e6),  # the backtest has no such limits
    )
    assert code == 0, console
    engine = create_engine(f"sqlite:///{tmp_path}/journal.sqlite")
    run_id = latest_live_run(engine)
    assert run_id is not None
    assert [_key(s) for s in run_closed_scalps(engine, run_id)] == expected
