"""The live Cerebro: the core's ``LiveStore`` over the venue, the strategy, the guard.

Built by ``app.cerebro.cerebro_for`` exactly as the backtest's (same strategy class,
same feeds layout); the store's broker gets the runtime's order gate and the order
event listener (journal), and adopts the scalps reconciliation matched; each clock's
``LiveChain`` reports the snapshots it serves to the runtime (``live_chains``) and asks
the venue for the strategy's DTE window (``max_dte``: the backtest's catalog chain holds
every expiry the strategy's selector may pick; the live chain must list the same ones).
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import backtrader as bt

from options_scalper.constants import DEFAULT_CAP_TO_SIZE, DEFAULT_CONTRACT_FEEDS
from strategies import registry
from strategies.params import config_from_params


def strategy_config(cls: type, params: dict[str, Any]) -> Any:
    """The strategy's frozen config from its resolved params (None for a strategy without one)."""
    config_cls = getattr(cls, "config_cls", None)
    if config_cls is None:
        return None
    own, _ = registry.split_venue_params(params)
    return config_from_params(config_cls, SimpleNamespace(**own))


def max_dte(cls: type, params: dict[str, Any]) -> int:
    """The strategy's DTE window in sessions: its config's ``max_dte`` (the live chain's default without one).

    The one reading of the window: the start-up symbol check and the live chain both use it.
    """
    from brokers.live.chain import DEFAULT_MAX_DTE

    return int(getattr(strategy_config(cls, params), "max_dte", DEFAULT_MAX_DTE))


def add_runtime(cerebro: bt.Cerebro, runtime: Any) -> bt.Cerebro:
    """Attach the guard (states, limits, expiry safety, journal, status) and the scalp statistics."""
    from analyzers.scalp_analyzers import ScalpStats
    from app.live.guard import LiveGuard

    cerebro.addanalyzer(ScalpStats, _name="scalp_stats")
    cerebro.addanalyzer(LiveGuard, _name="live_guard", runtime=runtime)
    return cerebro


def build(
    venue: Any,
    req: Any,
    cls: type,
    params: dict[str, Any],
    runtime: Any,
    today: date,
    store_options: dict[str, Any] | None = None,
) -> tuple[bt.Cerebro, Any]:
    """The live Cerebro of ``req`` on ``venue`` and its store (``store_options``: extra ``LiveStore`` settings)."""
    from app.cerebro import DEFAULT_MACRO_MINUTES, cerebro_for
    from brokers.live.store import LiveStore

    own, venue_params = registry.split_venue_params(params)
    options: dict[str, Any] = {
        "cap_to_size": bool(venue_params.get("cap_to_size", DEFAULT_CAP_TO_SIZE)),
        "max_dte": max_dte(cls, params),
    }
    options.update(store_options or {})
    store = LiveStore(
        venue,
        dry_run=bool(req.dry_run),
        catalog=str(req.catalog_dir) if req.catalog_dir else None,
        run_id=runtime.settings.run_id,
        listener=runtime.on_order_event,
        gate=runtime.check_order,
        **options,
    )
    try:
        cerebro = cerebro_for(
            store,
            cls,
            list(req.symbols),
            fromdate=today,
            todate=today,
            warmup_days=int(req.warmup_days),
            pool_size=int(venue_params.get("pool_size", DEFAULT_CONTRACT_FEEDS)),
            macro_minutes=int(own.get("macro_compression", DEFAULT_MACRO_MINUTES)),
            exactbars=-1,
            **own,
        )
    except TypeError as exc:
        from app.cli import one_line
        from app.request import BadInput

        raise BadInput(f"--param: {one_line(exc)}") from exc
    for clock in store.clocks:  # the journal records every chain snapshot the strategy is served
        clock.chain.listener = runtime.on_chain
    add_runtime(cerebro, runtime)
    return cerebro, store


__all__ = ["add_runtime", "build", "max_dte", "strategy_config"]
