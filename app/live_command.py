"""Run a scalping strategy against a broker paper account (Alpaca or IBKR).

Live trading has not landed yet: the Alpaca and IBKR stores (DESIGN 8) are the
next milestone. Until then this command checks what it is given the same way
``run_backtest.py`` does (strategy, ``--param``, ``--profile``, ``--symbols``)
and the environment, and says so plainly instead of pretending to trade.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from app import cli
from strategies import registry

_BROKER_ENV = {
    "alpaca": ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY"),
    "ibkr": ("IB_HOST", "IB_PORT"),
}


def build_parser() -> argparse.ArgumentParser:
    p = cli.Parser(
        prog="run_live.py",
        description="Run a scalping strategy against an Alpaca or IBKR paper account.",
        parents=[cli.strategy_parent(), cli.symbols_parent(help_default="SPY")],
    )
    p.add_argument("--broker", choices=sorted(_BROKER_ENV), required=True)
    p.add_argument("--paper", action="store_true", default=True, help="paper account (the default)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cls = registry.load_strategy(args.strategy)
        registry.resolve_params(args.strategy, cls, args.param, args.profile)
    except registry.StrategyError as exc:
        return cli.fail(str(exc), cli.EXIT_BAD_INPUT)
    missing = [name for name in _BROKER_ENV[args.broker] if not os.environ.get(name)]
    if missing:
        return cli.fail(
            f"{args.broker} needs the environment variables {', '.join(missing)} "
            "(keys come from the environment only, never from files)",
            cli.EXIT_BAD_INPUT,
        )
    symbols = ", ".join(cli.symbols_of(args.symbols) or ("SPY",))
    return cli.fail(
        f"live trading via {args.broker} ({args.strategy} on {symbols}) is not available in this release; "
        "the Alpaca/IBKR stores are the next milestone. Backtest with run_backtest.py meanwhile.",
        cli.EXIT_BAD_INPUT,
    )
