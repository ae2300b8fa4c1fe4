"""The live clock: the underlying's 1-minute bars from a venue, as a Backtrader live feed.

The same bars as the backtest clock (``feeds.backtest.clock.UnderlyingFeed``): one
bar per regular-session minute, stamped at its CLOSE (a venue bar starting 09:30 ET
is the bar stamped 09:31), minutes without a bar filled by the backtest's own rule
(``feeds.backtest.gapfill.fill_session``), ``warmup_days`` sessions before today
first. Backtrader's live-feed contract (``feed.py``, ``cerebro._runnext``):
``islive()`` is True, ``_load()`` returns a bar, None while waiting (at most
``qcheck`` seconds) and never False until ``last_day``'s session is over; the
state goes through ``put_notification``: DELAYED while backfilling, LIVE once
caught up, CONNBROKEN while the bar stream is down, DISCONNECTED at the end.

A minute is emitted once it is known to be complete: a bar of a later minute has
arrived, a backfill covered it, or (stream up) the venue's clock is
``gap_grace_seconds`` past its close. Bars a venue sends twice, late or off the
grid are dropped (counted and logged). After a reconnect the missed minutes are
backfilled with ``historical_bars`` before the stream resumes. Venue callbacks
arrive on the adapter's threads and go through a queue that ``_load`` drains.

The resampled macro view (``cerebro.resampledata``) asks a live feed's clone for
``_timeoffset()`` when no bar arrives; here that is the clock's own bar time, so the
resampler delivers exactly when the backtest's does (never on this machine's clock).
"""

from __future__ import annotations

import logging
import math
import queue
import time
from collections import deque
from datetime import UTC, date, datetime, timedelta
from typing import Any

import backtrader as bt
import numpy as np

from brokers.live.sessions import Session, session_of, to_ns, warmup_sessions
from brokers.live.venue import STREAM_BARS, LiveBar, LiveVenue, VenueError
from feeds.backtest.gapfill import NS_PER_MINUTE
from feeds.backtest.gridfeed import CONTRACT_KEEP_BARS, bound_line_buffers, day_grid
from options_scalper.calendar import next_session, session_date

log = logging.getLogger(__name__)


