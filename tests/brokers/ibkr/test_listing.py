"""IBVenue's option listing and open interest through the REAL ib client against the fake TWS.

``option_expiries`` reads ``reqSecDefOptParams`` (an underlying TWS knows but lists no
options of answers with the end message only); every option line asks generic tick 101 and
its quote carries the open interest TWS sends (tick 27 for a call, 28 for a put).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from brokers.live.venue import ChainRequest, VenueError, VenueErrorKind
from options_scalper.occ import parse_occ
from tests.brokers.ibkr.conftest import DAY, make_venue

MKT_DATA = 1


@pytest.fixture
def bare_fake(market: Any) -> Iterator[Any]:
    from tests.support.fake_tws import FakeTWS

    f = FakeTWS(market, bare_underlyings=["XYZ"]).start()
    yield f
    f.stop()


@pytest.fixture
def bare_venue(bare_fake: Any) -> Iterator[Any]:
    v = make_venue(bare_fake)
    v.connect()
    yield v
    v.close()


def test_listed_expiries_an_underlying_without_options_and_an_unknown_one(
    bare_venue: Any, bare_fake: Any
) -> None:
    later = DAY + timedelta(days=10)
    listed = sorted({parse_occ(c.occ).expiry for c in bare_fake.universe.options.values()})
    assert bare_venue.option_expiries("SPY", DAY, later) == [d for d in listed if DAY <= d <= later]
    assert bare_venue.option_expiries("SPY", DAY, DAY) == [DAY]
    assert bare_venue.option_expiries("XYZ", DAY, later) == []  # known stock, no options
    with pytest.raises(VenueError) as err:
        bare_venue.option_expiries("QQQ", DAY, later)
    assert err.value.kind is VenueErrorKind.BAD_SYMBOL and "QQQ" in str(err.value)


def test_chain_quotes_carry_the_open_interest_published_before_the_session(
    bare_venue: Any, bare_fake: Any, market: Any
) -> None:
    px = market.last_price("SPY")
    quotes = bare_venue.chain(ChainRequest("SPY", [DAY], px - 3, px + 3))
    published = market.open_interest("SPY")
    assert quotes and published
    assert {q.option_symbol: q.open_interest for q in quotes} == {
        q.option_symbol: published[q.option_symbol] for q in quotes
    }
    assert all(q.volume is None for q in quotes)  # IB has no tick of the previous session's volume
    generic = {f[-4] for f in bare_fake.requests(MKT_DATA) if f[5] == "OPT"}
    assert generic == {"101"}
