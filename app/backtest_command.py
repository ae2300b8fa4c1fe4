"""Backtest a 0DTE/1DTE options scalper on DataBento OPRA CBBO-1m data with Backtrader.

    python run_backtest.py                                # ema_cloud on the bundled sample
    python run_backtest.py --strategy momentum_burst --profile conservative
    python run_backtest.py --data ~/databento --symbols TSLA --start 2024-01-02 --end 2024-06-28 \\
        --param profit_target_pct=0.3
    python run_backtest.py --optimize profit_target_pct=0.2:0.4:0.1 --optimize max_loss_pct=0.3:0.5:0.1

Exit codes: 0 done, 1 the run failed, 2 bad input, 130 interrupted. Every failure
is one line on stderr (``--debug`` shows the traceback of an unexpected one).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from app import backtest as runner
from app import cli
from app.splits import SPLIT_NAMES
from options_scalper.constants import DEFAULT_CASH, DEFAULT_COMMISSION_PER_CONTRACT

EPILOG = """\
--param takes the strategy's parameters (fractions: 0.25 = 25%, times "HH:MM" US/Eastern);
a typo names the closest valid key. --optimize takes key=start:stop:step (stop inclusive,
whole numbers for integer params) or key=a,b,c; repeat it for a grid. Sweep results are
sorted by --sort-by (default total_pnl; higher is better, except drawdowns), inf above finite.

