"""Hostile conditions the fake TWS can be scripted to produce (set before or during a session)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Faults:
    """What goes wrong next. One-shot fields are consumed by the request they hit."""

    reject_next: str | None = None  # the next placeOrder: error 201 with this text + orderStatus Inactive
    lose_next_reply: bool = (
        False  # the next placeOrder reaches the market but no openOrder/orderStatus comes back
    )
    split_next_fill: bool = False  # the next execution arrives as two execDetails (partial then the rest)
    commission: str = "now"  # now | late (one minute after the fill) | never
    no_market_data: bool = False  # reqMktData of an option: error 354, no ticks
    delayed: bool = False  # reqMktData: error 10167, marketDataType 3, delayed tick types 66-70
    pacing_next: int = 0  # refuse the next N historical requests with 162 (pacing violation)
    readonly: bool = False  # placeOrder: error 321 read-only API
    mute_bars: bool = False  # the bar stream goes silent (the socket stays up)
    refuse_connections: bool = False  # the port accepts and drops at once (a gateway restarting)
    busy_client_ids: set[int] = field(default_factory=set)  # startApi with these ids: error 326


__all__ = ["Faults"]
