"""Run a scalping strategy live against a broker account (Alpaca or IBKR): ``run_live.py``.

    APCA_API_KEY_ID=... APCA_API_SECRET_KEY=... python run_live.py --broker alpaca --strategy ema_cloud
    python run_live.py --broker ibkr --port 7497 --client-id 7 --strategy momentum_burst --symbols SPX
    python run_live.py --broker alpaca --compare-with out/backtest-day --run-id 20241105T143000Z-1a2b3c4d

The same strategy classes as the backtest, on the broker's paper account unless
``--live``; the runtime lives in ``app.live`` (README "Live trading").
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from app import cli
from app.live.limits import (
    DEFAULT_MAX_DAILY_LOSS,
    DEFAULT_MAX_OPEN_SCALPS,
    DEFAULT_MAX_ORDERS_PER_MINUTE,
    DEFAULT_MAX_PREMIUM_PER_ORDER,
    LiveLimits,
)
from app.live.request import BROKERS, DEFAULT_DATA_TIMEOUT, INTERRUPT_EXITS, LiveRequest
from app.request import DEFAULT_WARMUP_DAYS

EPILOG = f"""\
keys come only from the environment: Alpaca APCA_API_KEY_ID / APCA_API_SECRET_KEY (endpoints
APCA_TRADING_URL, APCA_DATA_URL, APCA_STOCK_STREAM_URL, APCA_OPTION_STREAM_URL,
APCA_TRADING_STREAM_URL; feeds APCA_STOCK_FEED, APCA_OPTION_FEED); IBKR IB_HOST / IB_PORT /
IB_CLIENT_ID or --host/--port/--client-id. Key values never reach the console or live.log.

states: ACTIVE; REDUCING (no new entries; exits and cancels) on a disconnect, stale data, Ctrl-C
or a start-up reconciliation mismatch; HALTED (cancels only) on --max-daily-loss or the kill
switch: create the file <OUT>/KILL or send SIGUSR1 (kill -USR1 <pid>).
expiry safety: every 0DTE is closed by the strategy's 0DTE cutoff / session exit, never later
than 15:10 ET (12:10 ET on 13:00-close half days).
Ctrl-C: working entries cancelled; --exits-on-interrupt flatten (default) closes every scalp
first, keep leaves positions for the next run to adopt; a second Ctrl-C stops at once.

