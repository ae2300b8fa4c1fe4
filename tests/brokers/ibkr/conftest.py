"""Fixtures: a ReplayMarket day served by the fake TWS, and an IBVenue on the REAL ib client connected to it."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.support.tiny_data import tiny_spy

DAY = date(2024, 1, 4)
_client_ids = itertools.count(10)


def wait_for(cond: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``cond`` until it is truthy (the venue's callbacks run on the IB loop thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.005)
    raise AssertionError(f"condition not met within {timeout} s")


SPY_ENV, SPX_ENV = (
    "OPTIONS_SCALPER_TEST_SPY_CATALOG",
    "OPTIONS_SCALPER_TEST_SPX_CATALOG",
)  # the fallback pass reuses ours


@pytest.fixture(scope="session")
def spy_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get(SPY_ENV):
        return Path(os.environ[SPY_ENV])
    return tiny_spy(tmp_path_factory) / ".catalog"


@pytest.fixture(scope="session")
def spx_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get(SPX_ENV):
        return Path(os.environ[SPX_ENV])
    from tests.brokers.ibkr.spx_data import spx_catalog

    return spx_catalog(tmp_path_factory)


@pytest.fixture
def market(spy_catalog: Path) -> Iterator[Any]:
    from tests.support.replay_market import ReplayMarket

    m = ReplayMarket(spy_catalog, ["SPY"], DAY, start_et="10:00", minute_seconds=0.02)
    yield m
    m.stop()


@pytest.fixture
def fake(market: Any) -> Iterator[Any]:
    from tests.support.fake_tws import FakeTWS

    f = FakeTWS(market).start()
    yield f
    f.stop()


def make_venue(fake: Any, **kw: Any) -> Any:
    from brokers.ibkr.config import IBConfig
    from brokers.ibkr.venue import IBVenue

    kw.setdefault("client_id", next(_client_ids))
    kw.setdefault("reconnect_initial", 0.05)
    kw.setdefault("request_timeout", 5.0)
    ack = kw.pop("order_ack_timeout", 1.0)
    return IBVenue(IBConfig(port=fake.port, **kw), order_ack_timeout=ack)


@pytest.fixture
def venue(fake: Any) -> Iterator[Any]:
    v = make_venue(fake)
    v.connect()
    yield v
    v.close()
