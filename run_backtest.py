"""Backtest a 0DTE/1DTE options scalper on DataBento OPRA CBBO-1m data with Backtrader.

    python run_backtest.py                                # ema_cloud on the bundled sample
    python run_backtest.py --strategy momentum_burst --profile conservative
    python run_backtest.py --data ~/databento --symbols TSLA --start 2024-01-02 --end 2024-06-28 \\
        --param profit_target_pct=0.3

``python run_backtest.py --help`` lists every option; the command lives in ``app.backtest_command``.
"""

from __future__ import annotations

import sys

from app.backtest_command import build_parser, execute, main, request_from_args

__all__ = ["build_parser", "execute", "main", "request_from_args"]

if __name__ == "__main__":
    sys.exit(main())
