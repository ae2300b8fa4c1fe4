"""Start-up reconciliation against the venue: read, cancel what earlier runs left working, read again.

``app.live.reconcile.reconcile`` decides; this module talks to the venue and the
journal around it. Orders of earlier runs still working at the venue are cancelled
and their final state awaited (``find_order``) before positions are read again, so
a fill that raced the cancel is seen as a position, never missed or duplicated.
"""

from __future__ import annotations

import time as wall
from datetime import date, datetime

from app.live.reconcile import Reconciliation, reconcile
from app.live.startup import stop_for
from brokers.live.venue import LiveVenue, VenueError
from journal.live import LiveJournal, OrderEventRow
from journal.live_read import account_orders, open_scalps

CANCEL_WAIT_SECONDS = 15.0


def _read(venue: LiveVenue, journal: LiveJournal, account: str, today: date, dry_run: bool) -> Reconciliation:
    try:
        positions, orders = venue.positions(), venue.open_orders()
    except VenueError as exc:
        raise stop_for(exc, "reading positions and open orders for reconciliation") from None
    engine, broker = journal.engine, journal.broker
    return reconcile(
        positions,
        orders,
        open_scalps(engine, broker, account),
        account_orders(engine, broker, account),
        today,
    )


def reconcile_at_start(
    venue: LiveVenue,
    journal: LiveJournal,
    account: str,
    today: date,
    now: datetime,
    wait_seconds: float = CANCEL_WAIT_SECONDS,
    dry_run: bool = False,
) -> Reconciliation:
    """Reconcile; cancel our earlier runs' working orders and reconcile again once they are done."""
    first = _read(venue, journal, account, today, dry_run)
    if not first.cancel:
        _settle(journal, first)
        return first
    pending = {}
    for order in first.cancel:
        try:
            venue.cancel(order.venue_order_id)
        except VenueError as exc:
            raise stop_for(
                exc, f"cancelling {order.client_order_id} left working by an earlier run"
            ) from None
        pending[order.client_order_id] = order
    deadline = wall.monotonic() + wait_seconds
    while pending and wall.monotonic() < deadline:
        for coid in list(pending):
            try:
                report = venue.find_order(coid)
            except VenueError:
                continue
            if report is None or report.status.done:
                order = pending.pop(coid)
                journal.order_event(
                    OrderEventRow(
                        ts=now, client_order_id=coid, venue_order_id=order.venue_order_id,
                        option_symbol=order.option_symbol, side=order.side, qty=order.qty,
                        limit_price=order.limit_price, event=str(report.status) if report else "canceled",
                        message=f"cancelled at start-up by run {journal.run_id}",
                    )
                )  # fmt: skip
        if pending:
            wall.sleep(0.1)
    second = _read(venue, journal, account, today, dry_run)
    extra = tuple(
        f"order {coid} of an earlier run did not cancel within {wait_seconds:g} s" for coid in pending
    )
    result = Reconciliation(
        adopt=second.adopt,
        cancel=first.cancel,
        unknown_positions=second.unknown_positions,
        foreign_orders=second.foreign_orders,
        settled=second.settled,
        mismatches=second.mismatches + extra,
        blocked=second.blocked,
    )
    _settle(journal, result)
    return result


def _settle(journal: LiveJournal, result: Reconciliation) -> None:
    for row in result.settled:
        journal.mark_expired(row.row_id, f"expired {row.expiry} while no runtime ran; the broker holds none")


__all__ = ["CANCEL_WAIT_SECONDS", "reconcile_at_start"]
