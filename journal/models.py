"""SQLAlchemy 2 model of PRD-136's ``options_scalps`` table (portable column types only).

Times are stored as naive UTC ``DateTime`` values. The three indexes are the
PRD's: ``(ticker, status)``, ``(signal_id)``, ``(expiry)``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Date, DateTime, Float, Index, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TABLE_NAME = "options_scalps"
INDEXES: dict[str, tuple[str, ...]] = {
    "ix_options_scalps_ticker_status": ("ticker", "status"),
    "ix_options_scalps_signal_id": ("signal_id",),
    "ix_options_scalps_expiry": ("expiry",),
}


def utc_now_naive() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class OptionsScalpRecord(Base):
    """One scalp position (PRD-136 ``options_scalps``)."""

    __tablename__ = TABLE_NAME
    __table_args__ = tuple(Index(name, *cols) for name, cols in INDEXES.items())

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal_id: Mapped[str | None] = mapped_column(String(50))
    ticker: Mapped[str] = mapped_column(String(10), nullable=False)
    option_symbol: Mapped[str] = mapped_column(String(30), nullable=False)
    option_type: Mapped[str] = mapped_column(String(4), nullable=False)  # call, put
    strike: Mapped[float] = mapped_column(Float, nullable=False)
    expiry: Mapped[date] = mapped_column(Date, nullable=False)
    dte: Mapped[int] = mapped_column(Integer, nullable=False)
    direction: Mapped[str] = mapped_column(String(20), nullable=False)  # long_call, long_put
    contracts: Mapped[int] = mapped_column(Integer, nullable=False)
    entry_premium: Mapped[float] = mapped_column(Float, nullable=False)
    exit_premium: Mapped[float | None] = mapped_column(Float)
    entry_delta: Mapped[float | None] = mapped_column(Float)
    entry_theta: Mapped[float | None] = mapped_column(Float)
    entry_iv: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str | None] = mapped_column(String(20), default="open")  # open, closed, expired
    exit_reason: Mapped[str | None] = mapped_column(String(50))
    pnl: Mapped[float | None] = mapped_column(Float)
    pnl_pct: Mapped[float | None] = mapped_column(Float)
    broker: Mapped[str | None] = mapped_column(String(20))
    order_id: Mapped[str | None] = mapped_column(String(100))
    entry_time: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    exit_time: Mapped[datetime | None] = mapped_column(DateTime)
    metadata_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(
        DateTime, default=utc_now_naive, server_default=func.now()
    )

    def __repr__(self) -> str:
        return f"OptionsScalpRecord(id={self.id}, {self.option_symbol} x{self.contracts}, {self.status}, pnl={self.pnl})"
