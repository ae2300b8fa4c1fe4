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
from urllib.parse import parse_qsl, urlsplit

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
_SECRET_KEYS = {"access_key", "secret_key", "session_token"}  # never in a --catalog URI


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


def catalog_arg(text: str) -> Path | str:
    """A catalog: a folder path, a ``file://`` URI (that folder), or an object-store URI kept as text.

    ``s3://bucket/prefix``, ``gs://bucket/prefix`` (any pyarrow filesystem URI) is
    read through a local cache (``app.remote_catalog``); a URI carrying credentials
    is refused: they come from the environment.
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
    parts = urlsplit(text)
    if not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} names no bucket; use e.g. s3://bucket/prefix")
    if "@" in parts.netloc or any(k.lower() in _SECRET_KEYS for k, _ in parse_qsl(parts.query)):
        raise argparse.ArgumentTypeError(
            "a --catalog URI must not carry credentials; set them in the environment "
            "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS)"
        )
    return text


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
