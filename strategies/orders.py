"""Orders of a scalp: entries with a fill timeout, the add, the exit at the bid, and their notifications.

``ScalpOrders`` is the order half of ``strategies.base.ScalpStrategyBase``: it turns
intents into Backtrader orders on the scalp's contract feed and books every fill
(per execution, partials included) until the round trip closes into a ``ClosedScalp``.
It talks to the contract feed and the broker through Backtrader's own interface only.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, timedelta
from typing import Any

import backtrader as bt

from options_scalper.model import ExitReason, Rejection
from options_scalper.reasons import RejectReason
from options_scalper.records import ClosedScalp
from options_scalper.scalper import entry_fill_minutes
from strategies.bartime import BarTimes
from strategies.books import OpenScalp, closed_record


class ScalpOrders(bt.Strategy):
    """Entry, add and exit orders of the open scalps, and the bookkeeping of their fills."""

    # set by ScalpStrategyBase.__init__
    config: Any
    scalps: dict[Any, OpenScalp]
    closed_scalps: list[ClosedScalp]
    rejections: Counter[str]
    times: BarTimes
    max_quote_age_min: float
    _entries_by_day: Counter[date]

    def _reject(self, code: RejectReason, message: str) -> Rejection:
        self.count_rejection(code)
        return Rejection(code, message)

    def count_rejection(self, code: RejectReason | str) -> None:
        """Count one refused signal under its ``RejectReason`` value (plain str keys)."""
        self.rejections[RejectReason(code).value] += 1

    def _timeout(self) -> timedelta:
        seconds = getattr(self.config, "fill_timeout_seconds", 60) if self.config else 60
        return timedelta(minutes=entry_fill_minutes(seconds))

    def _entry_order(self, scalp: OpenScalp, qty: int, limit: float) -> Any:
        """A limit buy: at mid + offset ("limit"), or marketable ("ask": the decision ask plus at
        most ``max_entry_slippage_pct``, so the ask may not run away from the decision unbounded)."""
        if qty <= 0:
            return None
        order = self.buy(
            data=scalp.feed,
            size=qty,
            exectype=bt.Order.Limit,
            price=limit,
            valid=self._timeout(),
            role="entry",
            marketable=str(scalp.intent.order_type) != "limit",
            max_quote_age_min=self.max_quote_age_min,
        )
        scalp.entry_orders.append(order)
        return order

    def add_to_position(self, scalp: OpenScalp, quantity: int | None = None) -> Any:
        """Send the second tranche; refused when the scalp is losing (no averaging up/down)."""
        if scalp.added or scalp.exit_order is not None or scalp.open_qty <= 0:
            return self._reject(RejectReason.ADD_NOT_ALLOWED, "already added, exiting, or nothing filled")
        qty = int(quantity if quantity is not None else scalp.intent.add_quantity)
        if qty <= 0:
            return self._reject(RejectReason.ADD_NOT_ALLOWED, "no second tranche in the intent")
        f = scalp.feed
        bid, ask = float(f.bid[0]), float(f.ask[0])
        if not (bid > 0 and ask > 0):
            return self._reject(RejectReason.NO_QUOTE, f"{scalp.option_symbol} has no two-sided quote")
        if getattr(self.config, "no_average_up", True) and bid < scalp.entry_premium:
            return self._reject(RejectReason.NO_AVERAGE_UP, "the position is losing; no adding to losers")
        offset = float(getattr(self.config, "limit_offset", 0.0))
        scalp.added = True
        return self._entry_order(scalp, qty, round((bid + ask) / 2.0 + offset, 2))

    # ------------------------------------------------------------------ exits
    def close_scalp(self, scalp: OpenScalp, reason: ExitReason) -> Any:
        """Cancel working entries and sell what is held at the bid, tagged with ``reason``."""
        for o in scalp.entry_orders:
            if o.alive():
                self.cancel(o)
        if scalp.exit_order is not None and scalp.exit_order.alive():
            return scalp.exit_order
        size = self.getposition(scalp.feed).size
        if size <= 0:
            if scalp.exit_reason is None:
                scalp.exit_reason = reason
            return None
        scalp.exit_reason = reason
        scalp.exit_order = self.sell(
            data=scalp.feed,
            size=size,
            exectype=bt.Order.Market,
            role="exit",
            exit_reason=reason.value,
            max_quote_age_min=self.max_quote_age_min,
        )
        return scalp.exit_order

    # ------------------------------------------------------------------ notifications
    def notify_order(self, order: bt.Order) -> None:
        scalp = self.scalps.get(order.data)
        if scalp is None:
            return
        if order.status in (order.Partial, order.Completed):
            for bit in order.executed.iterpending():
                self._record_fill(scalp, order, bit)
        if order.status == order.Partial:
            scalp.depth_limited = True
        if not order.alive():
            exit_ref = getattr(scalp.exit_order, "ref", None)
            if order.ref == exit_ref and order.status != order.Completed:
                scalp.exit_order = None  # retry on a later bar
            if order.status in (order.Margin, order.Rejected):
                self.count_rejection(
                    RejectReason.INSUFFICIENT_CASH
                    if order.status == order.Margin
                    else RejectReason.BROKER_REJECTED
                )
            elif (
                order.status == order.Expired
                and order.info.get("role") == "entry"
                and not order.executed.size
            ):
                self.count_rejection(
                    RejectReason.ENTRY_SLIPPAGE_CAP
                    if order.info.get("marketable")
                    else RejectReason.FILL_TIMEOUT
                )
            self._finish_if_flat(scalp)

    def _record_fill(self, scalp: OpenScalp, order: bt.Order, bit: Any) -> None:
        when = bt.num2date(bit.dt).replace(tzinfo=UTC)
        size = int(abs(bit.size))
        if order.isbuy():
            scalp.bought += size
            scalp.bought_cost += size * bit.price
            scalp.entry_time = scalp.entry_time or when
        else:
            scalp.sold += size
            scalp.sold_value += size * bit.price
            scalp.exit_time = when
            reason = order.info.get("exit_reason")
            if reason:
                scalp.exit_reason = ExitReason(reason)

    def _finish_if_flat(self, scalp: OpenScalp) -> None:
        """Release the feed of a scalp that holds nothing and has nothing working."""
        if scalp.bought == 0 and not scalp.working_entry and self.getposition(scalp.feed).size == 0:
            self.scalps.pop(scalp.feed, None)
            scalp.book.pool.release(scalp.feed)

    def notify_trade(self, trade: bt.Trade) -> None:
        if not trade.isclosed:
            return
        scalp = self.scalps.get(trade.data)
        if scalp is None:
            return
        if scalp.working_entry:  # a partial fill was sold; the rest may still come
            for o in scalp.entry_orders:
                if o.alive():
                    self.cancel(o)
        self.closed_scalps.append(
            closed_record(
                scalp,
                pnl=float(trade.pnlcomm),
                commission=float(trade.commission),
                order_id=str(trade.ref),
                exit_time=scalp.exit_time or self.times.bar(scalp.feed),
            )
        )
        self.scalps.pop(scalp.feed, None)
        scalp.book.pool.release(scalp.feed)
