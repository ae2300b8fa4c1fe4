"""Fixtures: the tiny SPY catalog, a ReplayMarket on its last day, the fake Alpaca, and an AlpacaVenue on it."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from brokers.alpaca.venue import AlpacaVenue, venue_from_environment
from tests.support.fake_alpaca import FakeAlpaca
from tests.support.replay_market import ReplayMarket
from tests.support.tiny_data import TINY_DAYS, tiny_spy

DAY = TINY_DAYS[-1]


@pytest.fixture(scope="session")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_spy(tmp_path_factory) / ".catalog"


@pytest.fixture
def market(catalog: Path) -> Iterator[ReplayMarket]:
    m = ReplayMarket(catalog, ["SPY"], DAY, start_et="10:00", end_et="11:00", minute_seconds=0.05)
    yield m
    m.stop()


@pytest.fixture
def fake(market: ReplayMarket) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(market, page_size=200) as f:
        yield f


def make_venue(fake: FakeAlpaca, env: dict[str, str] | None = None, **options: object) -> AlpacaVenue:
    venue = venue_from_environment({"data_timeout": 1.5, **options}, {**fake.env(), **(env or {})})
    assert isinstance(venue, AlpacaVenue)
    for client in (venue.trading, venue.stock_data, venue.option_data):
        client._retry, client._retry_wait = 0, 0  # no 3 x 3 s retry sleeps in tests
    return venue


@pytest.fixture
def venue(fake: FakeAlpaca) -> Iterator[AlpacaVenue]:
    v = make_venue(fake)
    v.connect()
    yield v
    v.close()


@pytest.fixture(scope="session")
def spy_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample's SPY (2024-10-28 warm-up, 2024-10-29 traded)."""
    from tests.support.live_runs import SPY_DAY, sample_catalog

    return sample_catalog(tmp_path_factory, "SPY", SPY_DAY)


@pytest.fixture(scope="session")
def tsla_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.support.live_runs import TSLA_DAY, sample_catalog

    return sample_catalog(tmp_path_factory, "TSLA", TSLA_DAY)


_BACKTESTS: dict[tuple[Any, ...], tuple[list[Any], Counter[str]]] = {}


def backtest_run(
    catalog: Path, strategy: type, symbol: str, day: date, **params: Any
) -> tuple[list[Any], Counter[str]]:
    """The backtest of ``strategy`` (with ``params``) on ``day``: its closed scalps and its rejections
    by reason (run once per session)."""
    key = (str(catalog), strategy.__name__, symbol, day.isoformat(), tuple(sorted(params.items())))
    if key not in _BACKTESTS:
        from app.cerebro import build_cerebro

        run = build_cerebro(strategy, str(catalog), [symbol], fromdate=day, todate=day, **params).run()[0]
        _BACKTESTS[key] = (list(run.closed_scalps), Counter(run.rejections))
    return _BACKTESTS[key]


def backtest_scalps(catalog: Path, strategy: type, symbol: str, day: date, **params: Any) -> list[Any]:
    """The backtest's closed scalps of ``strategy`` (with ``params``) on ``day`` (run once per session)."""
    return backtest_run(catalog, strategy, symbol, day, **params)[0]


def wait_for(check: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``check`` (real sockets deliver on their own threads); fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
