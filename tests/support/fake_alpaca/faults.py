"""The hostile conditions the fake Alpaca can be told to produce (thread-safe; each fires as scripted)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Faults:
    """Scripted faults; tests call the methods, the hand-started fake exposes them as ``POST /_fake/<name>``."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    reject: list[tuple[int | None, str]] = field(default_factory=list)
    split_fills: int = 0
    lose_replies: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    drop_in: int | None = None  # minutes until the bar sockets are closed
    refuse_minutes: int = 0  # after a drop: minutes the bar endpoint refuses connections (503)
    refusing: bool = False
    mute_pending: bool = False
    no_options: bool = False
    real_money: bool = False
    stale_open_interest: bool = False

    # ------------------------------------------------------------------ scripting
    def reject_next(self, message: str = "insufficient buying power", status: int | None = 403) -> None:
        """Refuse the next order: HTTP ``status`` (403/422) with ``{"code","message"}``; None: a ``rejected`` event."""
        with self._lock:
            self.reject.append((status, message))

    def split_next_fill(self) -> None:
        """Deliver the next fill of 2+ contracts as a ``partial_fill`` then a ``fill`` (two executions)."""
        with self._lock:
            self.split_fills += 1

    def lose_next_reply(self) -> None:
        """Create the next order, then close the connection without answering the POST."""
        with self._lock:
            self.lose_replies += 1

    def error_next(self, status: int = 500, path: str = "") -> None:
        """Answer the next REST request (whose path starts with ``path``) with ``status`` (5xx, 429)."""
        with self._lock:
            self.errors.append((int(status), path))

    def drop_bars_after(self, minutes: int, refuse_minutes: int = 0) -> None:
        """Close the bar sockets after ``minutes`` published minutes; refuse reconnects for ``refuse_minutes``."""
        with self._lock:
            self.drop_in, self.refuse_minutes = int(minutes), int(refuse_minutes)

    def refuse_reconnects(self, on: bool = True) -> None:
        """Refuse (503) or accept again new connections to the bar stream."""
        with self._lock:
            self.refusing = bool(on)
            if not on:
                self.refuse_minutes = 0

    def mute_bars(self) -> None:
        """Keep the current bar sockets open but send them nothing more (a new connection gets data)."""
        with self._lock:
            self.mute_pending = True

    def options_not_approved(self, on: bool = True) -> None:
        with self._lock:
            self.no_options = bool(on)

    def real_money_account(self, on: bool = True) -> None:
        with self._lock:
            self.real_money = bool(on)

    def open_interest_not_updated(self, on: bool = True) -> None:
        """Date the contracts' open interest two sessions back (Alpaca overnight, before the new figures)."""
        with self._lock:
            self.stale_open_interest = bool(on)

    # ------------------------------------------------------------------ consuming (the fake)
    def take_reject(self) -> tuple[int | None, str] | None:
        with self._lock:
            return self.reject.pop(0) if self.reject else None

    def take_split(self) -> bool:
        with self._lock:
            if self.split_fills:
                self.split_fills -= 1
                return True
            return False

    def take_lose_reply(self) -> bool:
        with self._lock:
            if self.lose_replies:
                self.lose_replies -= 1
                return True
            return False

    def take_error(self, path: str) -> int | None:
        with self._lock:
            for i, (status, prefix) in enumerate(self.errors):
                if path.startswith(prefix):
                    del self.errors[i]
                    return status
            return None

    def take_mute(self) -> bool:
        with self._lock:
            pending, self.mute_pending = self.mute_pending, False
            return pending

    def minute_passed(self) -> bool:
        """Count one published minute; True when the bar sockets must drop now."""
        with self._lock:
            if self.refuse_minutes and self.drop_in is None:
                self.refuse_minutes -= 1
                self.refusing = self.refuse_minutes > 0
            if self.drop_in is None:
                return False
            self.drop_in -= 1
            if self.drop_in > 0:
                return False
            self.drop_in = None
            self.refusing = self.refuse_minutes > 0
            return True

    def call(self, name: str, kwargs: dict[str, Any]) -> None:
        """The control path: run the scripting method ``name`` (``ValueError`` for anything else)."""
        if name.startswith("_") or name not in _SCRIPTS:
            raise ValueError(f"unknown fault {name!r}; use one of {', '.join(sorted(_SCRIPTS))}")
        getattr(self, name)(**kwargs)


_SCRIPTS = {
    "reject_next", "split_next_fill", "lose_next_reply", "error_next", "drop_bars_after",
    "refuse_reconnects", "mute_bars", "options_not_approved", "real_money_account", "open_interest_not_updated",
}  # fmt: skip

__all__ = ["Faults"]
