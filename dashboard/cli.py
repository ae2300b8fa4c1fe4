"""``python -m dashboard``: check the journal and catalog, then serve the Streamlit app (127.0.0.1 by default).

Bad input is one line on stderr and exit code 2 (no traceback): a journal that
cannot be opened read-only, a catalog folder that does not exist, a bad port.
Binding to another address than 127.0.0.1 prints a warning: the page has no login.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dashboard.db import DashboardError, open_journal

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAIN_SCRIPT = Path(__file__).resolve().parent / "ui" / "main.py"


@dataclass(frozen=True)
class PageArgs:
    journal: str
    catalog: str | None


def default_journal(cwd: Path | None = None) -> str | None:
    """The newest ``out/*/journal.sqlite`` under ``cwd`` (what run_backtest.py writes), as a URL."""
    found = sorted((cwd or Path.cwd()).glob("out/*/journal.sqlite"), key=lambda p: p.stat().st_mtime)
    return f"sqlite:///{found[-1].resolve()}" if found else None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="Read-only dashboard of the scalp journal: Live Scalps, Strike Picker, "
        "Scalp History, Performance.",
    )
    p.add_argument(
        "--journal",
        metavar="URL",
        help="SQLAlchemy URL of the journal (default: the newest out/*/journal.sqlite)",
    )
    p.add_argument(
        "--catalog",
        metavar="DIR",
        help="catalog folder for the Strike Picker (default: the picked run's catalog)",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default {DEFAULT_HOST}; anything else exposes the page, which has no login)",
    )
    return p


def page_args(argv: Sequence[str]) -> PageArgs:
    """The arguments the Streamlit script receives (after ``--``)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--journal", required=True)
    p.add_argument("--catalog")
    ns, _ = p.parse_known_args(list(argv))
    return PageArgs(journal=ns.journal, catalog=ns.catalog)


def streamlit_argv(journal: str, catalog: str | None, host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line of the app."""
    argv = [
        "streamlit",
        "run",
        str(MAIN_SCRIPT),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
        "--",
        "--journal",
        journal,
    ]
    if catalog:
        argv += ["--catalog", catalog]
    return argv


def check(args: argparse.Namespace) -> tuple[str, str | None]:
    """The journal URL and catalog folder after checking them; raise ``DashboardError`` (one line)."""
    journal = args.journal or default_journal()
    if journal is None:
        raise DashboardError(
            "--journal: no journal given and no out/*/journal.sqlite here; run a backtest first "
            "(python run_backtest.py) or pass --journal URL"
        )
    open_journal(journal).engine.dispose()
    catalog = None
    if args.catalog:
        root = Path(args.catalog).expanduser().resolve()
        if not root.is_dir():
            raise DashboardError(f"--catalog: {root} is not a folder; pass the catalog a backtest built")
        catalog = str(root)
    if not 0 < args.port < 65536:
        raise DashboardError(f"--port: {args.port} is not a TCP port (1-65535)")
    return journal, catalog


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.host not in LOCAL_HOSTS:
        print(
            f"warning: binding to {args.host}: anyone who can reach this address sees the journal "
            "(the dashboard has no login); the default is 127.0.0.1",
            file=sys.stderr,
        )
    try:
        journal, catalog = check(args)
    except DashboardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from streamlit.web import cli as stcli

    sys.argv = streamlit_argv(journal, catalog, args.host, args.port)
    print(f"dashboard on http://{args.host}:{args.port} (journal read-only)", file=sys.stderr)
    stcli.main()
    return 0
