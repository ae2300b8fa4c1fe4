"""An open scalp (PRD-136 ``ScalpPosition``), immutable: updates return new instances.

Prices are dollars per share of premium (x100 per contract). A long option is
valued at its EXECUTABLE price, the bid: that is what closing it would get.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from options_scalper.constants import CONTRACT_MULTIPLIER
from options_scalper.model import Direction, OptionRight, Rejection, ScalperError
from options_scalper.reasons import RejectReason

__all__ = ["CONTRACT_MULTIPLIER", "AverageUpRule", "PositionError", "ScalpPosition"]


class PositionError(ScalperError, ValueError):
    """A position was built or updated with impossible values."""


class AverageUpRule(Protocol):
    """What ``ScalpPosition.can_add`` reads; ``ScalpConfig`` fits."""

    @property
    def no_average_up(self) -> bool: ...


@dataclass(frozen=True)
class ScalpPosition:
    """One open long option scalp.

    ``entry_price`` is the average premium paid per share; ``current_price`` the
    last bid. ``theta`` is per calendar day, ``iv`` a fraction. ``unrealized_pnl``
    is dollars (x100 per contract, before commission); ``unrealized_pnl_pct`` a
    fraction of the entry premium. ``entry_time`` is aware UTC.
    """

    ticker: str
    option_symbol: str
    option_type: Literal["call", "put"]
    strike: float
    expiry: date
    dte: int
    direction: Literal["long_call", "long_put"]
    contracts: int
    entry_price: float
    current_price: float
    delta: float
    theta: float
    iv: float
    unrealized_pnl: float
    unrealized_pnl_pct: float
    entry_time: datetime
    signal_id: str
    last_update: datetime | None = None

    def __post_init__(self) -> None:
        if self.option_type not in ("call", "put"):
            raise PositionError(f"option_type {self.option_type!r}: use 'call' or 'put'")
        expected = "long_call" if self.option_type == "call" else "long_put"
        if self.direction != expected:
            raise PositionError(
                f"direction {self.direction!r} does not match option_type {self.option_type!r}"
            )
        if self.contracts < 1:
            raise PositionError(f"contracts {self.contracts}: a position holds at least 1 contract")
        if not (self.entry_price > 0 and math.isfinite(self.entry_price)):
            raise PositionError(f"entry_price {self.entry_price}: must be a positive premium per share")
        if self.entry_time.tzinfo is None:
            raise PositionError("entry_time is naive; pass a timezone-aware UTC datetime")

    @classmethod
    def open(
        cls,
        *,
        ticker: str,
        option_symbol: str,
        right: OptionRight,
        strike: float,
        expiry: date,
        contracts: int,
        entry_price: float,
        entry_time: datetime,
        signal_id: str,
        delta: float = math.nan,
        theta: float = math.nan,
        iv: float = math.nan,
    ) -> ScalpPosition:
        """A fresh position marked at its entry price; ``dte`` from the ET entry date."""
        from options_scalper.calendar import session_date

        direction = Direction.BULLISH if right is OptionRight.CALL else Direction.BEARISH
        return cls(
            ticker=ticker,
            option_symbol=option_symbol,
            option_type="call" if right is OptionRight.CALL else "put",
            strike=strike,
            expiry=expiry,
            dte=(expiry - session_date(entry_time)).days,
            direction="long_call" if direction is Direction.BULLISH else "long_put",
            contracts=contracts,
            entry_price=entry_price,
            current_price=entry_price,
            delta=delta,
            theta=theta,
            iv=iv,
            unrealized_pnl=0.0,
            unrealized_pnl_pct=0.0,
            entry_time=entry_time,
            signal_id=signal_id,
            last_update=entry_time,
        )

    @property
    def right(self) -> OptionRight:
        return OptionRight.CALL if self.option_type == "call" else OptionRight.PUT

    @property
    def side(self) -> Direction:
        """The bias the position bets on: calls are bullish, puts bearish."""
        return Direction.BULLISH if self.option_type == "call" else Direction.BEARISH

    @property
    def cost_basis(self) -> float:
        """Dollars paid for the open contracts (before commission)."""
        return self.entry_price * self.contracts * CONTRACT_MULTIPLIER

    def pnl_pct_at(self, price: float) -> float:
        """P&L fraction of the entry premium if closed at ``price``."""
        return (price - self.entry_price) / self.entry_price

    def mark(self, bid: float, now: datetime) -> ScalpPosition:
        """Revalue at ``bid`` (the executable exit price); a NaN bid keeps the last mark."""
        if not math.isfinite(bid):
            return dataclasses.replace(self, last_update=now)
        pnl = (bid - self.entry_price) * self.contracts * CONTRACT_MULTIPLIER
        return dataclasses.replace(
            self,
            current_price=bid,
            unrealized_pnl=pnl,
            unrealized_pnl_pct=self.pnl_pct_at(bid),
            last_update=now,
        )

    def with_greeks(self, delta: float, theta: float, iv: float) -> ScalpPosition:
        """Copy with refreshed greeks (theta per calendar day, iv a fraction)."""
        return dataclasses.replace(self, delta=delta, theta=theta, iv=iv)

    def can_add(self, current_bid: float, cfg: AverageUpRule) -> Rejection | None:
        """Refuse adding to a losing position when ``cfg.no_average_up`` (PRD-136 rule 6).

        Losing means the bid is below the average entry price. Right after entry
        the spread alone makes a position "losing", so a second tranche is only
        allowed once the bid has paid back the spread.
        """
        if not cfg.no_average_up:
            return None
        if not math.isfinite(current_bid) or current_bid < self.entry_price:
            return Rejection(
                RejectReason.NO_AVERAGE_UP,
                f"{self.option_symbol}: bid {current_bid:.2f} is below the entry price "
                f"{self.entry_price:.2f}; never add to a losing option position",
            )
        return None

    def add(self, contracts: int, price: float, now: datetime) -> ScalpPosition:
        """Add ``contracts`` bought at ``price``; the entry price becomes the average paid."""
        if contracts < 1 or not (price > 0):
            raise PositionError(f"add: need contracts >= 1 and price > 0, got {contracts} @ {price}")
        total = self.contracts + contracts
        avg = (self.entry_price * self.contracts + price * contracts) / total
        grown = dataclasses.replace(self, contracts=total, entry_price=avg)
        return grown.mark(self.current_price, now)
