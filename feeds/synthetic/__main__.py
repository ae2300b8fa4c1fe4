"""``python -m feeds.synthetic``: write synthetic DataBento-layout data for a date range."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from feeds.synthetic.generate import generate_dataset
from feeds.synthetic.sample import SAMPLE_SESSIONS
from feeds.synthetic.sessions import sessions_between
from feeds.synthetic.spec import PRESETS, preset
from feeds.synthetic.writer import LAYOUTS, PRICE_FORMATS, TS_FORMATS
from options_scalper.model import ScalperError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m feeds.synthetic",
        description="Write synthetic bars, CBBO-1m option chains and statistics in DataBento's CSV layout.",
    )
    p.add_argument(
        "--out", type=Path, required=True, help="output folder (DIR/<SYMBOL>/<schema>/<date>.csv.zst)"
    )
    p.add_argument(
        "--symbols", nargs="+", default=["SPY", "TSLA"], help="symbols with a preset (default: SPY TSLA)"
    )
    p.add_argument("--start", type=_date, help="first session, YYYY-MM-DD (default: the sample's sessions)")
    p.add_argument("--end", type=_date, help="last session, YYYY-MM-DD (default: --start)")
    p.add_argument("--scale", choices=sorted(PRESETS), default="sample", help="chain size (default: sample)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--layout", choices=LAYOUTS, default="databento", help="CBBO column layout")
    p.add_argument(
        "--ts-format", choices=TS_FORMATS, default="iso", help="timestamps: ISO-8601 or integer ns"
    )
    p.add_argument(
        "--price-format", choices=PRICE_FORMATS, default="decimal", help="prices: decimal or 1e9 fixed"
    )
    p.add_argument("--no-compress", action="store_true", help="write .csv instead of .csv.zst")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        specs = [preset(s, args.scale) for s in args.symbols]
        if args.start is None:
            if args.end is not None:
                raise ScalperError("--end needs --start")
            sessions = list(SAMPLE_SESSIONS)
        else:
            sessions = sessions_between(args.start, args.end or args.start)
            if not sessions:
                raise ScalperError(f"no NYSE session between {args.start} and {args.end or args.start}")
        files = generate_dataset(
            args.out,
            specs,
            sessions,
            seed=args.seed,
            progress=not args.quiet,
            layout=args.layout,
            ts_format=args.ts_format,
            price_format=args.price_format,
            compress=not args.no_compress,
        )
    except (ScalperError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = sum(f.cbbo_rows for f in files)
    print(f"wrote {len(files)} symbol-days, {rows} CBBO rows, into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
