"""``ScalpStrategyBase``: the Backtrader adapter shared by every scalping strategy.

Data layout (built by :func:`app.cerebro.build_cerebro`), per symbol S:
``S`` (UnderlyingFeed, the clock), ``S_10m`` (its resampled macro view) and
``S_opt0 .. S_opt{n-1}`` (the ContractFeed pool). Several symbols may share
one Cerebro: they share the broker's cash and the concurrency limit; each has
its own clock, ChainProvider and pool.

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
settlement (done by ``brokers.backtest.broker.QuoteBroker``), and one ``ClosedScalp``
per round trip in ``self.closed_scalps`` (appended in ``notify_trade``;
subclasses overriding ``notify_order`` / ``notify_trade`` call ``super()``
first). Rejections are counted in ``self.rejections`` by reason code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, ClassVar

import backtrader as bt

from brokers.commission import DEFAULT_COMMISSION_PER_CONTRACT, OptionCommInfo
from feeds.backtest.clock import UnderlyingFeed, bar_time_utc, day_grid, utc_of_num
from feeds.backtest.contracts import ContractFeed, ContractPool, ContractSpec, side_ok
from feeds.catalog.chain import ChainProvider
from options_scalper.config import ExitRules
from options_scalper.exits import ExitState, evaluate_exits
from options_scalper.model import ExitReason, OptionRight, Rejection, ScalperError, Signal
from options_scalper.position import ScalpPosition
from options_scalper.records import ClosedScalp

# (open, close) of the session ``_session_close`` saw last, aware UTC: any instant in
# [open, close] belongs to that session, so its close needs no calendar lookup.
_LAST_SESSION: tuple[datetime, datetime] | None = None


class EngineError(ScalperError):
    """The Cerebro set-up does not fit the engine (feeds, preload, broker)."""


def params_from_config(config_cls: type) -> tuple[tuple[str, Any], ...]:
    """Backtrader params from a config dataclass: flat picklable scalars only.

    Enums become their value, tuples a comma-separated string; other
    non-scalar fields are left to the config's default.
    """
    out: list[tuple[str, Any]] = []
    for f in dataclasses.fields(config_cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            continue
        if isinstance(default, Enum):
            default = default.value
        elif isinstance(default, tuple):
            default = ",".join(str(x) for x in default)
        elif not isinstance(default, bool | int | float | str):
            continue
        out.append((f.name, default))
    return tuple(out)


def config_from_params(config_cls: type, p: Any) -> Any:
    """Build ``config_cls`` from a strategy's params (strings coerced by the config)."""
    names = [f.name for f in dataclasses.fields(config_cls)]
    values = {n: getattr(p, n) for n in names if hasattr(p, n)}
    base = config_cls()
    if hasattr(base, "with_overrides"):
        return base.with_overrides(**values)
    return config_cls(**values)


@dataclass
class SymbolBook:
    """Everything one underlying needs: clock, macro view, chain and contract pool."""

    symbol: str
    clock: UnderlyingFeed
    macro: Any
    chain: ChainProvider
    pool: ContractPool
    seen_len: int = 0


@dataclass
class OpenScalp:
    """One position in the making: entry context, fills so far, exit state."""

    book: SymbolBook
    feed: ContractFeed
    intent: Any
    signal: Signal
    opened_at: datetime
    entry_orders: list[Any] = field(default_factory=list)
    exit_order: Any = None
    bought: int = 0
    bought_cost: float = 0.0
    sold: int = 0
    sold_value: float = 0.0
    entry_time: datetime | None = None
    exit_time: datetime | None = None
    exit_reason: ExitReason | None = None
    added: bool = False
    last_bid: float = float("nan")
    last_ask: float = float("nan")
    last_quote_time: datetime | None = None
    position_cache: tuple[tuple[Any, ...], ScalpPosition] | None = None

    @property
    def option_symbol(self) -> str:
        return str(self.intent.option_symbol)

    @property
    def open_qty(self) -> int:
        return self.bought - self.sold

    @property
    def entry_premium(self) -> float:
        return self.bought_cost / self.bought if self.bought else float("nan")

    @property
    def exit_premium(self) -> float:
        return self.sold_value / self.sold if self.sold else float("nan")

    @property
    def working_entry(self) -> bool:
        return any(o.alive() for o in self.entry_orders)

    def pnl_pct_at(self, bid: float) -> float:
        e = self.entry_premium
        return (bid - e) / e if e and not math.isnan(e) else float("nan")


