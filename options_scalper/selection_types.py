"""``StrikeSelection``: the contract the selector chose, with the quote and greeks it was chosen on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from options_scalper.model import OptionRight


@dataclass(frozen=True)
class StrikeSelection:
    """The contract chosen for a scalp, with the quote and greeks it was chosen on.

    The first block holds PRD-136's fields. ``delta`` is signed (negative for puts);
    ``theta`` and ``theta_per_day`` are the same number, dollars of premium per share
    per calendar day (negative for a long option); ``vega`` is dollars per share per
    1.00 (100 vol points) of IV; ``iv`` and ``spread_pct`` are fractions.
    ``open_interest`` / ``volume`` are ``None`` when unknown (the source had none, or
    none for this contract), never a made-up 0; ``skipped_filters`` then names the
    filters that could not be applied. ``candidates_considered`` counts the contracts
    that passed every filter and were scored.
    """

    strike: float
    expiry: date
    option_type: str  # "call" | "put"
    option_symbol: str
    delta: float
    gamma: float
    theta: float
    iv: float
    bid: float
    ask: float
    mid: float
    spread_pct: float
    open_interest: int | None
    volume: int | None
    score: float
    dte: int
    right: OptionRight
    quote_age_min: float
    bid_size: float
    ask_size: float
    underlying_price: float
    time_to_expiry_years: float
    vega: float
    theta_per_day: float
    skipped_filters: tuple[str, ...] = ()
    candidates_considered: int = 0

    @property
    def abs_delta(self) -> float:
        return abs(self.delta)

    @property
    def is_0dte(self) -> bool:
        return self.dte == 0
