"""``run_live.py --broker alpaca`` end to end against the fake Alpaca (issue 15, "The fake and the tests").

The session's own start-up path builds the venue from the fake's ``APCA_*`` environment
(``brokers.alpaca.venue.venue_from_environment``: alpaca-py's real clients, real sockets),
connects, checks the account, reconciles, journals and trades. Two ways to drive the clock:

* lockstep (the runtime's ``Harness`` runner only): the replay advances once the strategy
  has processed its minute, so the live run must take exactly the backtest's trades;
* free-running (``live_command.main``, nothing replaced): the fake paces the replay itself,
  the trade window at a fast but humane pace and the quiet tail to the close quickly, where
  the session ends by itself with exit code 0.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from app import live_command
from app.live.limits import LiveLimits
from app.live.request import LiveRequest
from app.live.session import Harness, run
from journal.models import LiveOrderRecord, OptionsScalpRecord, RunRecord
from options_scalper.eastern import ET
from strategies.ema_cloud import EmaCloudScalp
from strategies.momentum_burst import MomentumBurstScalp
from tests.app.live.session_runs import StoppableLockstep
from tests.brokers.alpaca.conftest import backtest_scalps
from tests.support.fake_alpaca import FakeAlpaca
from tests.support.live_runs import ANY_BID, SPY_DAY, TSLA_DAY, journal_rows
from tests.support.replay_market import ReplayMarket

# the backtest knows no runtime limits: none of them may bind for the trades to match
NO_LIMITS = LiveLimits(max_daily_loss=1e9, max_orders_per_minute=1000, max_open_scalps=100,
                       max_premium_per_order=1e9)  # fmt: skip
SOCKET_CLOCK = dict(gap_grace_seconds=5.0, clock_poll_seconds=0.0, qcheck=0.1)


class _Stepper:
    def __init__(self, fake: FakeAlpaca) -> None:
        self.market = fake.market

    def step(self) -> Any:
        return self.market.step()


def _naive(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None)


def _journal_key(r: Any) -> tuple[Any, ...]:
    return (r.option_symbol, r.contracts, r.entry_time, r.exit_time, r.exit_reason,
            round(r.entry_premium, 6), round(r.exit_premium, 6))  # fmt: skip


def _backtest_key(s: Any) -> tuple[Any, ...]:
    return (s.option_symbol, s.contracts, _naive(s.entry_time), _naive(s.exit_time), s.exit_reason,
            round(s.entry_premium, 6), round(s.exit_premium, 6))  # fmt: skip


def _et(day: date, hhmm: str) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(h, m), tzinfo=ET).astimezone(UTC)


def _whole_scalps(out: Path, symbol: str) -> list[Any]:
    """The journal's closed scalps; each one's entry and exit went out, were filled and journaled."""
    [run_row] = journal_rows(out, RunRecord)
    assert (run_row.mode, run_row.broker, run_row.account, run_row.status) == (
        "paper", "alpaca", "PA0000REPLAY", "finished",
    )  # fmt: skip
    scalps = [s for s in journal_rows(out, OptionsScalpRecord) if s.ticker == symbol]
    assert scalps and all(
        s.status == "closed" and s.exit_premium is not None and s.pnl is not None for s in scalps
    )
    orders = journal_rows(out, LiveOrderRecord)
    events = {(o.role, o.event) for o in orders}
    assert {("entry", "submitted"), ("entry", "fill"), ("exit", "submitted"), ("exit", "fill")} <= events
    fills = [o for o in orders if o.event in ("fill", "partial_fill")]
    assert all(o.execution_id and o.fill_qty and o.fill_price for o in fills)
    assert len({o.execution_id for o in fills}) == len(fills)  # one row per execution, none twice
    return scalps


@pytest.mark.parametrize(
    ("strategy", "name", "symbol", "day", "start_et", "end_et"),
    [
        (EmaCloudScalp, "ema_cloud", "SPY", SPY_DAY, "11:30", "12:05"),
        (MomentumBurstScalp, "momentum_burst", "TSLA", TSLA_DAY, "10:00", "11:15"),
    ],
)
def test_run_live_on_the_fake_takes_the_backtests_trades(
    tmp_path: Path, request: pytest.FixtureRequest, strategy: type, name: str, symbol: str, day: date,
    start_et: str, end_et: str,
) -> None:  # fmt: skip
    catalog = request.getfixturevalue("spy_sample" if symbol == "SPY" else "tsla_sample")
    market = ReplayMarket(catalog, [symbol], day, warmup_days=1, start_et=start_et, end_et=end_et)
    out = tmp_path / "out"
    with FakeAlpaca(market) as fake:
        harness = Harness(
            runner=lambda venue, cerebro: StoppableLockstep(_Stepper(fake), cerebro, timeout=30.0).run(),  # type: ignore[arg-type]
            store_options={"clock_params": SOCKET_CLOCK, **ANY_BID},
        )
        req = LiveRequest(broker="alpaca", strategy=name, symbols=(symbol,), out_dir=out, warmup_days=1,
                          limits=NO_LIMITS, data_timeout=60.0)  # fmt: skip
        console = io.StringIO()
        code = run(req, env=fake.env(), console=console, harness=harness)
        requests = list(fake.requests)
    assert code == 0, console.getvalue()
    assert ("POST", "/v2/orders") in requests and ("GET", f"/v1beta1/options/snapshots/{symbol}") in requests
    live = sorted(_journal_key(s) for s in _whole_scalps(out, symbol))
    closed = backtest_scalps(catalog, strategy, symbol, day)
    expected = sorted(_backtest_key(s) for s in closed if s.exit_time <= market.end_utc)
    assert expected and live == expected
    text = (out / "live.log").read_text() + console.getvalue()
    assert fake.key not in text and fake.secret not in text


def _free_running(spy_sample: Path, out: Path, run_session: Any) -> tuple[int, str, bool]:
    market = ReplayMarket(spy_sample, ["SPY"], SPY_DAY, warmup_days=1, start_et="11:35")
    # humane minutes where the strategy picks its contract (11:46) and its entry fills, quick
    # ones up to the exit (11:56), a quiet tail to the close in a few seconds
    pace = [(_et(SPY_DAY, "11:45"), 1.5), (_et(SPY_DAY, "11:50"), 0.25), (_et(SPY_DAY, "12:00"), 0.01)]
    with FakeAlpaca(market) as fake:
        fake.run_clock(0.1, pace=pace)
        code, text = run_session(fake.env())
        return code, text, market.finished.is_set()


def test_the_run_live_command_completes_whole_scalps_and_ends_with_the_day(
    tmp_path: Path, spy_sample: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``run_live.py``'s main with nothing replaced: the venue from the environment, Cerebro's own
    run, the fake's own pace (slow around the signal, a quick tail to the close)."""
    out = tmp_path / "out"

    def command(env: dict[str, str]) -> tuple[int, str]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        code = live_command.main(["--broker", "alpaca", "--strategy", "ema_cloud", "--symbols", "SPY",
                                  "--out", str(out), "--data-timeout", "30", "--max-open-scalps", "1",
                                  "--warmup-days", "1"])  # fmt: skip
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    code, text, finished = _free_running(spy_sample, out, command)
    assert code == 0, text
    assert finished and "session over" in text
    assert _whole_scalps(out, "SPY")
