"""A loopback fake of Alpaca (REST, market-data and trading websockets) over a ``ReplayMarket``."""

from tests.support.fake_alpaca.faults import Faults
from tests.support.fake_alpaca.server import FakeAlpaca

__all__ = ["FakeAlpaca", "Faults"]
