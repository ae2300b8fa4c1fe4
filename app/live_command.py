"""Run a scalping strategy against a broker paper account (Alpaca or IBKR).

Live trading has not landed yet: the Alpaca and IBKR stores (DESIGN 8) are the
next milestone. Until then this command validates its arguments and the
environment and says so plainly, instead of pretending to trade.
"""

from __future__ import annotations

import argparse
import os
import sys

_STRATEGIES = ("ema_cloud", "momentum_burst")
_BROKER_ENV = {
    "alpaca": ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY"),
    "ibkr": ("IB_HOST", "IB_PORT"),
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run_live.py",
        description="Run a scalping strategy against an Alpaca or IBKR paper account.",
    )
    p.add_argument("--broker", choices=sorted(_BROKER_ENV), required=True)
    p.add_argument("--strategy", choices=_STRATEGIES, default="ema_cloud")
    p.add_argument("--paper", action="store_true", default=True, help="paper account (the default)")
    p.add_argument("--symbols", default="SPY", help="comma-separated underlyings")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    missing = [name for name in _BROKER_ENV[args.broker] if not os.environ.get(name)]
    if missing:
        print(
            f"error: {args.broker} needs the environment variables {', '.join(missing)} "
            "(keys come from the environment only, never from files)",
            file=sys.stderr,
        )
        return 2
    print(
        f"error: live trading via {args.broker} is not available in this release; "
        "the Alpaca/IBKR stores are the next milestone. Backtest with run_backtest.py meanwhile.",
        file=sys.stderr,
    )
    return 2
