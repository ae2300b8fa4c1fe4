"""``ScalpStrategyBase``: the Backtrader adapter shared by every scalping strategy.

The strategy talks to ports (``options_scalper.ports``), never to a venue. Per
symbol S a store (backtest, Alpaca, IBKR) gives the Cerebro: ``S``, the clock
(a ``ClockFeed`` carrying its ``ChainSource`` as ``clock.chain``), ``S_10m``
(its macro view) and ``S_opt0 .. S_opt{n-1}`` (``ContractQuotes`` feeds that
bind to a contract at run time). ``app.cerebro.build_cerebro`` adds them the
same way for every store. Several symbols may share one Cerebro: they share the
broker's cash and the concurrency limit; each has its own clock, chain and pool.
Broker, commission and fill rules belong to the store, not to the strategy.

A subclass sets ``config_cls`` and ``params = params_from_config(ConfigCls)``
and overrides:

* ``on_signal_bar(symbol) -> Signal | None`` - called on every new clock bar
  of ``symbol`` in the trading range (not warmup, before the flatten time).
  A returned Signal goes through :meth:`submit_signal`.
* ``on_position_bar(scalp) -> ExitReason | None`` - strategy-specific exits
  (cloud flip, exhaustion) and the place to call :meth:`add_to_position`.
* ``exit_state(scalp)`` (optional) - extra inputs for ``evaluate_exits``.

Everything else is here: the pipeline call, binding a contract feed, entry
orders with a fill timeout, per-bar exit monitoring at the executable bid
(last known bid when this minute has none), end-of-day flattening, expiry
settlement (done by the venue's broker), and one ``ClosedScalp``
per round trip in ``self.closed_scalps`` (appended in ``notify_trade``;
subclasses overriding ``notify_order`` / ``notify_trade`` call ``super()``
first). Rejections are counted in ``self.rejections`` by reason code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

import numpy as np

from btcompat.history import forget_finished
from options_scalper.calendar import is_half_day, session_date
from options_scalper.config import ExitRules
from options_scalper.constants import CONTRACT_MULTIPLIER, DEFAULT_MAX_QUOTE_AGE_MIN
from options_scalper.exits import ExitState, evaluate_exits
from options_scalper.model import AccountState, ChainSnapshot, ExitReason, Rejection, ScalperError, Signal
from options_scalper.ports import ClockFeed, ContractQuotes
from options_scalper.quotes import side_ok
from options_scalper.reasons import RejectReason
from options_scalper.records import ClosedScalp
from options_scalper.scalper import OptionsScalper
from strategies.bartime import BarTimes, SessionClock
from strategies.books import ContractPool, OpenScalp, SymbolBook, contract_spec, scalp_position
from strategies.orders import ScalpOrders
from strategies.params import config_from_params, params_from_config

__all__ = [
    "EngineError",
    "OpenScalp",
    "ScalpStrategyBase",
    "SymbolBook",
    "config_from_params",
    "params_from_config",
]


class EngineError(ScalperError):
    """The Cerebro set-up does not fit the engine (feeds, preload, broker)."""


_FILL_LAG = timedelta(minutes=1)  # an order decided at a bar's close fills on the next minute's quote


class ScalpStrategyBase(ScalpOrders):
    """Turns ``OrderIntent`` s into honest fills and ``ClosedScalp`` s (see module doc)."""

    config_cls: ClassVar[type | None] = None

    params: Any = (
        ("symbol", ""),  # '' = every clock feed; 'SPY,TSLA' = those
        ("flatten_minutes", 5),  # flatten and stop entering this long before the close
        ("macro_suffix", "_10m"),
    )

    # ------------------------------------------------------------------ set-up
    def __init__(self) -> None:
        super().__init__()
        self.config = config_from_params(self.config_cls, self.p) if self.config_cls else None
        self.closed_scalps: list[ClosedScalp] = []
        self.rejections: Counter[str] = Counter()
        self.scalps: dict[Any, OpenScalp] = {}  # by the bound contract feed
        self.times = BarTimes()
        self.sessions = SessionClock()
        self.books: dict[str, SymbolBook] = self._build_books()
        self.scalper = self.build_scalper()
        self._entries_by_day: Counter[date] = Counter()
        self._flatten_cache: tuple[datetime, datetime, int, datetime] | None = None
        age = getattr(self.config, "max_quote_age_minutes", None) if self.config is not None else None
        self.max_quote_age_min = float(age) if age is not None else DEFAULT_MAX_QUOTE_AGE_MIN

    def _build_books(self) -> dict[str, SymbolBook]:
        clocks = [d for d in self.datas if isinstance(d, ClockFeed)]
        wanted = [s.strip().upper() for s in str(self.p.symbol).split(",") if s.strip()]
        if wanted:
            clocks = [c for c in clocks if c.symbol.upper() in wanted]
            missing = set(wanted) - {c.symbol.upper() for c in clocks}
            if missing:
                raise EngineError(
                    f"no clock feed for {', '.join(sorted(missing))}; add it with app.cerebro.build_cerebro"
                )
        if not clocks:
            raise EngineError(
                "no clock feed (a feed carrying its option chain) in the Cerebro: "
                "build it from a store with app.cerebro.build_cerebro"
            )
        books: dict[str, SymbolBook] = {}
        for clock in clocks:
            sym = clock.symbol
            feeds = [
                d
                for d in self.datas
                if isinstance(d, ContractQuotes) and not isinstance(d, ClockFeed) and d.symbol == sym
            ]
            macro = None
            names = getattr(self, "_macro_names", None) or [sym + self.p.macro_suffix]
            for n in names:
                with contextlib.suppress(KeyError):
                    macro = self.getdatabyname(n)
            books[sym] = SymbolBook(sym, clock, macro, clock.chain, ContractPool(feeds))
        return books

    def build_scalper(self) -> Any:
        """Return the decision pipeline (``OptionsScalper(config)``); tests may override."""
        if self.config is None:
            raise EngineError(f"{type(self).__name__}: set config_cls (ScalpConfig or MomentumConfig)")
        return OptionsScalper(self.config)

    def start(self) -> None:
        if self.env.p.preload and any(b.pool.feeds for b in self.books.values()):
            raise EngineError("contract feeds bind at run time: run with cerebro.run(preload=False)")

    # ------------------------------------------------------------------ hooks
    def on_signal_bar(self, symbol: str) -> Signal | None:
        """Return a Signal for ``symbol`` on this bar, or None. Override."""
        return None

    def on_position_bar(self, scalp: OpenScalp) -> ExitReason | None:
        """Strategy-specific exit (or an ``add_to_position`` call) for an open scalp. Override."""
        return None

    def exit_state(self, scalp: OpenScalp, now: datetime, bid: float) -> dict[str, Any]:
        """Extra inputs for ``evaluate_exits``; override to add indicator state."""
        return {}

    # ------------------------------------------------------------------ bar loop
    def prenext(self) -> None:
        self._on_bar(signals=False)

    def next(self) -> None:
        self._on_bar(signals=True)

    def _on_bar(self, signals: bool) -> None:
        scalps = self.scalps
        for book in self.books.values():
            clock = book.clock
            n = len(clock)
            if n == book.seen_len:
                continue  # this symbol's clock did not tick
            book.seen_len = n
            num = clock.lines.datetime[0]
            now = self.times.of(num)
            flatten_at = self._flatten_time(now)
            if scalps:
                for scalp in [s for s in scalps.values() if s.book is book]:
                    self._refresh_quote(scalp, now)
                    if now >= flatten_at:
                        self.close_scalp(scalp, ExitReason.END_OF_DAY)
                    elif scalp.open_qty > 0 and scalp.exit_order is None:
                        reason = self.check_exits(scalp, now)
                        if reason is not None:
                            self.close_scalp(scalp, reason)
            if signals and now < flatten_at and num >= clock.trading_start_num:  # not in warmup
                sig = self.on_signal_bar(book.symbol)
                if sig is not None:
                    self.submit_signal(sig)

    def _session_close(self, now: datetime) -> datetime:
        return self.sessions.close(now)

    def _flatten_time(self, now: datetime) -> datetime:
        minutes = int(self.p.flatten_minutes)
        cached = self._flatten_cache  # (open, close, minutes, flatten time) of the last session
        if cached is not None and cached[0] <= now <= cached[1] and cached[2] == minutes:
            return cached[3]
        open_, close = self.sessions.bounds(now)
        if cached is None or cached[0] != open_:
            forget_finished(self)  # a new session: Backtrader's record of finished orders goes
        flatten_at = close - timedelta(minutes=minutes)
        self._flatten_cache = (open_, close, minutes, flatten_at)
        return flatten_at

    def _refresh_quote(self, scalp: OpenScalp, now: datetime) -> None:
        f = scalp.feed
        if f.streaming is None:
            return
        age_ok = self.max_quote_age_min
        lines = f.lines
        bid, ask, age = lines.bid[0], lines.ask[0], lines.quoteage[0]
        if side_ok(bid, age, age_ok):
            scalp.last_bid = float(bid)
            scalp.last_quote_time = now
        if side_ok(ask, age, age_ok):
            scalp.last_ask = float(ask)

    def check_exits(self, scalp: OpenScalp, now: datetime) -> ExitReason | None:
        """Exit reason for an open scalp at the executable (last known) bid, or None."""
        reason = self.on_position_bar(scalp)
        if reason is not None:
            return reason
        if self.config is None:
            return None
        # With no bid seen since entry the price rules cannot fire (NaN compares
        # false), but the time rules must: the exit order then waits for a bid.
        return self.evaluate_exit_rules(scalp, now, scalp.last_bid)

    def evaluate_exit_rules(self, scalp: OpenScalp, now: datetime, bid: float) -> ExitReason | None:
        """Apply ``options_scalper.exits.evaluate_exits`` to this scalp at ``bid``."""
        position = scalp_position(scalp).mark(bid, now)
        state = ExitState(
            now=now,
            bid=bid,
            ask=scalp.last_ask,
            session_close=self._session_close(now),
            fill_lag=_FILL_LAG,
            **self.exit_state(scalp, now, bid),
        )
        result: ExitReason | None = evaluate_exits(position, state, self._exit_rules())
        return result

    def _exit_rules(self) -> ExitRules:
        """The config's exit rules, built once (the config is frozen)."""
        rules: ExitRules | None = getattr(self, "_exit_rules_cache", None)
        if rules is None:
            assert self.config is not None
            rules = self._exit_rules_cache = self.config.exit_rules()
        return rules

    # ------------------------------------------------------------------ account
    def account_state(self) -> AccountState:
        reserved = 0.0
        for s in self.scalps.values():
            for o in s.entry_orders:
                if o.alive():
                    px = o.created.price if not math.isnan(o.created.price) else 0.0
                    reserved += abs(o.executed.remsize) * px * CONTRACT_MULTIPLIER
        today = self._today()
        return AccountState(
            equity=float(self.broker.getvalue()),
            cash=float(self.broker.getcash()) - reserved,
            open_scalps=len(self.scalps),
            scalps_today=self._entries_by_day[today],
            open_symbols=tuple(s.option_symbol for s in self.scalps.values()),
        )

    def _today(self) -> date:
        return session_date(self.times.bar(self.datas[0]))

    # ------------------------------------------------------------------ entries
    def submit_signal(self, signal: Signal) -> Any:
        """Run ``signal`` through the pipeline; on an intent bind a feed and send the entry."""
        book = self.books.get(signal.ticker)
        if book is None:
            return self._reject(RejectReason.UNKNOWN_SYMBOL, f"no feeds for {signal.ticker}")
        now = self.times.bar(book.clock)
        if now >= self._flatten_time(now):
            return self._reject(RejectReason.AFTER_FLATTEN_TIME, "too close to the session close")
        day = session_date(now)
        snapshot = book.chain.snapshot(now, float(book.clock.close[0]), half_day=is_half_day(day))
        snapshot = self._with_quote_minutes(snapshot, book)
        result = self.scalper.process_signal(
            signal, snapshot, self.account_state(), iv_history=book.chain.iv_history(day)
        )
        if isinstance(result, Rejection) or result is None:
            self.count_rejection(
                result.reason_code if isinstance(result, Rejection) else RejectReason.NO_INTENT
            )
            return result
        intent = result
        if intent.option_symbol in {s.option_symbol for s in self.scalps.values()}:
            return self._reject(RejectReason.ALREADY_HOLDING, f"{intent.option_symbol} is already open")
        spec = contract_spec(intent)
        feed = book.pool.acquire(spec, owner=self)
        if feed is None:
            return self._reject(
                RejectReason.NO_FREE_CONTRACT_FEED, f"all {len(book.pool)} contract feeds are in use"
            )
        scalp = OpenScalp(book=book, feed=feed, intent=intent, signal=signal, opened_at=now)
        self.scalps[feed] = scalp
        self._entries_by_day[day] += 1
        order = self._entry_order(scalp, int(intent.quantity), float(intent.limit_price))
        if order is None:
            self._finish_if_flat(scalp)
        return intent

    def _with_quote_minutes(self, snapshot: ChainSnapshot, book: SymbolBook) -> ChainSnapshot:
        """``snapshot`` with the underlying of the last minutes, so each quote is priced with its own."""
        n = min(len(book.clock), math.floor(self.max_quote_age_min) + 1)
        if n < 2:
            return snapshot
        closes = np.asarray(book.clock.close.get(size=n), dtype=np.float64)[::-1]  # k minutes ago at k
        return dataclasses.replace(snapshot, underlying_by_age=closes)
