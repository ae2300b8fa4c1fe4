"""The replay engine the loopback fakes serve: bars closed by its clock, the catalog's chain, backtest fills."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from brokers.live.venue import ChainRequest, EventKind, OrderEvent, OrderRequest, OrderStatus
from feeds.catalog.catalog import Catalog
from feeds.catalog.chain import ChainProvider
from options_scalper.constants import CONTRACT_MULTIPLIER
from tests.support.replay_market import ReplayMarket
from tests.support.tiny_data import TINY_DAYS, tiny_spy

DAY = TINY_DAYS[-1]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_spy(tmp_path_factory) / ".catalog"


def market(catalog: Path, **kw: object) -> tuple[ReplayMarket, list[OrderEvent]]:
    m = ReplayMarket(catalog, ["SPY"], DAY, **kw)  # type: ignore[arg-type]
    events: list[OrderEvent] = []
    m.on_event(events.append)
    return m, events


def test_bars_are_served_only_once_closed_and_warmup_sessions_are_history(catalog: Path) -> None:
    m, _ = market(catalog)
    day0 = datetime(2024, 1, 2, tzinfo=UTC)
    far = datetime(2024, 1, 5, tzinfo=UTC)
    history = m.bars("SPY", day0, far)
    assert len(history) == 2 * 390 and all(b.start + timedelta(minutes=1) <= m.now() for b in history)
    seen: list[datetime] = []
    m.on_minute(seen.append)
    m.step()
    m.step()
    today = [b for b in m.bars("SPY", day0, far) if b.start >= m.open_utc]
    assert [b.start for b in today] == [m.open_utc, m.open_utc + timedelta(minutes=1)]
    assert seen == [m.open_utc + timedelta(minutes=1), m.open_utc + timedelta(minutes=2)]
    raw = Catalog(catalog).read_bars("SPY", DAY)
    assert today[1].close == pytest.approx(float(raw["close"].iloc[1]))


def test_chain_is_the_catalogs_minute_within_the_band(catalog: Path) -> None:
    m, _ = market(catalog, start_et="10:00")
    m.step()
    price = m.last_price("SPY")
    quotes = m.chain(ChainRequest("SPY", [DAY], price - 5, price + 5))
    assert quotes and all(price - 5 <= float(q.option_symbol[-8:]) / 1000 <= price + 5 for q in quotes)
    provider = ChainProvider(Catalog(catalog), "SPY")
    for q in quotes[:5]:
        ref = provider.quote(q.option_symbol, m.now())
        assert ref is not None and (q.bid, q.ask, q.ask_size) == (ref.bid, ref.ask, ref.ask_size)
        assert (m.now() - q.ts).total_seconds() / 60 == ref.age_min
    assert any(q.delta is not None for q in quotes)


def test_an_order_fills_on_the_next_minute_at_the_quote_capped_by_size(catalog: Path) -> None:
    m, events = market(catalog, start_et="10:00", cash=1e8)
    m.step()
    price = m.last_price("SPY")
    q = min(m.chain(ChainRequest("SPY", [DAY], price - 3, price + 3)), key=lambda x: x.ask_size)
    cash0 = m.cash
    report = m.submit(OrderRequest("run-1", q.option_symbol, "buy", 500, round(q.ask * 1.5 + 1, 2)))
    assert report.status is OrderStatus.ACCEPTED and [e.kind for e in events] == [EventKind.ACCEPTED]
    m.step()
    nxt = ChainProvider(Catalog(catalog), "SPY").quote(q.option_symbol, m.now())
    assert nxt is not None
    fill = events[-1]
    assert fill.kind is EventKind.PARTIAL_FILL and fill.execution is not None
    assert fill.execution.price == nxt.ask and fill.execution.qty == int(nxt.ask_size)
    assert m.cash == pytest.approx(
        cash0 - fill.execution.qty * (nxt.ask * CONTRACT_MULTIPLIER + m.commission)
    )
    assert m.positions()[0].qty == fill.execution.qty
    assert m.find_order("run-1") is not None and m.find_order("run-1").filled_qty == fill.execution.qty  # type: ignore[union-attr]
    m.cancel(report.venue_order_id)
    assert events[-1].kind is EventKind.CANCELED and not m.open_orders()


def test_refusals_name_the_reason(catalog: Path) -> None:
    m, events = market(catalog, start_et="10:00", cash=100.0)
    m.step()
    price = m.last_price("SPY")
    q = m.chain(ChainRequest("SPY", [DAY], price - 3, price + 3))[0]
    assert m.submit(OrderRequest("a", q.option_symbol, "buy", 1, 5.0)).status is OrderStatus.REJECTED
    assert events[-1].message == "insufficient buying power"
    assert m.submit(OrderRequest("b", q.option_symbol, "sell", 1, 0.05)).status is OrderStatus.REJECTED
    assert "insufficient qty" in events[-1].message


def test_a_limit_below_the_ask_waits_and_the_day_order_expires_at_the_close(catalog: Path) -> None:
    m, events = market(catalog, start_et="15:57")
    m.step()
    price = m.last_price("SPY")
    q = m.chain(ChainRequest("SPY", [DAY], price - 3, price + 3))[0]
    m.submit(OrderRequest("c", q.option_symbol, "buy", 1, 0.01))
    while not m.finished.is_set():
        m.step()
    assert [e.kind for e in events] == [EventKind.ACCEPTED, EventKind.EXPIRED]
    assert m.now() == m.close_utc and not m.clock().is_open
