"""AlpacaStore over the fake Alpaca (alpaca-py's real clients, real sockets) takes the backtest's trades.

(Both strategies through the whole run_live session: ``test_run_live_e2e.py``.)

The core's live Cerebro (``cerebro_for(AlpacaStore(venue), Strategy, ...)``) runs in lockstep
with the fake's replay (the market steps once the strategy has processed its minute), so
bars, chain snapshots, quotes, orders and fills all travel Alpaca's wire protocol. The
backtest runs the same day from the catalog; the live window ends before the close.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.cerebro import cerebro_for
from brokers.alpaca.store import AlpacaStore
from brokers.alpaca.venue import AlpacaVenue
from strategies.ema_cloud import EmaCloudScalp
from tests.brokers.alpaca.conftest import backtest_run, backtest_scalps, make_venue
from tests.support.fake_alpaca import FakeAlpaca
from tests.support.live_runs import ANY_BID, SPY_DAY
from tests.support.replay_market import ReplayMarket
from tests.support.replay_venue import Lockstep

# bars reach the clock over a socket a moment after the venue's clock says their minute closed
SOCKET_CLOCK = dict(gap_grace_seconds=5.0, clock_poll_seconds=0.0, qcheck=0.1)


class _Stepper:
    """What ``Lockstep`` drives: the fake's market, one minute per step."""

    def __init__(self, fake: FakeAlpaca) -> None:
        self.market = fake.market

    def step(self) -> Any:
        return self.market.step()


def _key(s: Any) -> tuple[Any, ...]:
    return (
        s.signal_id, s.option_symbol, s.contracts, s.entry_time, s.exit_time, s.exit_reason,
        round(s.entry_premium, 6), round(s.exit_premium, 6), round(s.pnl, 4), round(s.commission, 4),
    )  # fmt: skip


@pytest.fixture
def run_on_fake() -> Iterator[Any]:
    venues: list[AlpacaVenue] = []
    fakes: list[FakeAlpaca] = []

    def run(
        catalog: Path, strategy: type, symbol: str, day: date, end_et: str, **params: Any
    ) -> tuple[Any, Any, FakeAlpaca]:
        market = ReplayMarket(catalog, [symbol], day, warmup_days=1, end_et=end_et)
        fake = FakeAlpaca(market).start()
        fakes.append(fake)
        venue = make_venue(fake, data_timeout=60.0)
        venues.append(venue)
        venue.connect()
        store = AlpacaStore(venue, catalog=str(catalog), clock_params=SOCKET_CLOCK, **ANY_BID)
        cerebro = cerebro_for(store, strategy, [symbol], fromdate=day, todate=day, **params)
        live = Lockstep(_Stepper(fake), cerebro, timeout=30.0).run()[0]  # type: ignore[arg-type]
        closed = backtest_scalps(catalog, strategy, symbol, day, **params)
        expected = [_key(s) for s in closed if s.exit_time <= market.end_utc]
        return live, expected, fake

    yield run
    for v in venues:
        v.close()
    for f in fakes:
        f.stop()


def test_ema_cloud_on_the_fake_takes_the_backtests_trades(spy_sample: Path, run_on_fake: Any) -> None:
    live, expected, fake = run_on_fake(spy_sample, EmaCloudScalp, "SPY", SPY_DAY, "12:05")
    assert expected, "the window must hold at least one of the backtest's trades"
    assert [_key(s) for s in live.closed_scalps] == expected
    assert ("POST", "/v2/orders") in fake.requests and fake.streams.connects["orders"] == 1


def _statistics(catalog: Path, symbol: str, day: date, option_symbol: str) -> tuple[float, float]:
    """``option_symbol``'s open interest and (previous session's) volume in the catalog's statistics of ``day``."""
    from feeds.catalog.api import open_catalog

    stats = open_catalog(catalog).read_open_interest(symbol, day)
    assert stats is not None, "the sample has statistics"
    rows = stats[stats["symbol"] == option_symbol]  # one row per publication: the last of each figure
    return float(rows["open_interest"].dropna().iloc[-1]), float(rows["volume"].dropna().iloc[-1])


@pytest.mark.parametrize(("param", "column"), [("min_open_interest", 0), ("min_volume", 1)])
def test_open_interest_and_volume_filters_refuse_the_contract_live_as_in_the_backtest(
    spy_sample: Path, run_on_fake: Any, param: str, column: int
) -> None:
    """The contract the backtest takes by default, with the minimum raised just above its own open
    interest (volume): the backtest refuses it, finds nothing else fit at that signal (the contracts
    with more are outside the delta band) and trades nothing. Live on the fake must refuse it the same
    way, which it only can with Alpaca's open interest (contracts listing) and prior-session volume
    (the snapshots' daily bars) in its chain: without them the live selector skips the filter and
    takes the default trade."""
    default, default_rejections = backtest_run(spy_sample, EmaCloudScalp, "SPY", SPY_DAY)
    assert default and default[0].exit_time.hour < 16  # the default trade is in the live window (UTC)
    minimum = int(_statistics(spy_sample, "SPY", SPY_DAY, default[0].option_symbol)[column]) + 1
    closed, rejections = backtest_run(spy_sample, EmaCloudScalp, "SPY", SPY_DAY, **{param: minimum})
    refused = rejections - default_rejections  # why the backtest took nothing at the default's signal
    assert closed == [] and refused
    live, expected, fake = run_on_fake(spy_sample, EmaCloudScalp, "SPY", SPY_DAY, "12:05", **{param: minimum})
    assert expected == [] and live.closed_scalps == [] and not live.scalps
    assert {r: live.rejections[r] for r in refused} == dict(refused), dict(live.rejections)
    assert fake.requests.count(("GET", "/v2/options/contracts")) == 1  # one listing for the day
