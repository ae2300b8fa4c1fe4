"""Adopt a scalp an earlier run left open: the strategy manages its exits as if it had opened it.

Reconciliation matched a journal open row with a broker position of the same size.
On the first live bar of the traded session the guard rebuilds the strategy's
``OpenScalp`` from the row (its intent, entry premium and time, the greeks it was
chosen on), binds a free contract feed of the symbol's pool to the contract, hands
the position to the broker (``LiveBroker.adopt``) and opens the Backtrader trade
with a simulated completed buy at the entry premium (simulated orders update trades
without reaching ``notify_order``, and book no cash: the account paid for it in
the earlier run). From then on the strategy's own exit rules, flattening and
``close_scalp`` apply; the close updates the original journal row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import backtrader as bt

from brokers.live.venue import PositionReport
from journal.live_read import JournalScalp
from options_scalper.gates import GreeksDecision
from options_scalper.model import Direction, OptionRight, Signal
from options_scalper.scalper import OrderIntent
from options_scalper.selection_types import StrikeSelection
from strategies.books import OpenScalp, contract_spec

NAN = float("nan")


def intent_of(row: JournalScalp) -> OrderIntent:
    """The ``OrderIntent`` a journal row was opened with (as far as the row tells)."""
    right = OptionRight.CALL if row.option_type == "call" else OptionRight.PUT
    selection = StrikeSelection(
        strike=float(row.strike), expiry=row.expiry, option_type=right.word, option_symbol=row.option_symbol,
        delta=row.entry_delta if row.entry_delta is not None else NAN, gamma=NAN,
        theta=row.entry_theta if row.entry_theta is not None else NAN,
        iv=row.entry_iv if row.entry_iv is not None else NAN, bid=NAN,
        ask=float(row.metadata.get("decision_ask", NAN)), mid=NAN, spread_pct=NAN, open_interest=None,
        volume=None, score=0.0, dte=int(row.dte), right=right, quote_age_min=0.0, bid_size=NAN, ask_size=NAN,
        underlying_price=NAN, time_to_expiry_years=NAN, vega=NAN,
        theta_per_day=row.entry_theta if row.entry_theta is not None else NAN,
    )  # fmt: skip
    return OrderIntent(
        signal_id=row.signal_id, ticker=row.ticker, option_symbol=row.option_symbol, right=right,
        strike=float(row.strike), expiry=row.expiry, dte=int(row.dte),
        direction=Direction.BULLISH if right is OptionRight.CALL else Direction.BEARISH,
        quantity=int(row.contracts), total_quantity=int(row.contracts), add_quantity=0,
        limit_price=float(row.entry_premium), order_type="limit", selection=selection,
        gate=GreeksDecision(approved=True, reason=None, adjustments=None),
        conviction=int(row.metadata.get("conviction") or 0), created=row.entry_time,
    )  # fmt: skip


def adopt(strategy: Any, broker: Any, row: JournalScalp, position: PositionReport) -> str | None:
    """Make ``row`` (the broker holds ``position``) one of ``strategy``'s open scalps; None, or why not."""
    qty = int(position.qty)
    book = strategy.books.get(row.ticker)
    if book is None:
        return f"{row.option_symbol}: the run trades no {row.ticker}; add it to --symbols to manage it"
    intent = intent_of(row)
    feed = book.pool.acquire(contract_spec(intent), owner=strategy)
    if feed is None:
        return f"{row.option_symbol}: no free contract feed of {row.ticker} to manage it"
    signal = Signal(
        signal_id=row.signal_id, ticker=row.ticker, ts=row.entry_time, direction=intent.direction,
        conviction=intent.conviction, trigger=str(row.metadata.get("trigger") or "adopted"),
    )  # fmt: skip
    entry = row.entry_time if row.entry_time.tzinfo else row.entry_time.replace(tzinfo=UTC)
    scalp = OpenScalp(
        book=book, feed=feed, intent=intent, signal=signal, opened_at=entry,
        bought=int(qty), bought_cost=int(qty) * float(row.entry_premium), entry_time=entry,
    )  # fmt: skip
    strategy.scalps[feed] = scalp
    broker.adopt(feed, position)
    _open_trade(strategy, broker, feed, int(qty), float(row.entry_premium), entry)
    return None


def _open_trade(strategy: Any, broker: Any, feed: Any, qty: int, price: float, when: datetime) -> None:
    """A simulated completed buy: opens the Backtrader trade the strategy's exit will close."""
    from brokers.live.booking import book

    order: bt.Order = bt.BuyOrder(owner=strategy, data=feed, size=qty, price=price, exectype=bt.Order.Limit,
                                  simulated=True)  # fmt: skip
    order.addinfo(adopted=True, role="entry")
    comminfo = broker.getcommissioninfo(feed)
    order.addcomminfo(comminfo)
    order.submit(broker)
    order.accept(broker)
    dt = bt.date2num(when.astimezone(UTC).replace(tzinfo=None))
    book(
        order, bt.Position(), comminfo, float(qty), price, dt, None, 0.0
    )  # the trade only: no cash, no position
    order.completed()
    broker.notify(order)


__all__ = ["adopt", "intent_of"]
