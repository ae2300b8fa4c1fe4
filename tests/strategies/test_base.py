"""ScalpStrategyBase pieces that need no Cerebro: params from configs, OpenScalp arithmetic."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime
from typing import Any

from options_scalper.config import MomentumConfig, ScalpConfig
from options_scalper.model import Direction, Signal
from strategies.base import OpenScalp, config_from_params, params_from_config
from tests.support.probe import ProbeScalp


def test_params_from_config_are_flat_picklable_scalars():
    params = dict(params_from_config(ScalpConfig))
    assert params["limit_offset"] == 0.02
    assert params["fill_timeout_seconds"] == 15
    assert params["entry_order_type"] == "limit" and type(params["entry_order_type"]) is str
    assert params["scalp_tickers"].startswith("SPY,QQQ")
    assert all(isinstance(v, bool | int | float | str) for v in params.values())
    pickle.dumps(tuple(params.items()))


def test_params_from_config_works_for_momentum_config():
    params = dict(params_from_config(MomentumConfig))
    assert params and all(isinstance(v, bool | int | float | str) for v in params.values())


def test_config_from_params_round_trips_and_coerces():
    class P:
        profit_target_pct: float

    p: Any = P()
    for k, v in params_from_config(ScalpConfig):
        setattr(p, k, v)
    p.profit_target_pct = 0.3
    cfg = config_from_params(ScalpConfig, p)
    assert cfg.profit_target_pct == 0.3
    assert cfg.scalp_tickers[0] == "SPY"
    assert cfg.entry_order_type.value == "limit"


def test_probe_params_include_engine_config_and_probe_fields():
    names = set(ProbeScalp.params._getkeys())
    assert {"symbol", "flatten_minutes", "limit_offset", "fast", "slow"} <= names


def test_strategy_params_carry_no_venue_settings():
    """Catalog, broker, commission and feed-pool settings belong to the store, not the strategy."""
    names = set(ProbeScalp.params._getkeys())
    assert not names & {"catalog_root", "pool_size", "commission", "cap_to_size"}


def test_open_scalp_average_prices_and_pnl_pct():
    sig = Signal("s1", "SPY", datetime(2024, 1, 3, 15, tzinfo=UTC), Direction.BULLISH, 80, "t")
    s = OpenScalp(book=None, feed=None, intent=None, signal=sig, opened_at=sig.ts)  # type: ignore[arg-type]
    s.bought, s.bought_cost = 3, 1.0 * 1 + 1.3 * 2
    s.sold, s.sold_value = 3, 3 * 1.5
    assert s.entry_premium == (1.0 + 2.6) / 3
    assert s.exit_premium == 1.5
    assert s.open_qty == 0
    assert round(s.pnl_pct_at(2.4), 6) == round((2.4 - 1.2) / 1.2, 6)
    assert date(2024, 1, 3) == sig.ts.date()
