"""IBStore over the fake TWS (the real ib client, a real socket) takes the backtest's trades.

The core's live Cerebro (``cerebro_for(IBStore(venue), Strategy, ...)``) runs in lockstep with
the fake's replay (the market steps once the strategy has processed its minute), so bars,
chain snapshots, quotes, orders and fills all travel the TWS protocol. The backtest runs the
same day from the catalog; the live window ends before the close.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.cerebro import build_cerebro, cerebro_for
from brokers.ibkr.store import IBStore
from strategies.ema_cloud import EmaCloudScalp
from strategies.momentum_burst import MomentumBurstScalp
from tests.brokers.ibkr.conftest import make_venue
from tests.support.fake_tws import FakeTWS
from tests.support.live_runs import ANY_BID, SPY_DAY, TSLA_DAY, sample_catalog
from tests.support.replay_market import ReplayMarket
from tests.support.replay_venue import Lockstep

# bars reach the clock over a socket a moment after the venue's clock says their minute closed
SOCKET_CLOCK = dict(gap_grace_seconds=5.0, clock_poll_seconds=0.0, qcheck=0.1)


@pytest.fixture(scope="module")
def spy_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_catalog(tmp_path_factory, "SPY", SPY_DAY)


@pytest.fixture(scope="module")
def tsla_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_catalog(tmp_path_factory, "TSLA", TSLA_DAY)


class _Stepper:
    """What ``Lockstep`` drives: the fake's market, one minute per step."""

    def __init__(self, fake: FakeTWS) -> None:
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
    opened: list[Any] = []

    def run(
        catalog: Path, strategy: type, symbol: str, day: date, end_et: str, **params: Any
    ) -> tuple[Any, Any, FakeTWS]:
        market = ReplayMarket(catalog, [symbol], day, warmup_days=1, end_et=end_et)
        fake = FakeTWS(market).start()
        venue = make_venue(fake, data_timeout=60.0)
        opened.append((venue, fake))
        venue.connect()
        store = IBStore(venue, catalog=str(catalog), clock_params=SOCKET_CLOCK, **ANY_BID)
        cerebro = cerebro_for(store, strategy, [symbol], fromdate=day, todate=day, **params)
        live = Lockstep(_Stepper(fake), cerebro, timeout=30.0).run()[0]  # type: ignore[arg-type]
        backtest = build_cerebro(strategy, str(catalog), [symbol], fromdate=day, todate=day, **params).run()[
            0
        ]
        expected = [_key(s) for s in backtest.closed_scalps if s.exit_time <= market.end_utc]
        return live, expected, fake

    yield run
    for venue, fake in opened:
        venue.close()
        fake.stop()


def test_ema_cloud_on_the_fake_tws_takes_the_backtests_trades(spy_sample: Path, run_on_fake: Any) -> None:
    live, expected, fake = run_on_fake(spy_sample, EmaCloudScalp, "SPY", SPY_DAY, "12:05")
    assert expected, "the window must hold at least one of the backtest's trades"
    assert [_key(s) for s in live.closed_scalps] == expected
    assert fake.requests(3) and fake.requests(20)  # orders and bars went over the TWS socket


def test_momentum_burst_on_the_fake_tws_takes_the_backtests_trades(
    tsla_sample: Path, run_on_fake: Any
) -> None:
    live, expected, fake = run_on_fake(tsla_sample, MomentumBurstScalp, "TSLA", TSLA_DAY, "11:15")
    assert len(expected) >= 2
    assert [_key(s) for s in live.closed_scalps] == expected
    assert fake.market.account().cash == pytest.approx(live.broker.getcash())


def test_the_open_interest_filter_refuses_the_contract_on_ib_as_in_the_backtest(
    spy_sample: Path, run_on_fake: Any
) -> None:
    """The minimum open interest raised just above that of the contract ema_cloud takes by default:
    the backtest refuses it (and finds nothing else fit at that signal); IB live must refuse it for the
    same reason, which it can only with the open interest of generic tick 101 on its option lines."""
    from feeds.catalog.api import open_catalog

    def backtest(**params: Any) -> Any:
        return build_cerebro(EmaCloudScalp, str(spy_sample), ["SPY"], fromdate=SPY_DAY, todate=SPY_DAY,
                             **params).run()[0]  # fmt: skip

    default = backtest()
    first = default.closed_scalps[0].option_symbol
    stats = open_catalog(spy_sample).read_open_interest("SPY", SPY_DAY)
    minimum = int(stats[stats["symbol"] == first]["open_interest"].dropna().iloc[-1]) + 1
    refused = Counter(backtest(min_open_interest=minimum).rejections) - Counter(default.rejections)
    live, expected, _ = run_on_fake(
        spy_sample, EmaCloudScalp, "SPY", SPY_DAY, "12:05", min_open_interest=minimum
    )
    assert expected == [] and refused and live.closed_scalps == [] and not live.scalps
    assert {r: live.rejections[r] for r in refused} == dict(refused), dict(live.rejections)
