"""The live Cerebro: the core's ``LiveStore`` over the venue, the strategy, the guard.

Built by ``app.cerebro.cerebro_for`` exactly as the backtest's (same strategy class,
same feeds layout); the store's broker gets the runtime's order gate and the order
event listener (journal), and adopts the scalps reconciliation matched.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import backtrader as bt

from strategies import registry
from strategies.params import config_from_params


def strategy_config(cls: type, params: dict[str, Any]) -> Any:
    """The strategy's frozen config from its resolved params (None for a strategy without one)."""
    config_cls = getattr(cls, "config_cls", None)
    if config_cls is None:
        return None
    own, _ = registry.split_venue_params(params)
    return config_from_params(config_cls, SimpleNamespace(**own))


def add_runtime(cerebro: bt.Cerebro, runtime: Any) -> bt.Cerebro:
    """Attach the guard (states, limits, expiry safety, journal, status) and the scalp statistics."""
    from analyzers.scalp_analyzers import ScalpStats
    from app.live.guard import LiveGuard

    cerebro.addanalyzer(ScalpStats, _name="scalp_stats")
    cerebro.addanalyzer(LiveGuard, _name="live_guard", runtime=runtime)
    return cerebro


def build(
    venue: Any, req: Any, cls: type, params: dict[str, Any], runtime: Any, account: Any, rec: Any
) -> bt.Cerebro:
    raise NotImplementedError("waiting for brokers.live.store.LiveStore (branch live-core)")


__all__ = ["add_runtime", "build", "strategy_config"]