outputs (--out, default out/live-<broker>-<strategy>): live.log (JSON lines), journal.sqlite
(runs, live_orders, options_scalps, live_heartbeats), compare.csv/compare.json (--compare-with).
exit codes: 0 done, 1 run failed, 2 bad input, 3 network down, 4 keys missing or rejected,
5 no options approval / market data, 6 another runtime holds the account, 7 real-money account
refused, 8 market closed (--exit-if-closed), 130 Ctrl-C.
defaults: --max-daily-loss {DEFAULT_MAX_DAILY_LOSS:g}, --max-orders-per-minute {DEFAULT_MAX_ORDERS_PER_MINUTE},
--max-open-scalps {DEFAULT_MAX_OPEN_SCALPS}, --max-premium-per-order {DEFAULT_MAX_PREMIUM_PER_ORDER:g}, --data-timeout {DEFAULT_DATA_TIMEOUT:g}.
"""


def build_parser() -> argparse.ArgumentParser:
    p = cli.Parser(
        prog="run_live.py",
        description="Run a scalping strategy against an Alpaca or IBKR account (paper unless --live).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[cli.strategy_parent(), cli.symbols_parent(help_default="SPY")],
    )
    p.add_argument("--broker", choices=BROKERS, required=True, help="the venue: alpaca or ibkr")
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: out/live-<broker>-<strategy>)"
    )
    p.add_argument(
        "--journal",
        metavar="URL",
        help="SQLAlchemy URL of the journal (default: sqlite:///<OUT>/journal.sqlite)",
    )
    p.add_argument(
        "--catalog",
        type=Path,
        metavar="DIR",
        help="a backtest catalog for the IV history the greeks gate reads (as the backtest's)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="everything but order submission: orders are logged and simulated at the quotes",
    )
    p.add_argument(
        "--live",
        action="store_true",
        help="allow a REAL-MONEY account (you type its number back at a prompt)",
    )
    hours = p.add_mutually_exclusive_group()
    hours.add_argument(
        "--wait-for-open",
        dest="wait_for_open",
        action="store_true",
        default=True,
        help="market closed: count down and start at the open (default)",
    )
    hours.add_argument(
        "--exit-if-closed",
        dest="wait_for_open",
        action="store_false",
        help="market closed: exit with code 8 instead of waiting",
    )
    p.add_argument(
        "--exits-on-interrupt",
        choices=INTERRUPT_EXITS,
        default="flatten",
        help="on Ctrl-C close every scalp (flatten, default) or keep the positions for the next run",
    )
    lim = p.add_argument_group("limits")
    lim.add_argument(
        "--max-daily-loss",
        type=cli.money_arg,
        default=DEFAULT_MAX_DAILY_LOSS,
        metavar="USD",
        help=f"HALT when today's realized + open P&L is a loss this large (default {DEFAULT_MAX_DAILY_LOSS:g})",
    )
    lim.add_argument(
        "--max-orders-per-minute",
        type=cli.count_arg,
        default=DEFAULT_MAX_ORDERS_PER_MINUTE,
        metavar="N",
        help=f"entries wait when N orders went out in the last minute (default {DEFAULT_MAX_ORDERS_PER_MINUTE})",
    )
    lim.add_argument(
        "--max-open-scalps",
        type=cli.count_arg,
        default=DEFAULT_MAX_OPEN_SCALPS,
        metavar="N",
        help=f"no new entry while N scalps are open (default {DEFAULT_MAX_OPEN_SCALPS})",
    )
    lim.add_argument(
        "--max-premium-per-order",
        type=cli.money_arg,
        default=DEFAULT_MAX_PREMIUM_PER_ORDER,
        metavar="USD",
        help=f"refuse an entry costing more (price x qty x 100; default {DEFAULT_MAX_PREMIUM_PER_ORDER:g})",
    )
    p.add_argument(
        "--warmup-days",
        type=cli.count_arg,
        default=DEFAULT_WARMUP_DAYS,
        metavar="N",
        help=f"sessions of history before today that warm the indicators up (default {DEFAULT_WARMUP_DAYS}, as the backtest)",
    )
    p.add_argument(
        "--data-timeout",
        type=float,
        default=DEFAULT_DATA_TIMEOUT,
        metavar="S",
        help=f"a connected bar stream silent this many seconds counts as down (default {DEFAULT_DATA_TIMEOUT:g})",
    )
    cmp = p.add_argument_group("comparison with a backtest")
    cmp.add_argument(
        "--compare-with",
        type=Path,
        metavar="BACKTEST_OUT",
        help="after the session, compare its closed scalps with that backtest's trades.csv",
    )
    cmp.add_argument(
        "--run-id",
        metavar="RUN",
        help="with --compare-with: compare that journaled live run instead of trading",
    )
    ib = p.add_argument_group("IBKR")
    ib.add_argument("--host", help="TWS / IB Gateway host (default IB_HOST or 127.0.0.1)")
    ib.add_argument(
        "--port", type=cli.count_arg, help="TWS / IB Gateway port (default IB_PORT or 7497, paper)"
    )
    ib.add_argument(
        "--client-id", type=cli.count_arg, metavar="N", help="API client id (default IB_CLIENT_ID or 1)"
    )
    ib.add_argument(
        "--allow-delayed", action="store_true", help="trade on delayed market data (no subscription)"
    )
    p.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    return p  # fmt: skip


def request_from_args(args: argparse.Namespace) -> LiveRequest:
    return LiveRequest(
        broker=args.broker,
        strategy=args.strategy,
        params=tuple(args.param),
        profile=args.profile,
        symbols=cli.symbols_of(args.symbols) or ("SPY",),
        journal_url=args.journal,
        out_dir=args.out,
        dry_run=args.dry_run,
        live=args.live,
        catalog_dir=args.catalog,
        wait_for_open=args.wait_for_open,
        exits_on_interrupt=args.exits_on_interrupt,
        limits=LiveLimits(
            max_daily_loss=args.max_daily_loss,
            max_orders_per_minute=args.max_orders_per_minute,
            max_open_scalps=args.max_open_scalps,
            max_premium_per_order=args.max_premium_per_order,
        ),
        data_timeout=args.data_timeout,
        compare_with=args.compare_with,
        run_id=args.run_id,
        host=args.host,
        port=args.port,
        client_id=args.client_id,
        allow_delayed=args.allow_delayed,
        warmup_days=args.warmup_days,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The SDKs log (ib_async's "API connection failed", alpaca-py's retries): their records go
    # to <out>/live.log once the run has one, never to the console through logging's last resort.
    logging.getLogger().addHandler(logging.NullHandler())
    from app.live.session import run
    from app.live.startup import LiveStop
    from app.request import BadInput, RunFailed

    try:
        return run(request_from_args(args))
    except BadInput as exc:
        return cli.fail(str(exc), cli.EXIT_BAD_INPUT)
    except LiveStop as exc:
        return cli.fail(str(exc), exc.code)
    except RunFailed as exc:
        return cli.fail(str(exc), cli.EXIT_RUN_FAILED)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return cli.EXIT_INTERRUPTED
    except Exception as exc:
        if args.debug:
            raise
        from options_scalper.model import ScalperError

        if isinstance(exc, ScalperError | OSError):
            return cli.fail(str(exc), cli.EXIT_RUN_FAILED)
        return cli.fail(
            f"unexpected {type(exc).__name__}: {cli.one_line(exc)}; this is a bug: "
            "re-run with --debug and report the traceback",
            cli.EXIT_RUN_FAILED,
        )
