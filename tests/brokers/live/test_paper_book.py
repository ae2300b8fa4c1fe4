"""PaperBook, the simulated venues' one order book: refusals, the backtest's fill rule, booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brokers.live.paper import PaperBook
from brokers.live.venue import EventKind, OptionQuote, OrderRequest, OrderStatus
from options_scalper.constants import CONTRACT_MULTIPLIER

SYM = "SPY241029C00580000"
M0 = datetime(2024, 10, 29, 15, 0, tzinfo=UTC)
M1 = M0 + timedelta(minutes=1)


def quote(ts: datetime, bid: float, ask: float, size: float = 10.0) -> OptionQuote:
    return OptionQuote(SYM, ts, bid, ask, size, size)


def test_a_buy_never_fills_in_its_minute_then_fills_at_the_ask_capped_by_size() -> None:
    book = PaperBook(10_000.0, id_prefix="t", commission=0.65)
    accepted = book.submit(OrderRequest("c1", SYM, "buy", 15, 1.10), M0, M0)
    assert accepted.kind is EventKind.ACCEPTED and accepted.order.venue_order_id == "t-1"
    assert book.match(M0, lambda _: quote(M0, 1.00, 1.05)) == []  # the submission minute
    [partial] = book.match(M1, lambda _: quote(M1, 1.00, 1.05, size=10))
    assert partial.kind is EventKind.PARTIAL_FILL and partial.execution is not None
    assert (partial.execution.price, partial.execution.qty, partial.execution.commission) == (1.05, 10, 6.5)
    assert book.cash == pytest.approx(10_000.0 - 10 * 1.05 * CONTRACT_MULTIPLIER - 6.5)
    assert [(p.symbol, p.qty, p.avg_price) for p in book.positions()] == [(SYM, 10, 1.05)]
    assert book.find_order("c1") is not None and book.find_order("c1").status is OrderStatus.PARTIALLY_FILLED  # type: ignore[union-attr]


def test_a_limit_the_quote_does_not_reach_waits_and_a_stale_quote_never_fills() -> None:
    book = PaperBook(10_000.0, id_prefix="t", max_quote_age_min=2.0)
    book.submit(OrderRequest("c1", SYM, "buy", 1, 1.00), M0, M0)
    assert book.match(M1, lambda _: quote(M1, 1.00, 1.05)) == []  # ask above the limit
    later = M1 + timedelta(minutes=5)
    assert book.match(later, lambda _: quote(M1, 0.90, 0.95)) == []  # 5 minutes old
    assert (
        book.match(later, lambda _: quote(later + timedelta(minutes=1), 0.90, 0.95)) == []
    )  # from the future
    [fill] = book.match(later + timedelta(minutes=1), lambda _: quote(later, 0.90, 0.95))
    assert fill.kind is EventKind.FILL and fill.execution.price == 0.95  # type: ignore[union-attr]


def test_refusals_name_the_reason_and_the_venue_checks_are_the_owners_choice() -> None:
    venue_like = PaperBook(100.0, id_prefix="t")
    assert (
        venue_like.submit(OrderRequest("a", SYM, "buy", 1, 5.0), M0, M0).message
        == "insufficient buying power"
    )
    assert "must be unique" in venue_like.submit(OrderRequest("a", SYM, "buy", 1, 0.5), M0, M0).message
    assert "insufficient qty" in venue_like.submit(OrderRequest("b", SYM, "sell", 1, 0.5), M0, M0).message
    assert "invalid order" in venue_like.submit(OrderRequest("c", SYM, "buy", 0, 0.5), M0, M0).message
    dry = PaperBook(100.0, id_prefix="d", unique_client_ids=False, check_buying_power=False)
    assert dry.submit(OrderRequest("a", SYM, "buy", 1, 5.0), M0, M0).kind is EventKind.ACCEPTED
    assert dry.submit(OrderRequest("a", SYM, "buy", 1, 5.0), M0, M0).kind is EventKind.ACCEPTED
    assert "insufficient qty" in dry.submit(OrderRequest("b", SYM, "sell", 1, 0.5), M0, M0).message


def test_a_sell_books_the_bid_and_working_sells_count_against_the_position() -> None:
    book = PaperBook(10_000.0, id_prefix="t", commission=0.0)
    book.submit(OrderRequest("b", SYM, "buy", 4, 2.0), M0, M0)
    book.match(M1, lambda _: quote(M1, 1.0, 1.5))
    first = book.submit(OrderRequest("s1", SYM, "sell", 3, 1.0), M1, M1)
    assert first.kind is EventKind.ACCEPTED
    assert "held 4, selling 3" in book.submit(OrderRequest("s2", SYM, "sell", 2, 1.0), M1, M1).message
    m2 = M1 + timedelta(minutes=1)
    [fill] = book.match(m2, lambda _: quote(m2, 1.2, 1.3))
    assert fill.execution is not None and fill.execution.price == 1.2
    assert book.cash == pytest.approx(10_000.0 - 4 * 150.0 + 3 * 120.0)
    assert [(p.qty, p.avg_price) for p in book.positions()] == [(1, 1.5)]


def test_cancel_and_expire_end_working_orders_only() -> None:
    book = PaperBook(10_000.0, id_prefix="t")
    a = book.submit(OrderRequest("a", SYM, "buy", 1, 0.5), M0, M0).order
    b = book.submit(OrderRequest("b", SYM, "buy", 1, 0.5), M0, M0).order
    canceled = book.cancel(a.venue_order_id, M1)
    assert canceled is not None and canceled.kind is EventKind.CANCELED
    assert book.cancel(a.venue_order_id, M1) is None and book.cancel("nope", M1) is None
    [expired] = book.expire(M1)
    assert expired.kind is EventKind.EXPIRED and expired.order.venue_order_id == b.venue_order_id
    assert book.open_orders() == [] and book.expire(M1) == []
