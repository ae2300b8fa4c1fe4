"""Start-up reconciliation: the venue's positions and open orders against the journal, before any entry.

Pure over venue values (``PositionReport``, ``OrderReport``) and journal rows
(``JournalScalp``, ``JournalOrder`` of this account). The broker's positions are
authoritative and a missing report never means flat:

* a journal open scalp whose contract the broker holds in the same quantity is
  **adopted** (its exits managed by this run);
* a broker position no journal row of this account explains is **unknown**: reported
  and never traded against (its symbol is blocked) - unless one of our orders traded
  that contract, then the journal lost track of it: a **mismatch**;
* a journal open scalp the broker does not hold, or holds in another quantity, is a
  **mismatch** - except a contract that expired before today, which is **settled**
  (the row is marked expired);
* a working order at the venue that one of our runs sent (its client order id is in
  the journal) is **cancelled** before trading (a new run never inherits a working
  order: its client order ids would not be ours); one we did not send is
  **foreign**: reported, never touched, its symbol blocked.

Any mismatch fails closed: no new entries (REDUCING) for the run, one line each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from brokers.live.venue import OrderReport, PositionReport
from journal.live_read import JournalOrder, JournalScalp


@dataclass(frozen=True)
class Adoption:
    scalp: JournalScalp
    position: PositionReport


@dataclass(frozen=True)
class Reconciliation:
    adopt: tuple[Adoption, ...] = ()
    cancel: tuple[OrderReport, ...] = ()
    unknown_positions: tuple[PositionReport, ...] = ()
    foreign_orders: tuple[OrderReport, ...] = ()
    settled: tuple[JournalScalp, ...] = ()
    mismatches: tuple[str, ...] = ()
    blocked: dict[str, str] = field(default_factory=dict)  # symbol -> why never traded

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def lines(self) -> list[str]:
        """What reconciliation found, one line per finding (mismatches last)."""
        out = [
            f"adopted {a.scalp.option_symbol} x{a.position.qty} @ {a.scalp.entry_premium:.2f} "
            f"(journal row {a.scalp.row_id}, run {a.scalp.run_id}): its exits are managed"
            for a in self.adopt
        ]
        out += [
            f"cancelling working order {o.client_order_id} ({o.side} {o.qty} {o.option_symbol}) "
            "left by an earlier run"
            for o in self.cancel
        ]
        out += [
            f"unknown position {p.symbol} x{p.qty} ({p.asset_class}): not in the journal, "
            "reported and never traded against"
            for p in self.unknown_positions
        ]
        out += [
            f"foreign open order {o.client_order_id or o.venue_order_id} ({o.side} {o.qty} {o.option_symbol}): "
            "not ours, never touched"
            for o in self.foreign_orders
        ]
        out += [
            f"journal scalp {s.option_symbol} (row {s.row_id}) expired on {s.expiry} with no runtime watching: "
            "marked expired"
            for s in self.settled
        ]
        return out + [f"reconciliation mismatch: {m}" for m in self.mismatches]


def reconcile(
    positions: Sequence[PositionReport],
    venue_orders: Sequence[OrderReport],
    journal_scalps: Sequence[JournalScalp],
    journal_orders: Sequence[JournalOrder],
    today: date,
) -> Reconciliation:
    """Match the venue with the journal (see the module doc); ``today``: the session date."""
    ours = {o.client_order_id: o for o in journal_orders}
    traded = {o.option_symbol for o in journal_orders if o.filled_qty}
    held: dict[str, PositionReport] = {}
    for p in positions:
        if p.qty:
            held[p.symbol] = p

    adopt: list[Adoption] = []
    settled: list[JournalScalp] = []
    mismatches: list[str] = []
    by_symbol: dict[str, list[JournalScalp]] = {}
    for s in journal_scalps:
        by_symbol.setdefault(s.option_symbol, []).append(s)
    for symbol, rows in by_symbol.items():
        want = sum(r.contracts for r in rows)
        pos = held.pop(symbol, None)
        if pos is None:
            if all(r.expiry < today for r in rows):
                settled.extend(rows)
            else:
                mismatches.append(
                    f"the journal has {symbol} x{want} open (row {', '.join(str(r.row_id) for r in rows)}) "
                    "but the broker holds none; close the row or the position by hand, then restart"
                )
        elif pos.qty != want or len(rows) > 1:
            mismatches.append(
                f"the journal has {symbol} x{want} open but the broker holds x{pos.qty}; "
                "settle the difference by hand, then restart"
            )
        else:
            adopt.append(Adoption(rows[0], pos))

    unknown: list[PositionReport] = []
    blocked: dict[str, str] = {}
    for symbol, pos in held.items():
        if symbol in traded:
            mismatches.append(
                f"the broker holds {symbol} x{pos.qty}, which our orders traded, but the journal has no open "
                "scalp for it; close it by hand (or fix the journal), then restart"
            )
        else:
            unknown.append(pos)
        blocked[symbol] = "the broker holds a position this runtime does not own"

    cancel: list[OrderReport] = []
    foreign: list[OrderReport] = []
    for o in venue_orders:
        if o.status.done:
            continue
        if o.client_order_id in ours:
            cancel.append(o)
        else:
            foreign.append(o)
            blocked.setdefault(o.option_symbol, "the broker has an open order this runtime did not send")
    return Reconciliation(
        adopt=tuple(adopt),
        cancel=tuple(cancel),
        unknown_positions=tuple(unknown),
        foreign_orders=tuple(foreign),
        settled=tuple(settled),
        mismatches=tuple(mismatches),
        blocked=blocked,
    )


__all__ = ["Adoption", "Reconciliation", "reconcile"]
