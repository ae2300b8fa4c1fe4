"""Start the fake Alpaca by hand: ``python -m tests.support.fake_alpaca --data DIR --day YYYY-MM-DD --port P``.

DIR is a DataBento data folder (ingested into ``DIR/.catalog`` first, new days only) or a
catalog folder, as ``run_backtest.py --data`` takes. Prints the ``export`` lines that
point ``run_live.py --broker alpaca`` at it; stops by itself at the end of the replayed
day or when idle. Faults: ``curl -X POST localhost:P/_fake/reject_next -d '{"message":"no"}'``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any


def _catalog(path: Path, symbols: list[str]) -> Any:
    from feeds.catalog import Catalog
    from feeds.databento.layout import discover

    if not path.is_dir():
        raise SystemExit(
            f"fake_alpaca: --data {path}: no such folder; pass a DataBento data folder or a catalog"
        )
    try:
        found = discover(path, symbols or None)
    except Exception:
        found = {}
    if not found:
        return Catalog(path)  # already a catalog
    catalog = Catalog(path / ".catalog")
    catalog.ingest(path, symbols=sorted(found), progress=False)
    return catalog


def _warmup(catalog: Any, symbols: list[str], day: date, wanted: int) -> int:
    """The warm-up sessions the catalog holds before ``day`` (at most ``wanted``); ``ValueError`` without ``day``."""
    warmup = wanted
    for symbol in symbols:
        days = sorted(catalog.days(symbol))
        if day not in days:
            span = f"{days[0]}..{days[-1]}" if days else "no days"
            raise ValueError(f"--day {day}: {symbol} has no data that day in the catalog ({span})")
        warmup = min(warmup, sum(1 for d in days if d < day))
    return warmup


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.support.fake_alpaca", description=__doc__.split("\n")[0]
    )
    p.add_argument("--data", required=True, type=Path, help="DataBento data folder or catalog")
    p.add_argument("--day", required=True, type=date.fromisoformat, help="the session to replay (YYYY-MM-DD)")
    p.add_argument("--port", type=int, default=18080, help="REST port (websockets on port+1)")
    p.add_argument("--symbols", default="SPY", help="underlyings, comma-separated (default SPY)")
    p.add_argument("--minute-seconds", type=float, default=1.0, help="wall seconds per replayed minute")
    p.add_argument("--start", default="09:30", help="replay start, ET (default the open)")
    p.add_argument("--end", default=None, help="replay end, ET (default the close)")
    p.add_argument("--warmup-days", type=int, default=2)
    p.add_argument("--cash", type=float, default=100_000.0)
    p.add_argument("--idle-seconds", type=float, default=900.0, help="stop after this long without a client")
    p.add_argument("--key", default="fake-key-id")
    p.add_argument("--secret", default="fake-secret-key")
    args = p.parse_args(argv)

    from options_scalper.model import ScalperError
    from tests.support.fake_alpaca.server import FakeAlpaca
    from tests.support.replay_market import ReplayMarket

    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    try:
        catalog = _catalog(args.data, symbols)
        warmup = _warmup(catalog, symbols, args.day, args.warmup_days)
        market = ReplayMarket(
            catalog, symbols, args.day, warmup_days=warmup, start_et=args.start,
            end_et=args.end, minute_seconds=args.minute_seconds, cash=args.cash,
        )  # fmt: skip
        fake = FakeAlpaca(market, key=args.key, secret=args.secret, port=args.port).start()
    except (OSError, ValueError, ScalperError) as exc:
        print(f"fake_alpaca: cannot start: {exc}", file=sys.stderr)
        return 2
    for name, value in fake.env().items():
        print(f"export {name}={value}")
    print(f"# fake Alpaca replaying {','.join(symbols)} {args.day} from {args.start} ET, "
          f"{args.minute_seconds:g} s per minute; Ctrl-C stops it", file=sys.stderr)  # fmt: skip
    print("# the replay starts when a client subscribes to bars", file=sys.stderr)
    fake.run_clock(args.minute_seconds)
    try:
        why = fake.serve_until_done(idle_seconds=args.idle_seconds)
    except KeyboardInterrupt:
        why = "interrupted"
    fake.stop()
    print(f"# fake Alpaca stopped: {why}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