outputs (--out): report.json, trades.csv, equity.png, journal.sqlite (+ backtrader.png with
--plot); with --optimize: optimization.csv (+ heatmap.png for a two-key grid, parallel.png for
random / optuna search); with --walk-forward: walkforward_windows.csv, walkforward_equity.csv/.png,
parameter_stability.png, optimization.csv (every window's trials), trades.csv, report.json.
exit codes: 0 done, 1 run failed (e.g. a corrupt file with --strict), 2 bad input, 130 Ctrl-C.
"""


def build_parser() -> argparse.ArgumentParser:
    p = cli.Parser(
        prog="run_backtest.py",
        description="Backtest 0DTE/1DTE option scalps minute by minute on OPRA CBBO-1m quotes\n"
        "(buy at the ask, sell at the bid, commission per contract) and report the results.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[cli.strategy_parent(), cli.symbols_parent(help_default="all found")],
    )
    p.add_argument(
        "--data", type=Path, metavar="DIR",
        help="data folder: DIR/<SYMBOL>/cbbo-1m/<YYYY-MM-DD>.csv[.zst], bars in DIR/<SYMBOL>/ohlcv-1m/ "
        "(default: the bundled sample, built on first use)",
    )  # fmt: skip
    p.add_argument(
        "--catalog", type=cli.catalog_arg, metavar="DIR",
        help="catalog folder, built or updated on first use (default: <DATA>/.catalog)",
    )  # fmt: skip
    p.add_argument(
        "--start", type=cli.date_arg, metavar="YYYY-MM-DD", help="first trading session (default: first)"
    )
    p.add_argument(
        "--end", type=cli.date_arg, metavar="YYYY-MM-DD", help="last trading session (default: last)"
    )
    p.add_argument(
        "--split", choices=SPLIT_NAMES,
        help="run on one of seed 003's dataset splits: dev 2022-01-01..2023-12-31, validation "
        "2024-01-01..2024-06-30, oos 2024-07-01..2025-12-31 (moved by [splits] in ./scalper.toml or "
        "<DATA>/scalper.toml); with --start/--end, their intersection",
    )  # fmt: skip
    p.add_argument(
        "--i-know", action="store_true",
        help="run on out-of-sample dates although the ledger holds another parameter set of the strategy "
        "there (seed 003: touch OOS once)",
    )  # fmt: skip
    p.add_argument(
        "--warmup-days", type=cli.count_arg, default=runner.DEFAULT_WARMUP_DAYS, metavar="N",
        help=f"sessions before --start streamed to warm up indicators (default: {runner.DEFAULT_WARMUP_DAYS})",
    )  # fmt: skip
    p.add_argument("--cash", type=cli.money_arg, default=DEFAULT_CASH, help="starting cash (default: 100000)")
    p.add_argument(
        "--commission", type=cli.money_arg, default=DEFAULT_COMMISSION_PER_CONTRACT, metavar="USD",
        help="commission per contract, each side (default: 0.65)",
    )  # fmt: skip
    p.add_argument(
        "--out", type=Path, metavar="DIR",
        help="output folder (default: out/<strategy>-<YYYYmmdd-HHMMSS>)",
    )  # fmt: skip
    p.add_argument(
        "--journal", metavar="URL",
        help="SQLAlchemy URL of the scalp journal (default: sqlite:///<OUT>/journal.sqlite; "
        "off with --optimize unless given)",
    )  # fmt: skip
    p.add_argument("--plot", action="store_true", help="also save Backtrader's own chart (backtrader.png)")
    p.add_argument("--strict", action="store_true", help="stop on a corrupt day instead of skipping it")
    p.add_argument(
        "--bars-tz", default="America/New_York", metavar="ZONE",
        help="time zone of a vendor bar file's naive times (default America/New_York; DataBento files are UTC)",
    )  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress bars or status lines")
    opt = p.add_argument_group("optimization")
    opt.add_argument(
        "--optimize", action="append", default=[], metavar="KEY=START:STOP:STEP",
        help="sweep a parameter (repeatable; stop inclusive) or KEY=a,b,c",
    )  # fmt: skip
    opt.add_argument(
        "--workers", type=cli.count_arg, metavar="N", help="processes for --optimize (default: all cores)"
    )
    opt.add_argument(
        "--search", choices=runner.SEARCHES, default=runner.SEARCH_GRID,
        help="grid: every --optimize combination (default); random: --trials combinations drawn from them; "
        "optuna: --trials of Optuna's TPE sampler, objective --sort-by",
    )  # fmt: skip
    opt.add_argument(
        "--trials", type=cli.count_arg, metavar="N", help="random / optuna search: how many trials"
    )
    opt.add_argument(
        "--seed", type=cli.count_arg, metavar="S",
        help="random / optuna search: the draw, for the same trials again (default: a new seed, printed)",
    )  # fmt: skip
    opt.add_argument(
        "--engine", choices=runner.ENGINES, default=runner.ENGINE_LOCAL,
        help="local: --workers processes on this machine (default); ray: one Ray task per trial",
    )  # fmt: skip
    opt.add_argument(
        "--address", metavar="auto|ray://HOST:10001",
        help="--engine ray: the cluster (auto: the one `ray start --head` started here; default: a local "
        "instance for this command)",
    )  # fmt: skip
    opt.add_argument(
        "--walk-forward", metavar="train=6M,test=1M",
        help="re-optimise on each training window (M: months, D: trading sessions, e.g. train=60D,test=20D) "
        "and trade the next test window with the winner",
    )  # fmt: skip
    opt.add_argument(
        "--yes", action="store_true",
        help="start a sweep of more than 200 runs or about 30 min estimated (refused without it)",
    )  # fmt: skip
    opt.add_argument(
        "--sort-by", metavar="METRIC",
        help="metric that ranks the sweep (default: total_pnl), e.g. profit_factor, win_rate",
    )  # fmt: skip
    p.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    return p


def request_from_args(args: argparse.Namespace) -> runner.RunRequest:
    return runner.RunRequest(
        strategy=args.strategy,
        data_dir=args.data,
        catalog_dir=args.catalog,
        symbols=cli.symbols_of(args.symbols),
        start=args.start,
        end=args.end,
        cash=args.cash,
        params=tuple(args.param),
        profile=args.profile,
        commission=args.commission,
        out_dir=args.out,
        journal_url=args.journal,
        plot=args.plot,
        strict=args.strict,
        bars_tz=args.bars_tz,
        quiet=args.quiet,
        warmup_days=args.warmup_days,
        optimize=tuple(args.optimize),
        workers=args.workers,
        sort_by=args.sort_by,
        split=args.split,
        i_know=args.i_know,
        yes=args.yes,
        search=args.search,
        trials=args.trials,
        seed=args.seed,
        engine=args.engine,
        address=args.address,
        walk_forward=args.walk_forward,
    )


def execute(request: runner.RunRequest) -> int:
    """Run the request and print the report; return the exit code (exceptions propagate)."""
    prep = runner.prepare(request)
    if request.walk_forward is not None:
        from app.walkforward_run import run_walk_forward

        opt = run_walk_forward(prep)
        print(opt.console, end="")
        print(runner.describe_outputs(opt.files, prep.out_dir))
        return 0
    if request.optimize:
        from app.sweep import run_optimization

        opt = run_optimization(prep)
        print(opt.console, end="")
        print(runner.describe_outputs(opt.files, prep.out_dir))
        return 0
    try:
        outcome = runner.run_once(prep)
    except KeyboardInterrupt:
        where = f"; the journal {prep.journal_url} holds the scalps closed so far" if prep.journal_url else ""
        raise KeyboardInterrupt(f"no report written{where}") from None
    print(outcome.console, end="")
    print(runner.describe_outputs(outcome.files, prep.out_dir))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return execute(request_from_args(args))
    except runner.BadInput as exc:
        return cli.fail(str(exc), cli.EXIT_BAD_INPUT)
    except runner.RunFailed as exc:
        return cli.fail(str(exc), cli.EXIT_RUN_FAILED)
    except KeyboardInterrupt as exc:
        detail = f": {cli.one_line(exc)}" if str(exc) else ""
        print(f"interrupted{detail}", file=sys.stderr)
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