class LiveClock(bt.feed.DataBase):
    """The clock feed of one underlying on a live venue (the ``ClockFeed`` port; see module doc)."""

    params: Any = (
        ("venue", None),  # the LiveVenue
        ("symbol", ""),
        ("warmup_days", 2),
        ("keep_bars", CONTRACT_KEEP_BARS),  # bars each line keeps (0 = all): a session by default
        ("qcheck", 0.5),  # seconds _load waits for a bar before returning None
        ("gap_grace_seconds", 15.0),  # venue seconds after a minute's close before it counts as a gap
        ("clock_poll_seconds", 5.0),  # wall seconds between venue.clock() polls while waiting
        ("last_day", None),  # end after this session (None: run until stopped)
        ("timeframe", bt.TimeFrame.Minutes),
        ("compression", 1),
    )

    def __init__(self) -> None:
        super().__init__()
        self.chain: Any = None  # the LiveChain (set by the store)
        self.trading_start_num = float("inf")
        self.stamps: deque[tuple[float, int]] = deque(maxlen=4096)  # (bt num, ns) of the bars emitted
        self.produced = 0  # bars emitted so far (contract feeds follow this count)
        self.filled_bars = 0
        self.dropped_bars = 0
        self.duplicate_bars = 0
        self.backfills = 0
        self.skipped_sessions: list[date] = []

    @property
    def symbol(self) -> str:
        return str(self.p.symbol or self.p.name or "")

    def islive(self) -> bool:
        return True

    @property
    def ended(self) -> bool:
        """True once ``last_day``'s session is over (or the feed was stopped)."""
        return bool(getattr(self, "_ended", False))

    def haslivedata(self) -> bool:
        # read by Cerebro (and tests) between loads: no state is touched here
        return bool(self._queue.qsize()) or self._has_ready

    # ------------------------------------------------------------------ start / stop
    def start(self) -> None:
        super().start()
        venue: LiveVenue = self.p.venue
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._sessions: deque[Session] = deque()
        self._prev_close = float("nan")
        self._known_ns = 0  # every minute closing at or before this is complete
        self._stream_up = True
        self._last_poll = -math.inf
        self._last_close_dt: datetime | None = None
        self._ended = False
        self._has_ready = False
        self._retry_backfill = False
        self._last_retry = -math.inf
        self.stamps.clear()
        self.produced = 0
        bound_line_buffers(self, int(self.p.keep_bars or 0), f"{self._name or self.symbol} (LiveClock)")
        now = venue.clock().now
        self.today = session_of(now)
        days = [*warmup_sessions(self.today, self.p.warmup_days), self.today]
        for day in days:
            self._sessions.append(Session(day_grid(day), {}))
        self.put_notification(self.DELAYED)  # trading starts with the first live bar (_go_live)
        venue.on_status(self._on_status)
        venue.subscribe_bars([self.symbol], self._on_bar)  # first: no gap between history and stream
        self._backfill(self._sessions[0].grid.open_utc or now, now)

    def stop(self) -> None:
        self._ended = True
        self.put_notification(self.DISCONNECTED)
        super().stop()

    # ------------------------------------------------------------------ venue threads
    def _on_bar(self, bar: LiveBar) -> None:
        if bar.symbol == self.symbol:
            self._queue.put(("bar", bar))

    def _on_status(self, stream: str, connected: bool, message: str) -> None:
        self._queue.put(("status", (stream, connected, message)))

    # ------------------------------------------------------------------ Backtrader's thread
    def _load(self) -> bool | None:
        if self._ended:
            return False
        if self._retry_backfill and time.monotonic() - self._last_retry >= float(self.p.clock_poll_seconds):
            self._catch_up()
        self._drain(block=False)
        if not self._ready():
            self._drain(block=True)
        if not self._ready():
            self._poll_venue_time()
        loaded = self._emit()
        self._has_ready = bool(loaded) and self._ready()
        if not loaded and self._laststatus == self.DELAYED and self._stream_up and not self._ready():
            self._go_live(None)  # caught up with everything the venue has closed
        return loaded

    def _drain(self, block: bool) -> None:
        try:
            item = (
                self._queue.get(timeout=self._qcheck)
                if block and self._qcheck > 0
                else self._queue.get_nowait()
            )
        except queue.Empty:
            return
        while True:
            self._ingest(*item)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return

    def _ingest(self, kind: str, payload: Any) -> None:
        if kind == "bar":
            self._add_bars([payload], source="stream")
            return
        stream, connected, message = payload
        if stream != STREAM_BARS:
            return
        if not connected:
            self._stream_up = False
            log.warning("%s: bar stream down (%s)", self.symbol, message or "no message")
            self.put_notification(self.CONNBROKEN)
        elif not self._stream_up:
            self.put_notification(self.DELAYED)
            self._catch_up()

    def _catch_up(self) -> None:
        """Backfill the minutes missed while the stream was down; the stream counts as up once that worked."""
        self._last_retry = time.monotonic()
        try:
            now = self.p.venue.clock().now
            start = self._resume_from()
            log.info("%s: bar stream back; backfilling %s .. %s", self.symbol, start, now)
            self._backfill(start, now)
        except VenueError as err:
            self._retry_backfill = True
            log.warning("%s: backfill after the reconnect failed (%s); retrying", self.symbol, err)
            return
        self._retry_backfill = False
        self._stream_up = True

    def _resume_from(self) -> datetime:
        """Where a backfill after a drop starts: the open of the first session not fully received."""
        for s in self._sessions:
            if s.emitted < len(s.grid.ns):
                return s.grid.open_utc or datetime.now(UTC)
        return self._sessions[-1].grid.close_utc or datetime.now(UTC)

    def _backfill(self, start: datetime, now: datetime) -> None:
        end = now.replace(second=0, microsecond=0)
        bars = self.p.venue.historical_bars(self.symbol, start, end)
        self.backfills += 1
        self._add_bars(bars, source="history")
        self._known_ns = max(self._known_ns, to_ns(end))

    def _poll_venue_time(self) -> None:
        if not self._stream_up:
            return  # while the stream is down only a backfill may complete a minute
        wall = time.monotonic()
        if wall - self._last_poll < float(self.p.clock_poll_seconds):
            return
        self._last_poll = wall
        now = self.p.venue.clock().now
        self._known_ns = max(self._known_ns, to_ns(now) - int(float(self.p.gap_grace_seconds) * 1e9))

    def _add_bars(self, bars: list[LiveBar], source: str) -> None:
        for bar in bars:
            start_ns = to_ns(bar.start)
            close_ns = start_ns + NS_PER_MINUTE
            session = self._session_for(close_ns)
            if session is None:
                self.dropped_bars += 1
                log.info(
                    "%s: dropped a %s bar starting %s (off the session grid)", self.symbol, source, bar.start
                )
                continue
            if start_ns in session.starts:
                self.duplicate_bars += 1  # a backfill overlapping the stream: expected, kept once
                (log.debug if source == "history" else log.warning)(
                    "%s: dropped a duplicate %s bar starting %s", self.symbol, source, bar.start
                )
                continue
            k = int(np.searchsorted(session.grid.ns, close_ns))
            if k < session.emitted:
                self.dropped_bars += 1
                log.warning(
                    "%s: dropped a late %s bar starting %s (that minute was already emitted)",
                    self.symbol,
                    source,
                    bar.start,
                )
                continue
            session.starts[start_ns] = (bar.open, bar.high, bar.low, bar.close, bar.volume)
            session._stale = True
            if source == "stream":  # closed bars arrive in order: this minute and the earlier are complete
                self._known_ns = max(self._known_ns, close_ns)

    def _session_for(self, close_ns: int) -> Session | None:
        for s in self._sessions:
            grid = s.grid
            if grid.ns[0] <= close_ns <= grid.ns[-1]:
                k = int(np.searchsorted(grid.ns, close_ns))
                return s if int(grid.ns[k]) == close_ns else None
        last = self._sessions[-1].grid
        if close_ns > last.ns[-1] and self.p.last_day is None:
            day = next_session(last.day)
            grid = day_grid(day)
            if grid.ns[0] <= close_ns <= grid.ns[-1]:
                self._sessions.append(Session(grid, {}))
                return self._session_for(close_ns)
        return None

    def _current(self) -> Session | None:
        while self._sessions and (
            self._sessions[0].emitted >= len(self._sessions[0].grid.ns) or self._empty(self._sessions[0])
        ):
            done = self._sessions.popleft()
            if not done.starts:
                self.skipped_sessions.append(done.grid.day)
                log.warning("%s: no bars at all for the session %s; skipped", self.symbol, done.grid.day)
            self._prev_close = (
                float(done.rows[-1, 3]) if done.rows is not None and len(done.rows) else self._prev_close
            )
        if not self._sessions:
            if self.p.last_day is not None:
                return None
            last_day = self.today if self._last_close_dt is None else session_date(self._last_close_dt)
            self._sessions.append(Session(day_grid(next_session(last_day)), {}))
        return self._sessions[0]

    def _empty(self, s: Session) -> bool:
        """A session complete without a single bar (the venue has no data for it): skipped, as the backtest
        skips days its catalog lacks."""
        return not s.starts and not s.emitted and self._known_count(s) >= len(s.grid.ns)

    def _known_count(self, s: Session) -> int:
        return int(np.searchsorted(s.grid.ns, self._known_ns, side="right"))

    def _ready(self) -> bool:
        s = self._current()
        if s is None:
            return False
        known = self._known_count(s)
        if s.emitted >= known:
            return False
        return not (math.isnan(self._prev_close) and not s.starts)  # first session: wait for a real bar

    def _emit(self) -> bool | None:
        s = self._current()
        if s is None:
            self._ended = True
            self.put_notification(self.DISCONNECTED)
            return False
        if not self._ready():
            return None
        known = self._known_count(s)
        rows = s.fill(known, self._prev_close)
        k = s.emitted
        o, h, lo, c, v = rows[k].tolist()
        if int(s.grid.ns[k]) - NS_PER_MINUTE not in s.starts:
            self.filled_bars += 1
        ln: Any = self.lines
        num = s.grid.num_list[k]
        ln.datetime[0] = num
        ln.open[0], ln.high[0], ln.low[0], ln.close[0], ln.volume[0] = o, h, lo, c, v
        ln.openinterest[0] = 0.0
        s.emitted = k + 1
        self.stamps.append((num, int(s.grid.ns[k])))
        self.produced += 1
        self._last_close_dt = s.grid.stamps[k]
        if self._laststatus == self.DELAYED and self._stream_up and not self._ready():
            self._go_live(num)  # the last backfilled bar: the newest closed minute, what comes next is live
        return True

    def put_notification(self, status: int, *args: Any, **kwargs: Any) -> None:
        if status in (self.DELAYED, self.CONNBROKEN):
            self.trading_start_num = math.inf  # bars replayed from history never trigger entries
        super().put_notification(status, *args, **kwargs)

    def _go_live(self, current_num: float | None) -> None:
        """LIVE: signals from ``current_num`` (the newest closed minute, being delivered) or the next bar on.

        A run started mid-session (or caught up after a reconnect) does not enter on the
        minutes it replayed from history: orders for them could only be refused. Exits are
        managed on every bar. Started before the open, this is today's first bar, as in the
        backtest.
        """
        if current_num is None:
            last = self.stamps[-1][0] if self.stamps else -math.inf
            current_num = float(np.nextafter(last, math.inf))  # any later bar
        first_today = day_grid(self.today).num_list[0]  # warm-up sessions never trade
        self.trading_start_num = max(float(current_num), first_today)
        self.put_notification(self.LIVE)

    def data_notes(self) -> list[str]:
        """One line per data problem met so far (for the run's notes and the status line)."""
        notes = []
        if self.filled_bars:
            notes.append(
                f"{self.symbol}: {self.filled_bars} minute(s) without a bar filled flat at the last close"
            )
        if self.dropped_bars:
            notes.append(f"{self.symbol}: {self.dropped_bars} bar(s) dropped (late, or off the session grid)")
        if self.backfills > 1:
            notes.append(
                f"{self.symbol}: the bar stream dropped; {self.backfills - 1} backfill(s) after reconnecting"
            )
        notes.extend(f"{self.symbol}: no bars for the session {d}; skipped" for d in self.skipped_sessions)
        return notes

    def stamp(self, index: int) -> tuple[float, int]:
        """(bt number, UTC ns) of the ``index``-th bar emitted (0-based); IndexError once dropped."""
        first = self.produced - len(self.stamps)
        if index < first:
            raise IndexError(f"{self.symbol}: bar {index} is older than the {len(self.stamps)} stamps kept")
        return self.stamps[index - first]

    # ------------------------------------------------------------------ resampler time
    def _timeoffset(self) -> timedelta:
        # The resampler's idle check reads utcnow() + _timeoffset(): make that the last bar's close
        if self._last_close_dt is None:
            return timedelta()
        return self._last_close_dt - datetime.utcnow()

    def clone(self, **kwargs: Any) -> Any:
        make: Any = LiveClone
        return make(dataname=self, **kwargs)


class LiveClone(bt.feed.DataClone):
    """``DataClone`` that reads the time offset of its live clock (see ``LiveClock._timeoffset``)."""

    def _timeoffset(self) -> timedelta:
        offset: timedelta = self.data._timeoffset()
        return offset


__all__ = ["LiveClock", "LiveClone", "session_of", "to_ns", "warmup_sessions"]