class ScalpStrategyBase(bt.Strategy):
    """Turns ``OrderIntent`` s into honest fills and ``ClosedScalp`` s (see module doc)."""

    config_cls: ClassVar[type | None] = None

    params: Any = (
        ("catalog_root", ""),  # '' = the catalog of the clock feed
        ("symbol", ""),  # '' = every UnderlyingFeed; 'SPY,TSLA' = those
        ("pool_size", 3),  # contract feeds expected per symbol
        ("commission", DEFAULT_COMMISSION_PER_CONTRACT),  # dollars per contract
        ("cap_to_size", False),  # cap fills at the displayed size
        ("flatten_minutes", 5),  # flatten and stop entering this long before the close
        ("macro_suffix", "_10m"),
    )

    # ------------------------------------------------------------------ set-up
    def __init__(self) -> None:
        super().__init__()
        self.config = config_from_params(self.config_cls, self.p) if self.config_cls else None
        self.closed_scalps: list[ClosedScalp] = []
        self.rejections: Counter[str] = Counter()
        self.scalps: dict[ContractFeed, OpenScalp] = {}
        self.books: dict[str, SymbolBook] = self._build_books()
        self.scalper = self.build_scalper()
        self._entries_by_day: Counter[date] = Counter()
        self._flatten_cache: tuple[datetime, datetime, int, datetime] | None = None

    def _build_books(self) -> dict[str, SymbolBook]:
        clocks = [d for d in self.datas if isinstance(d, UnderlyingFeed)]
        wanted = [s.strip().upper() for s in str(self.p.symbol).split(",") if s.strip()]
        if wanted:
            clocks = [c for c in clocks if c.symbol.upper() in wanted]
            missing = set(wanted) - {c.symbol.upper() for c in clocks}
            if missing:
                raise EngineError(
                    f"no UnderlyingFeed for {', '.join(sorted(missing))}; add it with build_cerebro"
                )
        if not clocks:
            raise EngineError("no UnderlyingFeed in the Cerebro: build it with app.cerebro.build_cerebro")
        books: dict[str, SymbolBook] = {}
        for clock in clocks:
            sym = clock.symbol
            catalog = clock.catalog if not self.p.catalog_root else None
            if catalog is None:
                from feeds.backtest.clock import open_catalog

                catalog = open_catalog(self.p.catalog_root or clock.p.dataname)
            chain = ChainProvider(catalog, sym)
            feeds = [d for d in self.datas if isinstance(d, ContractFeed) and d.symbol == sym]
            for f in feeds:
                f.attach(chain, clock)
            macro = None
            names = getattr(self, "_macro_names", None) or [sym + self.p.macro_suffix]
            for n in names:
                with contextlib.suppress(KeyError):
                    macro = self.getdatabyname(n)
            books[sym] = SymbolBook(sym, clock, macro, chain, ContractPool(feeds))
        return books

    def build_scalper(self) -> Any:
        """Return the decision pipeline (``OptionsScalper(config)``); tests may override."""
        from options_scalper.scalper import OptionsScalper

        if self.config is None:
            raise EngineError(f"{type(self).__name__}: set config_cls (ScalpConfig or MomentumConfig)")
        return OptionsScalper(self.config)

    def start(self) -> None:
        if self.env.p.preload and any(b.pool.feeds for b in self.books.values()):
            raise EngineError("contract feeds bind at run time: run with cerebro.run(preload=False)")
        self.broker.addcommissioninfo(OptionCommInfo(commission=self.p.commission))
        if hasattr(self.broker, "set_cap_to_size"):
            self.broker.set_cap_to_size(self.p.cap_to_size)
        if self.config is not None and hasattr(self.broker, "set_max_quote_age"):
            age = getattr(self.config, "max_quote_age_minutes", None)
            if age is not None:
                self.broker.set_max_quote_age(age)

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
            now = utc_of_num(num)
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

    @staticmethod
    def _session_close(now: datetime) -> datetime:
        global _LAST_SESSION
        last = _LAST_SESSION
        if last is not None and last[0] <= now <= last[1]:  # same session: no calendar call
            return last[1]
        from options_scalper.calendar import session_date

        grid = day_grid(session_date(now))
        close = grid.stamps[-1].replace(tzinfo=UTC)
        if grid.open_utc is not None:
            _LAST_SESSION = (grid.open_utc, close)
        return close

    def _flatten_time(self, now: datetime) -> datetime:
        minutes = int(self.p.flatten_minutes)
        cached = self._flatten_cache  # (open, close, minutes, flatten time) of the last session
        if cached is not None and cached[0] <= now <= cached[1] and cached[2] == minutes:
            return cached[3]
        close = self._session_close(now)
        flatten_at = close - timedelta(minutes=minutes)
        last = _LAST_SESSION
        if last is not None and last[1] == close and last[0] <= now <= close:
            self._flatten_cache = (last[0], close, minutes, flatten_at)
        return flatten_at

    def _refresh_quote(self, scalp: OpenScalp, now: datetime) -> None:
        f = scalp.feed
        if f.streaming is None:
            return
        age_ok = getattr(self.broker.p, "max_quote_age_min", 2.0)
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
        position = self._scalp_position(scalp).mark(bid, now)
        state = ExitState(
            now=now,
            bid=bid,
            ask=scalp.last_ask,
            session_close=self._session_close(now),
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

    @staticmethod
    def _scalp_position(scalp: OpenScalp) -> ScalpPosition:
        """The scalp as a domain ``ScalpPosition``, rebuilt only when its fills change."""
        key = (scalp.open_qty, scalp.bought, scalp.bought_cost, scalp.entry_time)
        if scalp.position_cache is not None and scalp.position_cache[0] == key:
            return scalp.position_cache[1]
        intent, sel = scalp.intent, getattr(scalp.intent, "selection", None)
        right = OptionRight(str(getattr(intent.right, "value", intent.right)))
        position = ScalpPosition.open(
            ticker=str(intent.ticker),
            option_symbol=scalp.option_symbol,
            right=right,
            strike=float(intent.strike),
            expiry=intent.expiry,
            contracts=max(1, scalp.open_qty),
            entry_price=scalp.entry_premium,
            entry_time=scalp.entry_time or scalp.opened_at,
            signal_id=str(intent.signal_id),
            delta=float(getattr(sel, "delta", float("nan"))),
            theta=float(getattr(sel, "theta", float("nan"))),
            iv=float(getattr(sel, "iv", float("nan"))),
        )
        scalp.position_cache = (key, position)
        return position

    # ------------------------------------------------------------------ account
    def account_state(self) -> Any:
        from options_scalper.model import AccountState

        reserved = 0.0
        for s in self.scalps.values():
            for o in s.entry_orders:
                if o.alive():
                    px = o.created.price if not math.isnan(o.created.price) else 0.0
                    reserved += abs(o.executed.remsize) * px * 100.0
        today = self._today()
        return AccountState(
            equity=float(self.broker.getvalue()),
            cash=float(self.broker.getcash()) - reserved,
            open_scalps=len(self.scalps),
            scalps_today=self._entries_by_day[today],
            open_symbols=tuple(s.option_symbol for s in self.scalps.values()),
        )

    def _today(self) -> date:
        from options_scalper.calendar import session_date

        return session_date(bar_time_utc(self.datas[0]))

    # ------------------------------------------------------------------ entries
    def submit_signal(self, signal: Signal) -> Any:
        """Run ``signal`` through the pipeline; on an intent bind a feed and send the entry."""
        book = self.books.get(signal.ticker)
        if book is None:
            return self._reject("unknown_symbol", f"no feeds for {signal.ticker}")
        now = bar_time_utc(book.clock)
        if now >= self._flatten_time(now):
            return self._reject("after_flatten_time", "too close to the session close")
        from options_scalper.calendar import is_half_day, session_date

        day = session_date(now)
        snapshot = book.chain.snapshot(now, float(book.clock.close[0]), half_day=is_half_day(day))
        result = self.scalper.process_signal(
            signal, snapshot, self.account_state(), iv_history=book.chain.iv_history(day)
        )
        if isinstance(result, Rejection) or result is None:
            code = result.reason_code if isinstance(result, Rejection) else "no_intent"
            self.rejections[code] += 1
            return result
        intent = result
        if intent.option_symbol in {s.option_symbol for s in self.scalps.values()}:
            return self._reject("already_holding", f"{intent.option_symbol} is already open")
        spec = self._spec_of(intent)
        feed = book.pool.acquire(spec, owner=self)
        if feed is None:
            return self._reject("no_free_contract_feed", f"all {len(book.pool)} contract feeds are in use")
        scalp = OpenScalp(book=book, feed=feed, intent=intent, signal=signal, opened_at=now)
        self.scalps[feed] = scalp
        self._entries_by_day[day] += 1
        order = self._entry_order(scalp, int(intent.quantity), float(intent.limit_price))
        if order is None:
            self._finish_if_flat(scalp)
        return intent

    def _reject(self, code: str, message: str) -> Rejection:
        self.rejections[code] += 1
        return Rejection(code, message)

    @staticmethod
    def _spec_of(intent: Any) -> ContractSpec:
        from options_scalper.calendar import expiry_time_utc

        expiry = intent.expiry
        right = getattr(intent.right, "value", intent.right)
        close_utc = expiry_time_utc(expiry).astimezone(UTC).replace(tzinfo=None)
        return ContractSpec(
            str(intent.option_symbol), str(right) == "C", float(intent.strike), expiry, close_utc
        )

    def _timeout(self) -> timedelta:
        seconds = getattr(self.config, "fill_timeout_seconds", 60) if self.config else 60
        return timedelta(minutes=max(1, math.ceil(float(seconds) / 60.0)))

    def _entry_order(self, scalp: OpenScalp, qty: int, limit: float) -> Any:
        if qty <= 0:
            return None
        order_type = str(getattr(scalp.intent, "order_type", "limit"))
        if order_type == "limit":
            order = self.buy(
                data=scalp.feed,
                size=qty,
                exectype=bt.Order.Limit,
                price=limit,
                valid=self._timeout(),
                role="entry",
            )
        else:  # marketable: pay the ask; the price is the estimate for the cash check
            sel = getattr(scalp.intent, "selection", None)
            est = float(getattr(sel, "ask", limit) or limit)
            order = self.buy(
                data=scalp.feed,
                size=qty,
                exectype=bt.Order.Market,
                price=est,
                valid=self._timeout(),
                role="entry",
            )
        scalp.entry_orders.append(order)
        return order

    def add_to_position(self, scalp: OpenScalp, quantity: int | None = None) -> Any:
        """Send the second tranche; refused when the scalp is losing (no averaging up/down)."""
        if scalp.added or scalp.exit_order is not None or scalp.open_qty <= 0:
            return self._reject("add_not_allowed", "already added, exiting, or nothing filled")
        qty = int(quantity if quantity is not None else getattr(scalp.intent, "add_quantity", 0))
        if qty <= 0:
            return self._reject("add_not_allowed", "no second tranche in the intent")
        f = scalp.feed
        bid, ask = float(f.bid[0]), float(f.ask[0])
        if not (bid > 0 and ask > 0):
            return self._reject("no_quote", f"{scalp.option_symbol} has no two-sided quote")
        if getattr(self.config, "no_average_up", True) and bid < scalp.entry_premium:
            return self._reject("no_average_up", "the position is losing; no adding to losers")
        offset = float(getattr(self.config, "limit_offset", 0.0))
        scalp.added = True
        return self._entry_order(scalp, qty, round((bid + ask) / 2.0 + offset, 2))

    # ------------------------------------------------------------------ exits
    def close_scalp(self, scalp: OpenScalp, reason: ExitReason) -> Any:
        """Cancel working entries and sell what is held at the bid, tagged with ``reason``."""
        for o in scalp.entry_orders:
            if o.alive():
                self.cancel(o)
        if scalp.exit_order is not None and scalp.exit_order.alive():
            return scalp.exit_order
        size = self.getposition(scalp.feed).size
        if size <= 0:
            if scalp.exit_reason is None:
                scalp.exit_reason = reason
            return None
        scalp.exit_reason = reason
        scalp.exit_order = self.sell(
            data=scalp.feed, size=size, exectype=bt.Order.Market, role="exit", exit_reason=reason.value
        )
        return scalp.exit_order

    # ------------------------------------------------------------------ notifications
    def notify_order(self, order: bt.Order) -> None:
        scalp = self.scalps.get(order.data) if isinstance(order.data, ContractFeed) else None
        if scalp is None:
            return
        if order.status in (order.Partial, order.Completed):
            for bit in order.executed.iterpending():
                self._record_fill(scalp, order, bit)
        if not order.alive():
            exit_ref = getattr(scalp.exit_order, "ref", None)
            if order.ref == exit_ref and order.status != order.Completed:
                scalp.exit_order = None  # retry on a later bar
            if order.status in (order.Margin, order.Rejected):
                self.rejections[
                    "insufficient_cash" if order.status == order.Margin else "broker_rejected"
                ] += 1
            elif (
                order.status == order.Expired
                and order.info.get("role") == "entry"
                and not order.executed.size
            ):
                self.rejections["fill_timeout"] += 1
            self._finish_if_flat(scalp)

    def _record_fill(self, scalp: OpenScalp, order: bt.Order, bit: Any) -> None:
        when = bt.num2date(bit.dt).replace(tzinfo=UTC)
        size = int(abs(bit.size))
        if order.isbuy():
            scalp.bought += size
            scalp.bought_cost += size * bit.price
            scalp.entry_time = scalp.entry_time or when
        else:
            scalp.sold += size
            scalp.sold_value += size * bit.price
            scalp.exit_time = when
            reason = order.info.get("exit_reason")
            if reason:
                scalp.exit_reason = ExitReason(reason)

    def _finish_if_flat(self, scalp: OpenScalp) -> None:
        """Release the feed of a scalp that holds nothing and has nothing working."""
        if scalp.bought == 0 and not scalp.working_entry and self.getposition(scalp.feed).size == 0:
            self.scalps.pop(scalp.feed, None)
            scalp.book.pool.release(scalp.feed)

    def notify_trade(self, trade: bt.Trade) -> None:
        if not trade.isclosed or not isinstance(trade.data, ContractFeed):
            return
        scalp = self.scalps.get(trade.data)
        if scalp is None:
            return
        if scalp.working_entry:  # a partial fill was sold; the rest may still come
            for o in scalp.entry_orders:
                if o.alive():
                    self.cancel(o)
        self.closed_scalps.append(self._closed_record(scalp, trade))
        self.scalps.pop(scalp.feed, None)
        scalp.book.pool.release(scalp.feed)

    def _closed_record(self, scalp: OpenScalp, trade: bt.Trade) -> ClosedScalp:
        intent, sel = scalp.intent, getattr(scalp.intent, "selection", None)
        right = str(getattr(intent.right, "value", intent.right))
        entry_dollars = scalp.entry_premium * scalp.bought * 100.0
        reason = scalp.exit_reason or ExitReason.END_OF_DAY
        direction = getattr(intent.direction, "position_direction", None) or (
            "long_call" if right == "C" else "long_put"
        )
        return ClosedScalp(
            signal_id=str(intent.signal_id),
            ticker=str(intent.ticker),
            option_symbol=scalp.option_symbol,
            option_type="call" if right == "C" else "put",
            strike=float(intent.strike),
            expiry=intent.expiry,
            dte=int(intent.dte),
            direction=direction,
            contracts=scalp.bought,
            entry_premium=scalp.entry_premium,
            exit_premium=scalp.exit_premium,
            entry_delta=float(getattr(sel, "delta", float("nan"))),
            entry_theta=float(getattr(sel, "theta", float("nan"))),
            entry_iv=float(getattr(sel, "iv", float("nan"))),
            exit_reason=reason.value,
            pnl=float(trade.pnlcomm),
            pnl_pct=float(trade.pnlcomm) / entry_dollars if entry_dollars else float("nan"),
            entry_time=scalp.entry_time or scalp.opened_at,
            exit_time=scalp.exit_time or bar_time_utc(scalp.feed),
            commission=float(trade.commission),
            conviction=int(getattr(intent, "conviction", scalp.signal.conviction)),
            status="expired" if reason is ExitReason.EXPIRY else "closed",
            order_id=str(trade.ref),
            metadata={"trigger": scalp.signal.trigger, "added": scalp.added},
        )
