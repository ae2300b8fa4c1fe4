"""OptionsScalper: signal -> pre-filter -> StrikeSelector -> GreeksGate -> ScalpSizer -> OrderIntent.

PRD-136's "scalping pipeline" as plain function calls on value objects. The
scalper holds no positions and submits nothing: it turns one signal, the
current chain snapshot and the account's state into an ``OrderIntent`` (what to
buy, how many, at what limit) or a ``Rejection`` whose ``reason_code`` says
which stage refused. Strategies and live stores execute the intent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from options_scalper.calendar import (
    Settlement,
    expiry_time_utc,
    in_fomc_blackout,
    is_tradable,
    session_date,
    to_eastern,
)
from options_scalper.config import EntryOrderType, MomentumConfig, ScalpConfig
from options_scalper.expiry import _cutoff_utc, trading_dte
from options_scalper.gates import GateContext, GreeksDecision, GreeksGate
from options_scalper.model import (
    AccountState,
    ChainSnapshot,
    Direction,
    OptionRight,
    Rejection,
    ScalperError,
    Signal,
)
from options_scalper.reasons import RejectReason
from options_scalper.selection import StrikeSelection, StrikeSelector
from options_scalper.sizing import ScalpSizer

__all__ = [
    "AFTER_CUTOFF",
    "BEFORE_START",
    "DAILY_LIMIT",
    "FOMC_BLACKOUT",
    "LOW_CONVICTION",
    "MACRO_MISALIGNED",
    "MARKET_CLOSED",
    "MAX_CONCURRENT",
    "TICKER_NOT_ALLOWED",
    "ChainMismatchError",
    "OptionsScalper",
    "OrderIntent",
    "entry_fill_minutes",
    "entry_limit_price",
    "marketable_limit",
    "tick_size",
]

# Pre-filter reason codes. Selection, gate and sizing codes pass through unchanged.
LOW_CONVICTION = RejectReason.LOW_CONVICTION
MACRO_MISALIGNED = RejectReason.MACRO_MISALIGNED
BEFORE_START = RejectReason.BEFORE_START
AFTER_CUTOFF = RejectReason.AFTER_CUTOFF
MARKET_CLOSED = RejectReason.MARKET_CLOSED
FOMC_BLACKOUT = RejectReason.FOMC_BLACKOUT
MAX_CONCURRENT = RejectReason.MAX_CONCURRENT
DAILY_LIMIT = RejectReason.DAILY_LIMIT
TICKER_NOT_ALLOWED = RejectReason.TICKER_NOT_ALLOWED

# calendar.is_tradable codes -> ours. The calendar's own code stays in the message.
_TIMING_CODES: dict[str, str] = {
    RejectReason.MARKET_CLOSED: MARKET_CLOSED,
    RejectReason.BEFORE_START: BEFORE_START,
    RejectReason.FOMC_BLACKOUT: FOMC_BLACKOUT,
    RejectReason.ZERO_DTE_CUTOFF: AFTER_CUTOFF,
    RejectReason.ONE_DTE_CUTOFF: AFTER_CUTOFF,
    RejectReason.AFTER_SESSION_EXIT: AFTER_CUTOFF,
    RejectReason.EXPIRED: AFTER_CUTOFF,
}

# Minimum price increments (Cboe / the Penny Interval Program), dollars per share:
# SPY, QQQ and IWM quote in pennies at every price; other penny-program classes
# (every default scalp ticker: NVDA, TSLA, AAPL, MSFT, META, AMZN, ...) in pennies
# below $3 and nickels at/above $3; SPX/SPXW in nickels below $3 and dimes above.
PENNY_ALL_PRICES: frozenset[str] = frozenset({"SPY", "QQQ", "IWM"})
NICKEL_DIME: frozenset[str] = frozenset({"SPX", "SPXW", "NDX", "RUT"})
SPX_TICKERS: frozenset[str] = frozenset({"SPX", "SPXW"})
_TICK_BREAK = 3.0


class ChainMismatchError(ScalperError, ValueError):
    """The chain snapshot is for another underlying than the signal."""


@dataclass(frozen=True)
class OrderIntent:
    """What to buy for a signal: one entry tranche of a long option scalp.

    ``quantity`` is this tranche; ``total_quantity`` what the sizer allowed;
    ``add_quantity`` the rest, for a later add (PRD-136: half on the signal, half when
    the first candle tests the cloud and bounces). ``limit_price`` is dollars per
    share: mid + ``limit_offset`` rounded to the tick and capped at the ask for
    ``order_type`` "limit"; for "ask" a marketable limit: the decision ask plus at most
    ``max_entry_slippage_pct`` (``marketable_limit``), the quantity sized at that cap so
    no fill inside it overruns the budget. ``created`` is the signal's time (UTC).
    """

    signal_id: str
    ticker: str
    option_symbol: str
    right: OptionRight
    strike: float
    expiry: date
    dte: int
    direction: Direction
    quantity: int
    total_quantity: int
    add_quantity: int
    limit_price: float
    order_type: str  # "limit" | "ask"
    selection: StrikeSelection
    gate: GreeksDecision
    conviction: int
    created: datetime

    @property
    def option_type(self) -> str:
        return self.right.word


def tick_size(price: float, ticker: str) -> float:
    """Minimum increment, dollars, of an option on ``ticker`` quoted at ``price`` (see PENNY_ALL_PRICES)."""
    root = ticker.upper()
    if root in PENNY_ALL_PRICES:
        return 0.01
    if root in NICKEL_DIME:
        return 0.05 if price < _TICK_BREAK else 0.10
    return 0.01 if price < _TICK_BREAK else 0.05


def round_to_tick(price: float, ticker: str) -> float:
    """Round ``price`` to the nearest tick (halves up)."""
    tick = tick_size(price, ticker)
    return round(math.floor(price / tick + 0.5 + 1e-9) * tick, 2)


def entry_limit_price(mid: float, ask: float, offset: float, ticker: str) -> float:
    """Limit for a buy: ``mid + offset`` rounded to the tick, never above the ask."""
    return min(ask, round_to_tick(mid + offset, ticker))


def entry_fill_minutes(fill_timeout_seconds: float) -> int:
    """Minutes after the decision bar in which an entry may fill: the next bar, up to the timeout."""
    return max(1, math.ceil(float(fill_timeout_seconds) / 60.0))


def marketable_limit(ask: float, max_slippage_pct: float, ticker: str) -> float:
    """Limit of a marketable buy decided at ``ask``: ``ask * (1 + max_slippage_pct)`` rounded DOWN
    to the tick, never below the ask itself (a fill at the decision ask is always allowed)."""
    cap = ask * (1.0 + max_slippage_pct)
    tick = tick_size(cap, ticker)
    return max(ask, round(math.floor(cap / tick + 1e-9) * tick, 2))


class OptionsScalper:
    """Turn a signal into an ``OrderIntent`` through PRD-136's stages, or say why not.

    Works with ``ScalpConfig`` (PRD-136) and ``MomentumConfig`` (seed 003). The
    momentum config has no conviction floor (its size does not scale with
    confidence), no macro filter, no ticker list and no half-position entry.
    """

    def __init__(self, config: ScalpConfig | MomentumConfig) -> None:
        self.config = config
        self.selector = StrikeSelector(config.selection_criteria())
        self.gate = GreeksGate(config.gate_criteria())
        self.sizer = ScalpSizer(config.sizing_rule())
        self._zero_dte_cutoff = config.zero_dte_cutoff_et  # parsed once: the config is frozen
        self._one_dte_cutoff = config.one_dte_cutoff_et

    def process_signal(
        self,
        signal: Signal,
        snapshot: ChainSnapshot,
        account: AccountState,
        *,
        iv_history: Sequence[float] = (),
    ) -> OrderIntent | Rejection:
        """Run the pipeline at ``signal.ts`` on ``snapshot``; ``iv_history`` = prior days' ATM IVs."""
        if signal.ticker.upper() != snapshot.underlying.upper():
            raise ChainMismatchError(
                f"signal {signal.signal_id} is for {signal.ticker} but the chain snapshot is "
                f"{snapshot.underlying}; pass the chain of the signal's underlying"
            )
        refused = self._should_scalp(signal, account)
        if refused is not None:
            return refused
        expiries = self._tradable_expiries(signal.ts, snapshot)
        if isinstance(expiries, Rejection):
            return expiries

        selection = self.selector.select(snapshot, signal.direction, signal.ts, allowed_expiries=expiries)
        if isinstance(selection, Rejection):
            return selection
        decision = self.gate.validate(
            selection, GateContext(iv_history=iv_history, is_0dte=selection.dte == 0)
        )
        if not decision.approved:
            return Rejection(
                decision.reason_code or RejectReason.GATE_REJECTED, decision.reason or "greeks gate said no"
            )

        cfg = self.config
        if (
            cfg.entry_order_type is EntryOrderType.ASK
        ):  # marketable limit: the ask, and no further than the cap
            price = marketable_limit(selection.ask, cfg.max_entry_slippage_pct, signal.ticker)
            size = self.sizer.calculate(
                selection.ask, signal.conviction, account.equity, account.open_scalps, worst_fill=price
            )
        else:
            price = entry_limit_price(selection.mid, selection.ask, cfg.limit_offset, signal.ticker)
            size = self.sizer.calculate(price, signal.conviction, account.equity, account.open_scalps)
        if size.contracts <= 0:
            return Rejection(
                size.reason_code or RejectReason.NO_SIZE, f"{selection.option_symbol}: {size.message}"
            )

        total = size.contracts
        first = math.ceil(total / 2) if getattr(cfg, "half_position_entry", False) else total
        return OrderIntent(
            signal_id=signal.signal_id,
            ticker=signal.ticker,
            option_symbol=selection.option_symbol,
            right=selection.right,
            strike=selection.strike,
            expiry=selection.expiry,
            dte=selection.dte,
            direction=signal.direction,
            quantity=first,
            total_quantity=total,
            add_quantity=total - first,
            limit_price=price,
            order_type=cfg.entry_order_type.value,
            selection=selection,
            gate=decision,
            conviction=signal.conviction,
            created=signal.ts,
        )

    # -- pre-filter --------------------------------------------------------------------

    def _should_scalp(self, signal: Signal, account: AccountState) -> Rejection | None:
        """Refuse before any chain work: ticker, conviction, macro bias, concurrency, daily count."""
        cfg = self.config
        ticker = signal.ticker.upper()
        if isinstance(cfg, ScalpConfig):
            if ticker in SPX_TICKERS:
                allowed = cfg.allow_spx
            else:
                allowed = ticker in {t.upper() for t in cfg.scalp_tickers}
            if not allowed:
                extra = " (SPX needs allow_spx)" if ticker in SPX_TICKERS else ""
                return Rejection(
                    TICKER_NOT_ALLOWED,
                    f"{ticker} is not in scalp_tickers {', '.join(cfg.scalp_tickers)}{extra}",
                )
            if signal.conviction < cfg.min_conviction_to_scalp:
                return Rejection(
                    LOW_CONVICTION,
                    f"conviction {signal.conviction} is below min_conviction_to_scalp "
                    f"{cfg.min_conviction_to_scalp}",
                )
            if cfg.require_macro_alignment and not signal.macro_aligned:
                return Rejection(
                    MACRO_MISALIGNED,
                    f"{signal.direction.value} signal against the macro (10-min) cloud; "
                    "require_macro_alignment is on",
                )
        if account.open_scalps >= cfg.max_concurrent_scalps:
            return Rejection(
                MAX_CONCURRENT,
                f"{account.open_scalps} scalps open; max_concurrent_scalps is {cfg.max_concurrent_scalps}",
            )
        if isinstance(cfg, MomentumConfig) and account.scalps_today >= cfg.max_daily_scalps:
            return Rejection(
                DAILY_LIMIT,
                f"{account.scalps_today} scalps today; max_daily_scalps is {cfg.max_daily_scalps}",
            )
        return None

    def _fomc_during_fill(self, now: datetime) -> Rejection | None:
        """FOMC_BLACKOUT when any minute in which the entry could fill is inside the blackout."""
        cfg = self.config
        if not cfg.no_scalp_around_fomc:
            return None
        for k in range(1, entry_fill_minutes(cfg.fill_timeout_seconds) + 1):
            at = now + timedelta(minutes=k)
            if in_fomc_blackout(at, cfg.fomc_blackout_minutes):
                return Rejection(
                    FOMC_BLACKOUT,
                    f"the entry could fill at {to_eastern(at):%H:%M} ET, within "
                    f"{cfg.fomc_blackout_minutes} min of an FOMC statement",
                )
        return None

    def _tradable_expiries(self, now: datetime, snapshot: ChainSnapshot) -> set[date] | Rejection:
        """Expiries within ``max_dte`` that the calendar lets us open at ``now``, or why none.

        Session rules (closed market, before the start time, FOMC blackout) refuse
        outright; per-expiry cutoffs only drop that expiry (after the 0DTE cutoff
        only 1DTE remains). With no candidate expiry at all, the selector reports
        ``no_expiry``.
        """
        refused = is_tradable(now, None, self.config)
        if refused is not None:
            return _timing_rejection(refused)
        refused = self._fomc_during_fill(now)
        if refused is not None:
            return refused
        session = session_date(now)
        max_dte = self.config.max_dte
        allowed: set[date] = set()
        first_refusal: Rejection | None = None
        expiry: date
        for expiry in np.unique(snapshot.expiry).tolist():  # datetime64[D] -> date, in date order
            dte = trading_dte(session, expiry)
            if not 0 <= dte <= max_dte:
                continue
            if self._expiry_open(now, session, expiry):
                allowed.add(expiry)
                continue
            why = is_tradable(now, expiry, self.config)  # the calendar's own refusal and wording
            if why is None:
                allowed.add(expiry)
            elif first_refusal is None:
                first_refusal = why
        if not allowed and first_refusal is not None:
            return _timing_rejection(first_refusal)
        return allowed

    def _expiry_open(self, now: datetime, session: date, expiry: date) -> bool:
        """True when ``is_tradable(now, expiry)`` is None, given ``is_tradable(now, None)`` was.

        The expiry adds two of the calendar's rules to the session ones: not yet
        expired, and before the 0DTE (expiry today) or 1DTE (later) cutoff. False
        sends the caller to ``is_tradable`` for the exact refusal.
        """
        if expiry < session or now >= expiry_time_utc(expiry, Settlement.PM):
            return False
        cutoff = self._zero_dte_cutoff if expiry == session else self._one_dte_cutoff
        return cutoff is None or now < _cutoff_utc(session, cutoff)


def _timing_rejection(rejection: Rejection) -> Rejection:
    code = _TIMING_CODES.get(rejection.reason_code, rejection.reason_code)
    return Rejection(code, f"{rejection.message} [{rejection.reason_code}]")
