"""Command line: ``python -m feeds.catalog ingest ...`` and ``python -m feeds.catalog info ...``.

Exit codes: 0 done; 1 some day failed (each reported on one line), or strict mode
stopped on a bad file; 2 bad input (arguments, folders). Never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from options_scalper.model import ScalperError

EXIT_FAILED_DAYS = 1
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}; see --help\n")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a process count; use 1 or more")
    return n


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m feeds.catalog", description="Ingest DataBento CBBO-1m days into a catalog."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ingest = sub.add_parser("ingest", help="ingest new or changed source days")
    ingest.add_argument(
        "--data", required=True, type=Path, help="folder with <SYMBOL>/cbbo-1m/<date>.csv[.zst]"
    )
    ingest.add_argument("--catalog", required=True, type=Path, help="catalog folder (created if missing)")
    ingest.add_argument("--symbols", nargs="+", metavar="SYMBOL", help="only these symbols (default: all)")
    ingest.add_argument("--start", type=_day, help="first session date, YYYY-MM-DD")
    ingest.add_argument("--end", type=_day, help="last session date, YYYY-MM-DD")
    ingest.add_argument("--max-dte", type=int, default=5, help="keep expiries up to this many days out (5)")
    ingest.add_argument(
        "--strike-band", type=float, default=0.10, help="strike band around the day's range (0.10)"
    )
    ingest.add_argument("--rate", type=float, default=0.05, help="risk-free rate for parity and IV (0.05)")
    ingest.add_argument(
        "--bars-tz", default="America/New_York", metavar="ZONE",
        help="zone of a vendor bar file's naive times (default America/New_York; DataBento files are UTC)",
    )  # fmt: skip
    ingest.add_argument(
        "--strict", action="store_true", help="stop at the first bad file instead of skipping it"
    )
    ingest.add_argument(
        "--workers", type=_workers, default=1, help="ingest that many days at a time, one process each (1)"
    )
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    info = sub.add_parser("info", help="list the catalog's symbols and days")
    info.add_argument("--catalog", required=True, type=Path, help="catalog folder")
    return parser


def _ingest(args: argparse.Namespace) -> int:
    from feeds.catalog.catalog import Catalog
    from feeds.catalog.settings import IngestSettings

    settings = IngestSettings(
        max_dte=args.max_dte, strike_band_pct=args.strike_band, rate=args.rate, bars_tz=args.bars_tz
    )
    summary = Catalog(args.catalog).ingest(
        args.data,
        symbols=args.symbols,
        start=args.start,
        end=args.end,
        settings=settings,
        strict=args.strict,
        progress=not args.quiet,
        workers=args.workers,
    )
    for failure in summary.failures:
        print(f"skipped {failure.line()}", file=sys.stderr)
    if args.quiet:
        print(summary.summary_line())
    return EXIT_FAILED_DAYS if summary.failed else 0


def _info(args: argparse.Namespace) -> int:
    from feeds.catalog.catalog import Catalog
    from feeds.catalog.settings import CatalogError

    if not args.catalog.is_dir():
        raise CatalogError(f"catalog folder {args.catalog} does not exist; build it with 'ingest' first")
    catalog = Catalog(args.catalog)
    symbols = catalog.symbols()
    if not symbols:
        print(f"{args.catalog}: empty catalog")
        return 0
    for symbol in symbols:
        summary = catalog.day_summary(symbol)
        days = list(summary["date"])
        parity = int((summary["underlying_source"] == "parity").sum())
        oi_days = int(summary["oi_known"].sum())
        print(
            f"{symbol}: {len(days)} day(s) {days[0]}..{days[-1]}, {int(summary['rows_out'].sum()):,} quote rows, "
            f"{parity} parity-underlying day(s), {oi_days} day(s) with OI"
        )
        for note in catalog.data_notes(symbol, days):
            print(f"  note: {note}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()
    except BrokenPipeError:  # `... info | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return code


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _ingest(args) if args.command == "ingest" else _info(args)
    except ScalperError as exc:
        from feeds.catalog.settings import CatalogError, SourceFileError

        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        bad_data = isinstance(exc, SourceFileError) or not isinstance(exc, CatalogError)
        return EXIT_FAILED_DAYS if bad_data else EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: days already written are complete; run ingest again to finish", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
