"""SPX on IBKR: Index('SPX','CBOE'), SPXW dailies (PM) vs the AM-settled SPX monthly, always with tradingClass.

The replayed day is 2024-01-19, a third Friday: the monthly SPX (AM-settled, value fixed at
the open) and the SPXW 0DTE (PM-settled) both expire that day at the same strikes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from brokers.ibkr import ibapi
from brokers.ibkr.parsing import settlement_of_contract
from brokers.live.venue import ChainRequest, EventKind, OrderRequest, VenueError, VenueErrorKind
from options_scalper.config import ScalpConfig
from options_scalper.model import AccountState, ChainSnapshot, Direction, Rejection, Signal
from options_scalper.occ import parse_occ
from options_scalper.scalper import OptionsScalper, OrderIntent
from tests.brokers.ibkr.conftest import make_venue, wait_for

EXPIRY = date(2024, 1, 19)


@pytest.fixture
def spx(spx_root: Path) -> Iterator[tuple[Any, Any, Any]]:
    from tests.support.fake_tws import FakeTWS
    from tests.support.replay_market import ReplayMarket

    market = ReplayMarket(spx_root, ["SPX"], EXPIRY, start_et="10:30", minute_seconds=0.02)
    fake = FakeTWS(market).start()
    venue = make_venue(fake)
    venue.connect()
    yield market, fake, venue
    venue.close()
    fake.stop()
    market.stop()


def _request(market: Any, roots: tuple[str, ...]) -> ChainRequest:
    px = market.last_price("SPX")
    return ChainRequest("SPX", [EXPIRY], px - 30, px + 30, roots=roots)


def _snapshot(quotes: list[Any], market: Any) -> ChainSnapshot:
    occ = [parse_occ(q.option_symbol) for q in quotes]
    n = len(quotes)
    return ChainSnapshot(
        underlying="SPX", ts=market.now(), underlying_price=market.last_price("SPX"),
        symbol=np.array([q.option_symbol for q in quotes], dtype=object),
        expiry=np.array([o.expiry for o in occ], dtype="datetime64[D]"),
        is_call=np.array([o.right.value == "C" for o in occ]), strike=np.array([o.strike for o in occ]),
        bid=np.array([q.bid for q in quotes]), ask=np.array([q.ask for q in quotes]),
        bid_size=np.array([q.bid_size for q in quotes]), ask_size=np.array([q.ask_size for q in quotes]),
        quote_age_min=np.zeros(n), open_interest=np.full(n, np.nan), volume=np.full(n, np.nan),
    )  # fmt: skip


def _signal(market: Any) -> Signal:
    return Signal("sig-spx", "SPX", market.now(), Direction.BULLISH, 80, "cloud_flip", True)


def test_spx_is_the_cboe_index_with_one_chain_per_trading_class(spx: tuple[Any, Any, Any]) -> None:
    market, fake, venue = spx
    bars = venue.historical_bars("SPX", market.open_utc, market.now())
    assert bars == market.bars("SPX", market.open_utc, market.now())
    underlying = next(f for f in fake.requests(9) if f[4] == "SPX" and f[5] == "IND")
    assert underlying[10] == "CBOE"  # Index('SPX', 'CBOE')
    chains = venue._chains_of("SPX")
    assert {c.tradingClass for c in chains} == {"SPX", "SPXW"} and {c.exchange for c in chains} == {"SMART"}
    assert all(c.multiplier == "100" for c in chains)


def test_spxw_0dte_band_is_pm_settled_and_trades(spx: tuple[Any, Any, Any]) -> None:
    market, fake, venue = spx
    quotes = venue.chain(_request(market, ("SPXW",)))
    assert quotes and all(q.option_symbol.startswith("SPXW240119") for q in quotes)
    sent = [f for f in fake.requests(9) if f[5] == "OPT"]
    assert sent and all(f[14] == "SPXW" and f[4] == "SPX" for f in sent)  # symbol SPX, tradingClass SPXW
    contract = venue.qualified(quotes[0].option_symbol)
    assert contract.tradingClass == "SPXW" and settlement_of_contract(contract) == "PM"
    assert contract.localSymbol.startswith("SPXW  240119")

    intent = OptionsScalper(ScalpConfig(min_open_interest=0, min_volume=0)).process_signal(
        _signal(market), _snapshot(quotes, market), AccountState(equity=100_000.0, cash=100_000.0)
    )
    assert isinstance(intent, OrderIntent) and intent.option_symbol.startswith("SPXW240119")
    events: list[Any] = []
    venue.subscribe_orders(events.append)
    venue.submit(OrderRequest("spx-e1", intent.option_symbol, "buy", 1, round(intent.limit_price + 1.0, 1)))
    market.step()
    wait_for(lambda: any(e.kind is EventKind.FILL for e in events))
    assert next(e for e in events if e.kind is EventKind.FILL).execution.option_symbol == intent.option_symbol


def test_the_am_settled_monthly_is_refused_on_its_last_day(spx: tuple[Any, Any, Any]) -> None:
    market, _fake, venue = spx
    monthly = venue.chain(_request(market, ("SPX",)))
    assert monthly and all(q.option_symbol.startswith("SPX240119") for q in monthly)
    contract = venue.qualified(monthly[0].option_symbol)
    assert contract.tradingClass == "SPX" and settlement_of_contract(contract) == "AM"
    account = AccountState(equity=100_000.0, cash=100_000.0)
    scalper = OptionsScalper(ScalpConfig(min_open_interest=0, min_volume=0))
    refused = scalper.process_signal(_signal(market), _snapshot(monthly, market), account)
    assert isinstance(refused, Rejection), refused  # settled at today's open: nothing of it may be bought
    assert refused.reason_code == "no_expiry" and "0 not yet settled" in refused.message
    both = venue.chain(_request(market, ("SPX", "SPXW")))
    assert {q.option_symbol[:4] for q in both} == {"SPX2", "SPXW"}
    chosen = scalper.process_signal(_signal(market), _snapshot(both, market), account)
    assert isinstance(chosen, OrderIntent) and chosen.option_symbol.startswith("SPXW")


def test_an_spx_option_without_trading_class_is_ambiguous_not_a_crash(spx: tuple[Any, Any, Any]) -> None:
    market, _fake, venue = spx
    strike = parse_occ(venue.chain(_request(market, ("SPX",)))[0].option_symbol).strike
    with pytest.raises(VenueError) as err:
        venue.qualify(
            ibapi.Option("SPX", "20240119", strike, "C", "SMART"), "SPX 2024-01-19 C without tradingClass"
        )
    text = str(err.value)
    assert err.value.kind is VenueErrorKind.BAD_SYMBOL and "\n" not in text
    assert "ambiguous" in text and "SPX, SPXW" in text
