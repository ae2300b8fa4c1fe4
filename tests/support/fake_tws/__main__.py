"""Start the fake TWS by hand: ``python -m tests.support.fake_tws --data DIR --day YYYY-MM-DD --port P``.

``DIR`` is a catalog root (or a data folder holding ``.catalog``). The replay advances one
minute every ``--minute-seconds`` wall seconds from ``--start`` (ET); Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.support.fake_tws", description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path, help="catalog root, or a folder with .catalog")
    p.add_argument("--day", required=True, type=date.fromisoformat, help="session to replay, YYYY-MM-DD")
    p.add_argument("--symbols", default="SPY", help="underlyings, comma-separated (default SPY)")
    p.add_argument("--port", type=int, default=7497, help="port on 127.0.0.1 (default 7497, paper TWS)")
    p.add_argument("--start", default="09:30", help="replay start, ET HH:MM (default 09:30)")
    p.add_argument("--end", default=None, help="replay end, ET HH:MM (default the close)")
    p.add_argument("--minute-seconds", type=float, default=1.0, help="wall seconds per replayed minute")
    p.add_argument(
        "--warmup-days", type=int, default=2, help="history sessions (at most what the catalog holds)"
    )
    args = p.parse_args(argv)
    root = args.data / ".catalog" if (args.data / ".catalog").is_dir() else args.data
    if not root.is_dir():
        print(f"error: --data {args.data}: no such folder", file=sys.stderr)
        return 2
    from feeds.catalog import Catalog
    from tests.support.fake_alpaca.__main__ import _warmup
    from tests.support.fake_tws import FakeTWS
    from tests.support.replay_market import ReplayMarket

    try:
        symbols = args.symbols.split(",")
        warmup = _warmup(Catalog(root), symbols, args.day, args.warmup_days)
        market = ReplayMarket(root, symbols, args.day, start_et=args.start, end_et=args.end,
                              minute_seconds=args.minute_seconds, warmup_days=warmup)  # fmt: skip
        fake = FakeTWS(market, port=args.port).start()
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"fake TWS on 127.0.0.1:{fake.port} replaying {args.symbols} {args.day} (account {fake.account})",
        flush=True,
    )
    market.start()
    try:
        while not market.finished.wait(0.5):
            time.sleep(0)
    except KeyboardInterrupt:
        pass
    finally:
        market.stop()
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
