"""``LiveRuntime``: what one live run keeps between bars, and the journal/log side of every event.

Plain Python (no Backtrader): the guard analyzer (``app.live.guard``) calls it from
the Cerebro thread with bar times and plain values; the venue's callbacks and the
signal handlers only set its flags (``interrupt``, ``kill``) or journal order events
(``order_event``: the journal is thread-safe). One status line and one heartbeat
row per venue minute; the kill switch is the file ``<out>/KILL`` or ``SIGUSR1``.
Each chain snapshot the strategy is served (``on_chain``, the live chain's listener)
is kept, with the account the strategy had, until the next heartbeat and written in its
transaction (``live_chains``) with the signals the strategy entered on at that minute.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.live.expiry import flat_by, is_zero_dte
from app.live.limits import OrderAsk, OrderGate
from app.live.logs import LiveLog
from app.live.states import Cause, TradingStates
from app.live.status import ScalpView, status_line
from brokers.live.venue import OrderEvent, OrderRequest
from journal.live import (
    ChainRow,
    HeartbeatRow,
    LiveJournal,
    OpenScalpRow,
    OrderEventRow,
    chain_payload,
    signal_payload,
)
from options_scalper.calendar import session_date
from options_scalper.model import ChainSnapshot
from options_scalper.occ import parse_occ
from options_scalper.records import ClosedScalp

KILL_FILENAME = "KILL"


@dataclass(frozen=True)
class RunSettings:
    broker: str
    account: str
    mode: str  # paper, live, dry_run
    run_id: str
    out_dir: Path
    symbols: tuple[str, ...]
    exits_on_interrupt: str = "flatten"  # flatten, keep
    strategy_config: Any = None


@dataclass
class DayBook:
    """Today's realized P&L: what earlier runs of the account closed today plus this run's."""

    day: date | None = None
    before: float = 0.0  # closed today by earlier runs (from the journal at start)
    closed: dict[str, float] = field(default_factory=dict)  # this run: scalp key -> pnl

    def realized(self, today: date) -> float:
        if self.day != today:
            if self.day is not None:
                self.before, self.closed = 0.0, {}
            self.day = today
        return self.before + sum(self.closed.values())


class LiveRuntime:
    def __init__(
        self,
        settings: RunSettings,
        states: TradingStates,
        gate: OrderGate,
        log: LiveLog,
        journal: LiveJournal | None,
        realized_before: float = 0.0,
        today: date | None = None,
    ) -> None:
        self.settings = settings
        self.states = states
        self.gate = gate
        self.log = log
        self.journal = journal
        self.days = DayBook(day=today, before=realized_before)
        self.interrupt = threading.Event()
        self.kill = threading.Event()
        self._interrupt_lock = threading.Lock()
        self._interrupt_said = False
        self.stop_requested = threading.Event()
        self.rows: dict[tuple[str, str], int] = {}  # (signal id, option symbol) -> options_scalps row id
        self.adopted: dict[str, Any] = {}  # option symbol -> the journal row it came from
        self.last_minute: datetime | None = None
        self.last_status = ""
        self.data_state = ""
        self.closed_count = 0
        self.strategy: Any = None  # set by the guard when the run starts
        self.clock_now: Callable[[], datetime | None] | None = None
        self.roles: dict[str, str] = {}  # client order id -> entry / exit
        self.down_streams: set[str] = set()
        self.reconnected = threading.Event()
        self.venue: Any = None  # set by the session: the guard re-reads positions after a reconnect
        self.pending_adoption: dict[str, Any] = {}  # option symbol -> (journal row, position) to adopt
        self.last_bar_wall = time.monotonic()  # this machine's clock: the watchdog's only use of it
        self.session_over = False
        self.chains: dict[tuple[str, datetime], ChainRow] = {}  # served since the last heartbeat

    def bar_arrived(self) -> None:
        """A clock bar reached the strategy: the data is flowing (clears a stale-data REDUCING)."""
        self.last_bar_wall = time.monotonic()
        if Cause.STALE_DATA in self.states.causes:
            self.states.leave(Cause.STALE_DATA, "bars flow again")

    # ------------------------------------------------------------------ kill switch
    @property
    def kill_file(self) -> Path:
        return self.settings.out_dir / KILL_FILENAME

    def poll_kill(self) -> None:
        """HALT when ``<out>/KILL`` exists or ``SIGUSR1`` arrived."""
        if Cause.KILL_SWITCH in self.states.causes:
            return
        if self.kill.is_set():
            self.states.enter(Cause.KILL_SWITCH, "kill switch (SIGUSR1): cancels only")
        elif self.kill_file.exists():
            self.states.enter(Cause.KILL_SWITCH, f"kill switch ({self.kill_file} exists): cancels only")

    # ------------------------------------------------------------------ Ctrl-C
    def keeps_positions(self) -> bool:
        """A Ctrl-C wind-down leaves open positions open: ``--exits-on-interrupt keep``, or no exit
        may be sent (HALTED: cancels only), so waiting for a flatten would only hold the run."""
        return self.settings.exits_on_interrupt == "keep" or not self.states.allows("exit")

    def say_interrupt(self) -> None:
        """Say once what the Ctrl-C wind-down does (the guard on its next bar, or the watchdog first)."""
        with self._interrupt_lock:
            if self._interrupt_said:
                return
            self._interrupt_said = True
        kept = self.keeps_positions()
        how = (
            "(--exits-on-interrupt)" if self.states.allows("exit") else f"(no exit while {self.states.state})"
        )
        line = (
            f"Ctrl-C: working entries cancelled, positions {'kept' if kept else 'closed'} {how}, "
            f"then the run stops{'; the next run adopts what is open' if kept else ''}"
        )
        if not self.states.enter(Cause.INTERRUPTED, line):  # already REDUCING or HALTED: say it anyway
            self.log.say(f"{self.states.state}: {line}", event="interrupt")

    def wound_down(self, scalps: Sequence[Any]) -> bool:
        """A Ctrl-C wind-down is over: no order working, and nothing open it still has to close."""
        for s in scalps:
            if s.working_entry or (s.exit_order is not None and s.exit_order.alive()):
                return False
        return self.keeps_positions() or not any(s.open_qty > 0 for s in scalps)

    # ------------------------------------------------------------------ the broker's hooks
    def venue_now(self) -> datetime | None:
        """The clock's latest bar stamp (venue time), None before the first bar."""
        return self.clock_now() if self.clock_now is not None else None

    def check_order(self, request: OrderRequest) -> str | None:
        """The ``LiveBroker`` gate: None lets ``request`` go (journaled ``submitted``), else why not."""
        now = self.venue_now()
        if now is None:
            return "no bar yet: orders wait for the clock"
        role = "entry" if request.side == "buy" else "exit"
        symbol = request.option_symbol
        if role == "entry" and symbol in self.pending_adoption:
            return f"{symbol} is being adopted from an earlier run: no new entry on it"
        scalps = list(getattr(self.strategy, "scalps", {}).values())
        others = sum(1 for s in scalps if s.option_symbol != symbol) + len(self.pending_adoption)
        zero_dte = None
        try:
            expiry = parse_occ(symbol).expiry
        except ValueError:
            expiry = None
        if expiry is not None and is_zero_dte(expiry, now):
            zero_dte = flat_by(now, self.settings.strategy_config)
        ask = OrderAsk(
            role, symbol, request.side, int(request.qty), request.limit_price, now, others, zero_dte
        )
        why = self.gate.check(ask)
        if why is not None:
            self.log.event(
                "refused", symbol=symbol, side=request.side, qty=request.qty, role=role, reason=why
            )
            return why
        self.roles[request.client_order_id] = role
        self.order_event(
            OrderEventRow(
                ts=now, client_order_id=request.client_order_id, option_symbol=symbol, side=request.side,
                qty=int(request.qty), event="submitted", ticker=self.ticker_of(symbol),
                limit_price=request.limit_price, role=role,
            )
        )  # fmt: skip
        return None

    def on_order_event(self, event: OrderEvent) -> None:
        """The ``LiveBroker`` listener: every venue order event, journaled as it comes."""
        o, ex = event.order, event.execution
        self.order_event(
            OrderEventRow(
                ts=event.ts, client_order_id=o.client_order_id, venue_order_id=o.venue_order_id or None,
                option_symbol=o.option_symbol, side=o.side, qty=int(o.qty), event=str(event.kind),
                ticker=self.ticker_of(o.option_symbol), limit_price=o.limit_price,
                role=self.roles.get(o.client_order_id), execution_id=ex.execution_id if ex else None,
                fill_qty=int(ex.qty) if ex else None, fill_price=float(ex.price) if ex else None,
                commission=ex.commission if ex else None, message=event.message or o.message or None,
            )
        )  # fmt: skip

    def on_status(self, stream: str, connected: bool, message: str) -> None:
        """The venue's stream reports (any thread): a drop REDUCES; all back -> the guard reconciles."""
        if connected:
            self.down_streams.discard(stream)
            if not self.down_streams and Cause.DISCONNECTED in self.states.causes:
                self.reconnected.set()
            self.log.event("stream", stream=stream, connected=True, message=message)
        else:
            self.down_streams.add(stream)
            self.reconnected.clear()
            self.log.event("stream", level="warning", stream=stream, connected=False, message=message)
            self.states.enter(Cause.DISCONNECTED, f"{stream} stream down ({message}): reconnecting")

    @staticmethod
    def ticker_of(symbol: str) -> str | None:
        try:
            return parse_occ(symbol).underlying
        except ValueError:
            return None

    # ------------------------------------------------------------------ journal
    def order_event(self, row: OrderEventRow) -> None:
        """Journal one order event (any thread) and log it."""
        fresh = self.journal.order_event(row) if self.journal is not None else True
        if fresh:
            self.log.event(
                "order", client_order_id=row.client_order_id, venue_order_id=row.venue_order_id,
                symbol=row.option_symbol, side=row.side, qty=row.qty, limit=row.limit_price, role=row.role,
                status=row.event, fill_qty=row.fill_qty, fill_price=row.fill_price,
                execution_id=row.execution_id, message=row.message, venue_ts=row.ts.isoformat(),
            )  # fmt: skip

    def scalp_filled(self, row: OpenScalpRow) -> None:
        """An entry fill of a scalp: its row written open on the first, updated on later ones."""
        key = (row.signal_id, row.option_symbol)
        row_id = self.rows.get(key)
        if row_id is None:
            self.rows[key] = self.journal.open_scalp(row) if self.journal is not None else -1
            self.log.say(
                f"opened {row.option_symbol} x{row.contracts} @ {row.entry_premium:.2f}",
                event="scalp_open", symbol=row.option_symbol, contracts=row.contracts, premium=row.entry_premium,
            )  # fmt: skip
        elif self.journal is not None and row_id >= 0:
            self.journal.update_open_scalp(row_id, row.contracts, row.entry_premium)

    def scalp_closed(self, scalp: ClosedScalp) -> None:
        key = (scalp.signal_id, scalp.option_symbol)
        row_id = self.rows.pop(key, None)
        if self.journal is not None:
            self.journal.close_scalp(row_id if row_id is not None and row_id >= 0 else None, scalp)
        self.adopted.pop(scalp.option_symbol, None)
        self.days.closed[f"{scalp.signal_id}/{scalp.option_symbol}/{self.closed_count}"] = scalp.pnl
        self.closed_count += 1
        self.log.say(
            f"closed {scalp.option_symbol} x{scalp.contracts} {scalp.entry_premium:.2f} -> "
            f"{scalp.exit_premium:.2f} ({scalp.exit_reason}) pnl {scalp.pnl:+,.2f}",
            event="scalp_closed", symbol=scalp.option_symbol, pnl=scalp.pnl, reason=scalp.exit_reason,
        )  # fmt: skip

    def on_chain(self, chain: Any, snapshot: ChainSnapshot) -> None:
        """The live chain's listener: keep the snapshot as the strategy decides on it (Cerebro thread).

        Recording never costs the strategy its decision: a failure here is logged, the minute unrecorded.
        """
        try:
            book = getattr(self.strategy, "books", {}).get(snapshot.underlying)
            if book is not None:  # the underlying of the last minutes, added by the strategy's own rule
                snapshot = self.strategy._with_quote_minutes(snapshot, book)
            times = {}
            for symbol in snapshot.symbol:
                quote = chain.venue_quote(str(symbol))
                times[str(symbol)] = None if quote is None else quote.ts
            account = self.strategy.account_state() if hasattr(self.strategy, "account_state") else None
            payload = chain_payload(snapshot, times, chain.iv_history(session_date(snapshot.ts)), account)
        except Exception as exc:  # whatever went wrong, the strategy still decides (see the docstring)
            self.log.event("chain_record", level="warning", symbol=snapshot.underlying, message=str(exc))
            return
        key = (snapshot.underlying, snapshot.ts)
        self.chains[key] = ChainRow(
            snapshot.underlying, snapshot.ts, float(snapshot.underlying_price), payload
        )

    def flush_chains(self) -> None:
        """Write the snapshots kept since the last heartbeat (the guard: a bar without a heartbeat, the end)."""
        chains = self._take_chains()
        if chains and self.journal is not None:
            self.journal.heartbeat(None, chains)

    def _take_chains(self) -> list[ChainRow]:
        """The kept snapshots, each with the signals the strategy entered on at its minute, and forget them.

        Taken after the strategy's bar (the guard runs after it), so a minute's entries are known.
        """
        entered: dict[tuple[str, datetime], list[dict[str, Any]]] = {}
        for scalp in getattr(self.strategy, "scalps", {}).values():
            signal = scalp.signal
            entered.setdefault((signal.ticker, scalp.opened_at), []).append(signal_payload(signal))
        rows = [
            dataclasses.replace(row, payload={**row.payload, "signals": entered.get(key, [])})
            for key, row in self.chains.items()
        ]
        self.chains = {}
        return rows

    # ------------------------------------------------------------------ per minute
    def day_pnl(self, now: datetime, scalps: Sequence[ScalpView]) -> float:
        unrealized = sum(s.pnl for s in scalps if not math.isnan(s.pnl))
        return self.days.realized(session_date(now)) + unrealized

    def minute(
        self,
        now: datetime,
        prices: Mapping[str, float],
        scalps: Sequence[ScalpView],
        day_pnl: float,
        details: Sequence[Mapping[str, Any]] | None = None,
    ) -> bool:
        """Once per venue minute: the status line and the heartbeat row; True when written."""
        minute = now.replace(second=0, microsecond=0)
        if self.last_minute is not None and minute <= self.last_minute:
            return False
        self.last_minute = minute
        state = str(self.states.state)
        line = status_line(now, prices, scalps, day_pnl, state, self.data_state)
        self.last_status = line
        self.log.say(line, event="status", state=state, day_pnl=round(day_pnl, 2), bar_time=now.isoformat())
        if self.journal is not None:
            first = next(iter(prices.items()), (None, None))
            chains = self._take_chains()
            self.journal.heartbeat(
                HeartbeatRow(
                    ts=datetime.now(now.tzinfo), bar_time=now, state=state, data_state=self.data_state or None,
                    underlying=",".join(prices), underlying_price=first[1], day_pnl=round(day_pnl, 2),
                    open_scalps=[dict(d) for d in details] if details is not None else [dict(v.__dict__, pnl_pct=v.pnl_pct) for v in scalps],
                    message=self.states.reason() or None,
                ),
                chains,
            )  # fmt: skip
        return True


__all__ = ["KILL_FILENAME", "DayBook", "LiveRuntime", "RunSettings"]
