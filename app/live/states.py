"""Trading states: ACTIVE, REDUCING (no new entries; exits and cancels), HALTED (cancels only).

The state is the worst of its active causes. A disconnect or stale data REDUCES
until the venue is back and reconciled; Ctrl-C and a start-up reconciliation
mismatch REDUCE for the rest of the run; the daily-loss limit and the kill switch
(the file ``<out>/KILL`` or ``SIGUSR1``) HALT for the rest of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class TradingState(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class Cause(StrEnum):
    DISCONNECTED = "disconnected"
    STALE_DATA = "stale_data"
    INTERRUPTED = "interrupted"
    RECONCILIATION = "reconciliation_mismatch"
    DAILY_LOSS = "daily_loss"
    KILL_SWITCH = "kill_switch"


HALTING = frozenset({Cause.DAILY_LOSS, Cause.KILL_SWITCH})
STICKY = frozenset({Cause.INTERRUPTED, Cause.RECONCILIATION, Cause.DAILY_LOSS, Cause.KILL_SWITCH})

Role = str  # "entry", "exit", "cancel"


def state_of(causes: frozenset[Cause] | set[Cause]) -> TradingState:
    if causes & HALTING:
        return TradingState.HALTED
    return TradingState.REDUCING if causes else TradingState.ACTIVE


def allows(state: TradingState, role: Role) -> bool:
    """Entries only when ACTIVE; exits when ACTIVE or REDUCING; cancels always."""
    if role == "cancel":
        return True
    if role == "exit":
        return state is not TradingState.HALTED
    return state is TradingState.ACTIVE


Listener = Callable[[TradingState, TradingState, str], None]  # (old, new, the line saying why)


@dataclass
class TradingStates:
    """The run's causes and the state they give; ``listener`` hears every change once."""

    listener: Listener | None = None
    causes: dict[Cause, str] = field(default_factory=dict)  # cause -> why (one line)

    @property
    def state(self) -> TradingState:
        return state_of(set(self.causes))

    def allows(self, role: Role) -> bool:
        return allows(self.state, role)

    def enter(self, cause: Cause, why: str) -> bool:
        """Add ``cause`` (``why``: one line); True when the state changed."""
        if cause in self.causes:
            return False
        old = self.state
        self.causes[cause] = why
        return self._changed(old, f"{self.state}: {why}")

    def leave(self, cause: Cause, why: str) -> bool:
        """Drop a passing cause (sticky ones stay for the run); True when the state changed."""
        if cause not in self.causes or cause in STICKY:
            return False
        old = self.state
        del self.causes[cause]
        return self._changed(old, f"{self.state}: {why}")

    def reason(self) -> str:
        """Why the state is what it is ("" when ACTIVE)."""
        return "; ".join(self.causes.values())

    def _changed(self, old: TradingState, line: str) -> bool:
        new = self.state
        if new is old:
            return False
        if self.listener is not None:
            self.listener(old, new, line)
        return True


__all__ = ["HALTING", "STICKY", "Cause", "TradingState", "TradingStates", "allows", "state_of"]
