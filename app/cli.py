"""Command-line pieces both entry points share: argparse parents, argument types, one-line failures.

``run_backtest.py`` and ``run_live.py`` take the same ``--strategy``, ``--param``,
``--profile`` and ``--symbols``, checked by the same registry, so a strategy and its
parameters mean the same thing on a backtest and on a paper account.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from strategies import registry

EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
# run_live.py: one code per condition a trader acts on differently (README "Live trading")
EXIT_NETWORK = 3  # the venue cannot be reached (network down, nothing listening)
EXIT_AUTH = 4  # keys missing or rejected (401/403), an IB client id in use
EXIT_PERMISSION = 5  # no options approval, no market data subscription
EXIT_ACCOUNT_LOCKED = 6  # another run_live.py holds this account
EXIT_LIVE_REFUSED = 7  # a real-money account without --live or without the typed confirmation
EXIT_MARKET_CLOSED = 8  # --exit-if-closed and the market is closed
EXIT_INTERRUPTED = 130


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}; see --help\n")


def one_line(exc: BaseException | str) -> str:
    """Collapse a message to one line."""
    text = " ".join(str(exc).split())
    if isinstance(exc, BaseException) and not text:
        text = type(exc).__name__
    return text


def fail(message: str, code: int) -> int:
    """Print ``error: <message>`` on one line to stderr; return ``code``."""
    print(f"error: {one_line(message)}", file=sys.stderr)
    return code


def date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def money_arg(text: str) -> float:
    try:
        return float(text.replace(",", "").replace("_", "").lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of dollars, e.g. 100000") from None


def catalog_arg(text: str) -> Path:
    """A catalog folder: a path, or a ``file://`` URI (pyarrow's local filesystem); other URIs are refused.

    Every trial reads the catalog as files, on whichever machine runs it, so an object
    store (``s3://``, ``gs://``, ...) has to be mounted at the same path on each of them.
    """
    scheme, sep, _rest = text.partition("://")
    if not sep:
        return Path(text)
    if scheme.lower() == "file":
        from pyarrow.fs import FileSystem, LocalFileSystem

        try:
            fs, path = FileSystem.from_uri(text)
        except (ValueError, OSError) as exc:
            raise argparse.ArgumentTypeError(f"{text!r} is not a file:// URI ({one_line(exc)})") from None
        if isinstance(fs, LocalFileSystem):
            return Path(path)
    raise argparse.ArgumentTypeError(
        f"{text!r}: a {scheme}:// catalog is not supported (trials read the catalog as files); mount it at "
        "the same path on every machine (e.g. s3fs, gcsfuse, NFS) and pass that path"
    )


def count_arg(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def strategy_parent() -> argparse.ArgumentParser:
    """``--strategy``, ``--param`` (repeatable) and ``--profile``."""
    p = argparse.ArgumentParser(add_help=False)
    choices = "; ".join(f"{n}: {e.summary}" for n, e in registry.STRATEGIES.items())
    p.add_argument(
        "--strategy", default=registry.DEFAULT_STRATEGY, metavar="NAME",
        help=f"strategy to run (default: {registry.DEFAULT_STRATEGY}); one of: {choices}; "
        "or module:Class for a strategy of your own (a ScalpStrategyBase subclass)",
    )  # fmt: skip
    p.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE",
        help="set a strategy parameter (repeatable), e.g. --param profit_target_pct=0.3",
    )  # fmt: skip
    p.add_argument(
        "--profile", metavar="NAME",
        help="seed-003 profile for momentum_burst: conservative, moderate, aggressive",
    )  # fmt: skip
    return p


def symbols_parent(help_default: str) -> argparse.ArgumentParser:
    """``--symbols SPY TSLA`` (or ``SPY,TSLA``): the underlyings traded together."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--symbols", nargs="+", metavar="SYMBOL",
        help=f"underlyings to trade together, sharing cash and limits (default: {help_default})",
    )  # fmt: skip
    return p


def symbols_of(values: Sequence[str] | None) -> tuple[str, ...]:
    """``--symbols`` values as upper-case symbols, commas split, duplicates dropped, order kept."""
    out: list[str] = []
    for value in values or ():
        out.extend(s.strip().upper() for s in value.split(",") if s.strip())
    return tuple(dict.fromkeys(out))
