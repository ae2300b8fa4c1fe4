"""The record of one closed scalp: what reports, analyzers and the journal consume.

One ``ClosedScalp`` per round trip (all fills of one position, entry tranches
included). Field names follow PRD-136's ``options_scalps`` table, plus
``commission``, ``conviction`` and a few derived conveniences.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

# Column order of trades.csv and of the journal's options_scalps table.
TRADE_COLUMNS: tuple[str, ...] = (
    "signal_id",
    "ticker",
    "option_symbol",
    "option_type",
    "strike",
    "expiry",
    "dte",
    "direction",
    "contracts",
    "entry_premium",
    "exit_premium",
    "entry_delta",
    "entry_theta",
    "entry_iv",
    "exit_reason",
    "pnl",
    "pnl_pct",
    "entry_time",
    "exit_time",
    "commission",
    "conviction",
)


@dataclass(frozen=True)
class ClosedScalp:
    """A finished scalp.

    Premiums are average fill prices per share (x100 per contract). ``pnl`` is
    dollars net of ``commission`` (all legs); ``pnl_pct`` is ``pnl`` over the
    dollars paid at entry (``entry_premium * contracts * 100``), as a fraction.
    Times are timezone-aware UTC.
    """

    signal_id: str
    ticker: str
    option_symbol: str
    option_type: str  # "call" | "put"
    strike: float
    expiry: date
    dte: int
    direction: str  # "long_call" | "long_put"
    contracts: int
    entry_premium: float
    exit_premium: float
    entry_delta: float
    entry_theta: float
    entry_iv: float
    exit_reason: str
    pnl: float
    pnl_pct: float
    entry_time: datetime
    exit_time: datetime
    commission: float
    conviction: int
    status: str = "closed"  # "closed" | "expired"
    broker: str = "backtest"
    order_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def hold_minutes(self) -> float:
        return (self.exit_time - self.entry_time).total_seconds() / 60.0

    @property
    def is_win(self) -> bool:
        """A win is a strictly positive net P&L; zero counts as a loss."""
        return self.pnl > 0

    def as_row(self) -> dict[str, Any]:
        """The ``TRADE_COLUMNS`` as plain values (ISO-8601 UTC times, ISO dates)."""
        d = asdict(self)
        row = {k: d[k] for k in TRADE_COLUMNS}
        row["expiry"] = self.expiry.isoformat()
        row["entry_time"] = self.entry_time.isoformat()
        row["exit_time"] = self.exit_time.isoformat()
        return row
