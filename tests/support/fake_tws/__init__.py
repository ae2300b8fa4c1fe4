"""A loopback fake of TWS / IB Gateway speaking the TWS socket protocol to the real ib_async / ib_insync client."""

from tests.support.fake_tws.faults import Faults
from tests.support.fake_tws.server import ACCOUNT, FakeTWS

__all__ = ["ACCOUNT", "FakeTWS", "Faults"]
