"""Exit rules of an open scalp as pure functions returning ``ExitReason | None``.

Prices are the option's EXECUTABLE exit price, the bid (dollars per share);
thresholds are fractions of the entry premium. Times are aware UTC; cutoffs are
US/Eastern times of day, shifted on half days by ``calendar.effective_cutoff``.

Precedence in ``evaluate_exits`` (first match wins):

1. EXPIRY: at or after the expiry's settlement time there is no market left;
   the position settles at intrinsic value whatever the last bid said.
2. STOP_LOSS before 3. TAKE_PROFIT: when one bar's bid range touches both, we
   cannot know which came first, so we assume the worse. An honest backtest
   never books the better outcome of an ambiguous bar.
4. Hard time rules: END_OF_DAY (session exit time, or the session close), then
   ZERO_DTE_CUTOFF / ONE_DTE_CUTOFF, then TIME_EXIT (max hold).
5. CLOUD_FLIP, then 6. MOMENTUM_EXHAUSTION (signal-based, softest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from options_scalper.calendar import Settlement, cutoff_utc, expiry_time_utc, session_date
from options_scalper.config import ExitRules
from options_scalper.model import Direction, ExitReason, FloatArray
from options_scalper.position import ScalpPosition
from options_scalper.signals.ema_cloud import exhaustion_candle

_BAR = timedelta(minutes=1)  # the clock's bar: candles are 1-minute bars stamped at their close

__all__ = [
    "ExitState",
    "cloud_flip_against",
    "dte_cutoff",
    "end_of_day",
    "evaluate_exits",
    "expiry_exit",
    "max_hold",
    "momentum_exhaustion",
    "stop_loss",
    "take_profit",
]


@dataclass(frozen=True, eq=False)
class ExitState:
    """What the exit monitor sees at one bar close.

    ``bid``/``ask``: the held option's last known quote at ``now`` (carry the last
    quote forward when the minute has none). ``bid_high``/``bid_low``: optional
    range of the bid within the bar. Candle arrays (underlying, oldest first, last
    = the bar just closed) and the fast cloud's two EMAs (5 and 12 on 1-minute
    bars) feed exhaustion and cloud-flip; ``fast_cloud_bullish`` overrides the
    flip test when given. ``session_close`` is today's close, UTC. ``fill_lag``:
    how long after ``now`` an exit decided now fills (one bar on 1-minute bars: the
    decision at a bar's close fills on the next minute's quote), so that the max
    hold is realised as stated: held 15 minutes AT the fill, not 16.
    """

    now: datetime
    bid: float
    ask: float = math.nan
    bid_high: float | None = None
    bid_low: float | None = None
    opens: FloatArray | None = None
    highs: FloatArray | None = None
    lows: FloatArray | None = None
    closes: FloatArray | None = None
    ema_fast: FloatArray | None = None
    ema_slow: FloatArray | None = None
    fast_cloud_bullish: bool | None = None
    session_close: datetime | None = None
    settlement: Settlement = Settlement.PM
    fill_lag: timedelta = timedelta(0)


# --------------------------------------------------------------------------- price


def take_profit(
    entry_price: float, bid: float, target_pct: float, bid_high: float | None = None
) -> ExitReason | None:
    """TAKE_PROFIT when the bid (or the bar's bid high) reaches entry * (1 + target)."""
    best = bid if bid_high is None or not math.isfinite(bid_high) else max(bid, bid_high)
    if math.isfinite(best) and best >= entry_price * (1.0 + target_pct) - 1e-12:
        return ExitReason.TAKE_PROFIT
    return None


def stop_loss(
    entry_price: float, bid: float, stop_pct: float, bid_low: float | None = None
) -> ExitReason | None:
    """STOP_LOSS when the bid (or the bar's bid low) falls to entry * (1 - stop)."""
    worst = bid if bid_low is None or not math.isfinite(bid_low) else min(bid, bid_low)
    if math.isfinite(worst) and worst <= entry_price * (1.0 - stop_pct) + 1e-12:
        return ExitReason.STOP_LOSS
    return None


# --------------------------------------------------------------------------- signal


def momentum_exhaustion(
    closes: FloatArray,
    opens: FloatArray,
    highs: FloatArray,
    lows: FloatArray,
    ema_fast: FloatArray,
    ema_slow: FloatArray,
    side: Direction,
    n: int = 3,
) -> ExitReason | None:
    """MOMENTUM_EXHAUSTION after ``n``+ exhaustion candles in a row in the position's favour.

    The fast cloud at a bar spans [min(ema_fast, ema_slow), max(...)]; each of the
    last ``n`` candles must be an exhaustion candle on the position's side
    (``options_scalper.signals.ema_cloud.exhaustion_candle``: for a BULLISH position
    green and wholly above the cloud top, no wick touch; BEARISH mirrors it).
    Fewer than ``n`` bars or any NaN: no signal.
    """
    arrays = [np.asarray(a, dtype=np.float64)[-n:] for a in (closes, opens, highs, lows, ema_fast, ema_slow)]
    if n < 1 or any(a.shape[0] < n for a in arrays):
        return None
    c, o, h, lo, f, s = arrays
    if not np.isfinite(np.stack(arrays)).all():
        return None
    top, bottom = np.maximum(f, s), np.minimum(f, s)
    for k in range(n):
        if exhaustion_candle(o[k], h[k], lo[k], c[k], top[k], bottom[k]) is not side:
            return None
    return ExitReason.MOMENTUM_EXHAUSTION


def cloud_flip_against(side: Direction, fast_cloud_bullish: bool) -> ExitReason | None:
    """CLOUD_FLIP when the fast cloud points against the position (calls need bullish)."""
    if (side is Direction.BULLISH) != fast_cloud_bullish:
        return ExitReason.CLOUD_FLIP
    return None


# --------------------------------------------------------------------------- time


def expiry_exit(now: datetime, expiry: date, settlement: Settlement = Settlement.PM) -> ExitReason | None:
    """EXPIRY at or after the option's settlement time (16:00 ET, 13:00 on half days)."""
    return ExitReason.EXPIRY if now >= expiry_time_utc(expiry, settlement) else None


def end_of_day(
    now: datetime, session_exit_time: time | None, session_close: datetime | None = None
) -> ExitReason | None:
    """END_OF_DAY at the (half-day-shifted) session exit time, or at the session close."""
    if session_exit_time is not None and now >= cutoff_utc(session_date(now), session_exit_time):
        return ExitReason.END_OF_DAY
    if session_close is not None and now >= session_close:
        return ExitReason.END_OF_DAY
    return None


def dte_cutoff(
    now: datetime, expiry: date, zero_dte_cutoff: time | None, one_dte_cutoff: time | None
) -> ExitReason | None:
    """ZERO_DTE_CUTOFF for a same-day expiry, ONE_DTE_CUTOFF for a later one (ET, half-day shifted)."""
    today = session_date(now)
    if expiry <= today:
        if zero_dte_cutoff is not None and now >= cutoff_utc(today, zero_dte_cutoff):
            return ExitReason.ZERO_DTE_CUTOFF
    elif one_dte_cutoff is not None and now >= cutoff_utc(today, one_dte_cutoff):
        return ExitReason.ONE_DTE_CUTOFF
    return None


def max_hold(entry_time: datetime, now: datetime, max_hold_minutes: int | None) -> ExitReason | None:
    """TIME_EXIT once the position has been held ``max_hold_minutes`` or longer."""
    if max_hold_minutes is not None and now - entry_time >= timedelta(minutes=max_hold_minutes):
        return ExitReason.TIME_EXIT
    return None


# --------------------------------------------------------------------------- all


def _cloud_bullish(state: ExitState) -> bool | None:
    if state.fast_cloud_bullish is not None:
        return state.fast_cloud_bullish
    if (
        state.ema_fast is None
        or state.ema_slow is None
        or len(state.ema_fast) == 0
        or len(state.ema_slow) == 0
    ):
        return None
    fast, slow = float(state.ema_fast[-1]), float(state.ema_slow[-1])
    if not (math.isfinite(fast) and math.isfinite(slow)) or fast == slow:
        return None
    return fast > slow


def _last(values: FloatArray, n: int) -> FloatArray:
    """The last ``n`` values (none for ``n`` <= 0)."""
    return values[values.shape[0] - min(n, values.shape[0]) :]


def evaluate_exits(position: ScalpPosition, state: ExitState, rules: ExitRules) -> ExitReason | None:
    """The first exit that applies, in the precedence of the module docstring, or None."""
    now = state.now
    reason = expiry_exit(now, position.expiry, state.settlement)
    if reason is None:
        reason = stop_loss(position.entry_price, state.bid, rules.stop_loss_pct, state.bid_low)
    if reason is None:
        reason = take_profit(position.entry_price, state.bid, rules.profit_target_pct, state.bid_high)
    if reason is None:
        reason = end_of_day(now, rules.session_exit_time, state.session_close)
    if reason is None:
        reason = dte_cutoff(now, position.expiry, rules.zero_dte_cutoff, rules.one_dte_cutoff)
    if reason is None:
        reason = max_hold(position.entry_time, now + state.fill_lag, rules.max_hold_minutes)
    if reason is None and rules.use_cloud_flip:
        bullish = _cloud_bullish(state)
        if bullish is not None:
            reason = cloud_flip_against(position.side, bullish)
    if reason is None and rules.exhaustion_candles is not None:
        candles = (state.closes, state.opens, state.highs, state.lows, state.ema_fast, state.ema_slow)
        if all(a is not None for a in candles):
            # only candles that closed after the entry fill count (the fill bar's own and older ones do not)
            after = max(0, int((now - position.entry_time) // _BAR))
            c, o, h, lo, f, s = (_last(np.asarray(a, dtype=np.float64), after) for a in candles)
            reason = momentum_exhaustion(c, o, h, lo, f, s, position.side, rules.exhaustion_candles)
    return reason
