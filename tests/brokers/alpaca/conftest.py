"""Fixtures: the tiny SPY catalog, a ReplayMarket on its last day, the fake Alpaca, and an AlpacaVenue on it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

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


def wait_for(check: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``check`` (real sockets deliver on their own threads); fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
