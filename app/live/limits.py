"""The runtime's limits and the order gate every order passes before it leaves for the venue.

``LiveLimits`` (CLI ``--max-daily-loss``, ``--max-orders-per-minute``,
``--max-open-scalps``, ``--max-premium-per-order``) and ``OrderGate.check``: the
trading state first (``states.allows``), then symbols never to trade (a position or
an order at the broker this runtime does not own), then 0DTE entries at or after the
expiry-safety time, then the limits. Entries are refused by every limit; exits are
never refused by a limit (they reduce risk) but are counted in the order rate;
cancels always pass. The daily-loss limit HALTS the run (``check_daily_loss``).
Each limit, when first hit on a session day, is said once (console and log).
Time is the venue's (bar stamps), never this machine's clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.live.states import Cause, TradingStates
from options_scalper.calendar import session_date
from options_scalper.constants import CONTRACT_MULTIPLIER

DEFAULT_MAX_DAILY_LOSS = 500.0
DEFAULT_MAX_ORDERS_PER_MINUTE = 6
DEFAULT_MAX_OPEN_SCALPS = 3
DEFAULT_MAX_PREMIUM_PER_ORDER = 2_500.0


@dataclass(frozen=True)
class LiveLimits:
    """Dollar amounts are positive numbers (a loss of ``max_daily_loss`` dollars halts)."""

    max_daily_loss: float = DEFAULT_MAX_DAILY_LOSS
    max_orders_per_minute: int = DEFAULT_MAX_ORDERS_PER_MINUTE
    max_open_scalps: int = DEFAULT_MAX_OPEN_SCALPS
    max_premium_per_order: float = DEFAULT_MAX_PREMIUM_PER_ORDER

    def problems(self) -> list[str]:
        """What is wrong with these limits, one line each (empty: fine)."""
        out = []
        if not self.max_daily_loss > 0:
            out.append(f"--max-daily-loss must be a positive dollar amount, not {self.max_daily_loss}")
        if self.max_orders_per_minute < 1:
            out.append(f"--max-orders-per-minute must be at least 1, not {self.max_orders_per_minute}")
        if self.max_open_scalps < 1:
            out.append(f"--max-open-scalps must be at least 1, not {self.max_open_scalps}")
        if not self.max_premium_per_order > 0:
            out.append(
                f"--max-premium-per-order must be a positive dollar amount, not {self.max_premium_per_order}"
            )
        return out


@dataclass(frozen=True)
class OrderAsk:
    """One order about to be sent (``role``: entry, exit, cancel)."""

    role: str
    option_symbol: str
    side: str
    qty: int
    limit_price: float | None
    now: datetime  # venue time
    open_scalps: int = 0  # scalps open or entering before this order
    zero_dte_flat_by: datetime | None = None  # the contract is a 0DTE that must be flat by then


Say = Callable[[str, str], None]  # (key, one line): console + log


class OrderGate:
    """Decides whether an order may leave; says a limit once per session day when it bites."""

    def __init__(self, limits: LiveLimits, states: TradingStates, say: Say | None = None) -> None:
        self.limits = limits
        self.states = states
        self.say = say
        self.blocked: dict[str, str] = {}  # option symbol -> why it is never traded
        self._sent: deque[datetime] = deque()
        self._said: set[tuple[str, date]] = set()
        self.refused = 0

    def block(self, symbol: str, why: str) -> None:
        self.blocked[symbol] = why

    def check(self, ask: OrderAsk) -> str | None:
        """None when ``ask`` may go (and it is counted), else the one-line reason it may not."""
        why = self._why_not(ask)
        if why is not None:
            self.refused += 1
            return why
        if ask.role != "cancel":
            self._sent.append(ask.now)
        return None

    def _why_not(self, ask: OrderAsk) -> str | None:
        lim = self.limits
        if not self.states.allows(ask.role):
            return self._hit(
                f"state-{self.states.state}", ask.now,
                f"{self.states.state}: no {ask.role} orders ({self.states.reason()})",
            )  # fmt: skip
        if ask.role == "cancel":
            return None
        if ask.option_symbol in self.blocked:
            return self._hit(
                f"blocked-{ask.option_symbol}", ask.now,
                f"{ask.option_symbol} is not traded: {self.blocked[ask.option_symbol]}",
            )  # fmt: skip
        if ask.role != "entry":
            return None
        if ask.zero_dte_flat_by is not None and ask.now >= ask.zero_dte_flat_by:
            return self._hit(
                "expiry-safety", ask.now,
                f"no new 0DTE entries from {ask.zero_dte_flat_by:%H:%M} UTC (expiry safety: flat by then)",
            )  # fmt: skip
        if ask.open_scalps >= lim.max_open_scalps:
            return self._hit(
                "max-open-scalps", ask.now,
                f"limit hit: {ask.open_scalps} scalps open, --max-open-scalps {lim.max_open_scalps}; "
                "no new entry until one closes",
            )  # fmt: skip
        premium = (ask.limit_price or 0.0) * ask.qty * CONTRACT_MULTIPLIER
        if premium > lim.max_premium_per_order:
            return self._hit(
                "max-premium", ask.now,
                f"limit hit: entry {ask.option_symbol} x{ask.qty} @ {ask.limit_price} costs ${premium:,.2f}, "
                f"over --max-premium-per-order ${lim.max_premium_per_order:,.2f}; entry refused",
            )  # fmt: skip
        if self.orders_last_minute(ask.now) >= lim.max_orders_per_minute:
            return self._hit(
                "max-orders-per-minute", ask.now,
                f"limit hit: {lim.max_orders_per_minute} orders in the last minute "
                "(--max-orders-per-minute); entries wait",
            )  # fmt: skip
        return None

    def orders_last_minute(self, now: datetime) -> int:
        while self._sent and self._sent[0] <= now - timedelta(minutes=1):
            self._sent.popleft()
        return len(self._sent)

    def check_daily_loss(self, day_pnl: float, now: datetime) -> bool:
        """HALT when today's P&L is a loss of ``max_daily_loss`` or more; True when it did now."""
        if day_pnl > -self.limits.max_daily_loss:
            return False
        line = (
            f"daily loss ${-day_pnl:,.2f} reached --max-daily-loss ${self.limits.max_daily_loss:,.2f}: "
            "cancels only for the rest of the run"
        )
        self._hit("max-daily-loss", now, f"limit hit: {line}")
        return self.states.enter(Cause.DAILY_LOSS, line)

    def _hit(self, key: str, now: datetime, line: str) -> str:
        mark = (key, session_date(now))
        if mark not in self._said:
            self._said.add(mark)
            if self.say is not None:
                self.say(key, line)
        return line


__all__ = [
    "DEFAULT_MAX_DAILY_LOSS",
    "DEFAULT_MAX_OPEN_SCALPS",
    "DEFAULT_MAX_ORDERS_PER_MINUTE",
    "DEFAULT_MAX_PREMIUM_PER_ORDER",
    "LiveLimits",
    "OrderAsk",
    "OrderGate",
]
