"""Run a scalping strategy against a broker paper account (Alpaca or IBKR).

``python run_live.py --help`` lists every option; the command lives in ``app.live_command``.
"""

from __future__ import annotations

import sys

from app.live_command import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
