"""EmaCloudScalp on real Cerebro runs over small hand-made sessions: one scenario per PRD-136 rule.

Each scenario is a few sessions of 1-minute bars written minute by minute
(``Session``: a slope per minute, jumps, candle overrides) and, on the trading
day, a chain quoted at Black-Scholes prices (sigma 25 %, +/- 2 cents) around
the path, so strike selection, the greeks gate and the fills are the real ones.
The trigger is a "pop": the price dips for 30 minutes (the fast cloud turns
bearish), then jumps on the trigger bar with 3x volume (bullish flip) and
holds flat on the next bar (the entry limit fills there). Two warmup sessions
give the 10-minute macro EMA(50) its history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from app.cerebro import build_cerebro
from options_scalper.calendar import next_session, previous_session
from options_scalper.greeks import bs_price, time_to_expiry_years
from options_scalper.model import Direction, ExitReason, Rejection, Signal
from options_scalper.scalper import OrderIntent
from strategies.base import EngineError
from strategies.ema_cloud import EmaCloudScalp
from tests.support.memory_catalog import MemoryCatalog, session_stamps

ET = ZoneInfo("America/New_York")
SYM = "SPY"
CASH = 100_000.0
SIGMA = 0.25
HALF_SPREAD = 0.02
BASE_VOLUME = 1000.0
# 1DTE contracts burn 20-70 % of their premium a day, so PRD-136's 5 %/day theta
# gate refuses every one of them; scenarios that must hold a 1DTE lift it.
ONE_DTE_GATE: dict[str, Any] = {"max_theta_burn_pct": 1.0}


# ----------------------------------------------------------------------------- scenario building


def bar_index(day: date, hhmm: str) -> int:
    """Index in the session of the bar whose CLOSE is stamped ``hhmm`` ET."""
    h, m = (int(x) for x in hhmm.split(":"))
    stamp = datetime(day.year, day.month, day.day, h, m, tzinfo=ET).astimezone(UTC)
    return session_stamps(day).index(stamp)


def et(ts: datetime) -> str:
    return ts.astimezone(ET).strftime("%H:%M")


@dataclass
class Session:
    """One session's bars, built from a slope per minute plus jumps; candles may be overridden."""

    day: date
    start: float
    slope: float = 0.01
    wick: float = 0.02
    n: int = field(init=False)
    slopes: np.ndarray = field(init=False)
    jumps: np.ndarray = field(init=False)
    volumes: np.ndarray = field(init=False)
    candles: dict[int, dict[str, float]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.n = len(session_stamps(self.day))
        self.slopes = np.full(self.n, self.slope)
        self.jumps = np.zeros(self.n)
        self.volumes = np.full(self.n, BASE_VOLUME)

    def slope_from(self, hhmm: str, slope: float) -> Session:
        self.slopes[bar_index(self.day, hhmm) :] = slope
        return self

    def jump(self, hhmm: str, size: float, volume: float | None = None) -> Session:
        k = bar_index(self.day, hhmm)
        self.jumps[k] += size
        if volume is not None:
            self.volumes[k] = volume
        return self

    def candle(self, hhmm: str, **ohlc: float) -> Session:
        """Override ``open`` / ``high`` / ``low`` of one bar (closes come from slopes and jumps)."""
        self.candles.setdefault(bar_index(self.day, hhmm), {}).update(ohlc)
        return self

    def pop(
        self, hhmm: str, size: float = 0.6, volume: float = 3 * BASE_VOLUME, dip: float = -0.01
    ) -> Session:
        """Dip for 30 minutes, jump ``size`` on bar ``hhmm`` with ``volume``, then hold flat."""
        k = bar_index(self.day, hhmm)
        stamps = session_stamps(self.day)
        self.slope_from(et(stamps[k - 30]), dip)
        self.jump(hhmm, size, volume)
        return self.slope_from(et(stamps[k + 1]), 0.0)

    @property
    def closes(self) -> np.ndarray:
        return np.round(self.start + np.cumsum(self.slopes + self.jumps), 4)

    def close_at(self, hhmm: str) -> float:
        return float(self.closes[bar_index(self.day, hhmm)])

    @property
    def last_close(self) -> float:
        return float(self.closes[-1])

    def bars(self) -> pd.DataFrame:
        closes = self.closes
        opens = np.r_[self.start, closes[:-1]]
        highs = np.maximum(opens, closes) + self.wick
        lows = np.minimum(opens, closes) - self.wick
        for k, over in self.candles.items():
            opens[k] = over.get("open", opens[k])
            highs[k] = over.get("high", highs[k])
            lows[k] = over.get("low", lows[k])
        starts = [s - pd.Timedelta(minutes=1) for s in session_stamps(self.day)]  # catalog: bar START
        return pd.DataFrame(
            {
                "ts": pd.to_datetime(starts, utc=True),
                "open": opens,
                "high": highs,
                "low": lows,
                "close": closes,
                "volume": self.volumes,
            }
        )


def bs_quotes(session: Session, expiries: tuple[date, ...]) -> pd.DataFrame:
    """Every minute: calls and puts, $1 strikes around the path, at BS(sigma) +/- 2 cents."""
    stamps = session_stamps(session.day)
    closes = session.closes
    strikes = np.arange(math.floor(closes.min()) - 8, math.ceil(closes.max()) + 9, 1.0)
    frames = []
    for expiry in expiries:
        t = np.array([time_to_expiry_years(s, expiry) for s in stamps])
        for right in ("C", "P"):
            spot, strike = np.meshgrid(closes, strikes, indexing="ij")
            tt = np.broadcast_to(t[:, None], spot.shape)
            mid = bs_price(spot, strike, tt, 0.05, 0.0, SIGMA, right == "C")
            bid = np.maximum(0.01, np.round(mid - HALF_SPREAD, 2))
            ask = np.round(bid + 2 * HALF_SPREAD, 2)
            symbols = [f"{SYM}{expiry:%y%m%d}{right}{round(k * 1000):08d}" for k in strikes]
            frames.append(
                pd.DataFrame(
                    {
                        "ts": np.repeat(pd.to_datetime(stamps, utc=True), strikes.size),
                        "symbol": np.tile(symbols, len(stamps)),
                        "underlying": SYM,
                        "expiry": expiry,
                        "option_type": right,
                        "strike": np.tile(strikes, len(stamps)),
                        "bid_px": bid.ravel(),
                        "ask_px": ask.ravel(),
                        "bid_sz": 50.0,
                        "ask_sz": 50.0,
                        "quote_age_min": 0.0,
                    }
                )
            )
    quotes = pd.concat(frames, ignore_index=True)
    return quotes.sort_values(["ts", "symbol"], kind="stable").reset_index(drop=True)


def warmup_sessions(day: date, trend: float, start: float = 500.0) -> list[Session]:
    """The two sessions before ``day``, trending ``trend`` dollars per minute (the macro bias)."""
    d1 = previous_session(day)
    d0 = previous_session(d1)
    first = Session(d0, start, trend)
    return [first, Session(d1, first.last_close, trend)]


def trading_session(day: date, warmup: list[Session], slope: float = 0.01) -> Session:
    return Session(day, warmup[-1].last_close, slope)


def catalog_of(warmup: list[Session], trading: Session) -> MemoryCatalog:
    cat = MemoryCatalog()
    for s in warmup:
        cat.add_day(SYM, s.day, s.bars(), pd.DataFrame())
    expiries = (trading.day, next_session(trading.day))
    cat.add_day(SYM, trading.day, trading.bars(), bs_quotes(trading, expiries))
    return cat


class Recorder(EmaCloudScalp):
    """EmaCloudScalp that logs what the pipeline returned for each signal, and every fill."""

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: list[tuple[Signal, OrderIntent | Rejection]] = []
        self.fills: list[tuple[str, str, int, float]] = []  # (ET time, side, size, price)

    def submit_signal(self, signal: Signal) -> Any:
        result = super().submit_signal(signal)
        self.outcomes.append((signal, result))
        return result

    def notify_order(self, order: Any) -> None:
        super().notify_order(order)
        if order.status in (order.Partial, order.Completed):
            for bit in order.executed.iterpending():
                when = et(bt.num2date(bit.dt).replace(tzinfo=UTC))
                self.fills.append((when, "buy" if order.isbuy() else "sell", int(abs(bit.size)), bit.price))

    @property
    def intents(self) -> list[OrderIntent]:
        return [r for _, r in self.outcomes if isinstance(r, OrderIntent)]


def run(cat: MemoryCatalog, day: date, *, strategy: type = Recorder, **params: Any) -> Recorder:
    cer = build_cerebro(strategy, cat, [SYM], fromdate=day, todate=day, cash=CASH, warmup_days=2, **params)
    strat: Recorder = cer.run()[0]
    assert not strat.scalps, "every scalp is closed by the end of the session"
    assert cer.broker.getvalue() == pytest.approx(CASH + sum(c.pnl for c in strat.closed_scalps))
    return strat


def pop_scenario(day: date, at: str, trend: float = 0.01, **pop: Any) -> tuple[list[Session], Session]:
    warm = warmup_sessions(day, trend)
    s = trading_session(day, warm, slope=trend)
    s.pop(at, **pop)
    return warm, s


def only(strat: Recorder) -> Any:
    assert len(strat.closed_scalps) == 1, [c.exit_reason for c in strat.closed_scalps]
    return strat.closed_scalps[0]


DAY = date(2024, 10, 16)  # a Wednesday: SPY has a same-day expiry every session


# ----------------------------------------------------------------------------- signal and macro


def test_bullish_flip_with_volume_and_macro_agreement_buys_a_0dte_call_half_first():
    warm, s = pop_scenario(DAY, "10:30")
    strat = run(catalog_of(warm, s), DAY)
    ((signal, intent),) = strat.outcomes
    assert et(signal.ts) == "10:30" and signal.direction is Direction.BULLISH
    assert signal.macro_aligned and signal.trigger == "cloud_flip"
    # macro 30 + volume 3x 25 + separation 20 + extension 0 (far above the cloud) + time of day 10
    assert signal.conviction == 85
    assert isinstance(intent, OrderIntent) and intent.total_quantity == _full_size(intent.limit_price)
    assert intent.option_type == "call" and intent.dte == 0 and intent.expiry == DAY
    assert 0.30 <= intent.selection.delta <= 0.50
    assert intent.quantity == math.ceil(intent.total_quantity / 2)  # half on the signal
    assert strat.fills[0] == ("10:31", "buy", intent.quantity, intent.limit_price)
    assert strat.signal_counts["signals"] == 1
    assert strat.rejections["volume_not_confirmed"] == 1  # the dip's bearish flip had plain volume


def test_bearish_flip_with_macro_agreement_buys_a_put():
    warm, s = pop_scenario(DAY, "10:30", trend=-0.01, size=-0.6, dip=0.01)
    strat = run(catalog_of(warm, s), DAY)
    ((signal, intent),) = strat.outcomes
    assert signal.direction is Direction.BEARISH and signal.macro_aligned
    assert isinstance(intent, OrderIntent) and intent.option_type == "put"
    assert -0.50 <= intent.selection.delta <= -0.30
    assert only(strat).direction == "long_put"


def test_bullish_flip_against_a_bearish_macro_cloud_is_refused():
    warm, s = pop_scenario(DAY, "10:30", trend=-0.01)
    strat = run(catalog_of(warm, s), DAY)
    ((signal, result),) = strat.outcomes
    assert signal.direction is Direction.BULLISH and not signal.macro_aligned
    assert isinstance(result, Rejection) and result.reason_code == "macro_misaligned"
    assert not strat.closed_scalps and not strat.fills


def test_without_require_macro_alignment_the_misaligned_flip_trades_at_half_size():
    warm, s = pop_scenario(DAY, "10:30", trend=-0.01)
    strat = run(catalog_of(warm, s), DAY, require_macro_alignment=False)
    ((signal, intent),) = strat.outcomes
    assert isinstance(intent, OrderIntent)
    assert 50 <= signal.conviction < 75  # no macro points (30 of 100)
    assert intent.total_quantity == _full_size(intent.limit_price) // 2
    assert only(strat).conviction == signal.conviction


@pytest.mark.parametrize(("volume", "signals"), [(1500.0, 0), (1501.0, 1)])
def test_trigger_volume_must_exceed_one_and_a_half_times_the_20_bar_mean(volume, signals):
    warm, s = pop_scenario(DAY, "10:30", volume=volume)  # the 20 bars before hold 1000 each
    strat = run(catalog_of(warm, s), DAY)
    assert strat.signal_counts["signals"] == signals
    assert len(strat.closed_scalps) == signals
    assert strat.rejections["volume_not_confirmed"] == 2 - signals  # + the dip's flip


def test_volume_mult_param_reaches_the_rule():
    warm, s = pop_scenario(DAY, "10:30", volume=1501.0)
    strat = run(catalog_of(warm, s), DAY, volume_mult=2.0)
    assert strat.signal_counts["signals"] == 0


def test_without_volume_data_the_flip_trades_with_the_volume_rule_skipped():
    """NaN volume (an underlying from put-call parity): the rule is skipped, conviction scores 0.5 for it."""
    warm, s = pop_scenario(DAY, "10:30")
    for session in (*warm, s):
        session.volumes[:] = np.nan
    strat = run(catalog_of(warm, s), DAY)
    assert "volume_not_confirmed" not in strat.rejections
    (dip, dip_result), (signal, intent) = strat.outcomes  # the dip's bearish flip is no longer refused
    assert dip.direction is Direction.BEARISH and isinstance(dip_result, Rejection)  # against the macro
    assert et(signal.ts) == "10:30" and signal.direction is Direction.BULLISH
    assert signal.metadata["volume_confirmed"] is None and signal.metadata["volume_ratio"] is None
    assert signal.conviction == 73  # macro 30 + volume 0.5 * 25 + separation 20 + extension 0 + time 10
    assert isinstance(intent, OrderIntent) and only(strat).conviction == 73
    assert sum(strat.volume_rules_skipped.values()) == strat.signal_counts["signals"] == 2


# ----------------------------------------------------------------------------- conviction and sizing


def _full_size(premium: float) -> int:
    """PRD-136: contracts = equity x 2 % / (premium x 100 x 50 % stop)."""
    return math.floor(CASH * 0.02 / (premium * 100 * 0.50) + 1e-9)


def forced_conviction(value: int) -> type[Recorder]:
    class Forced(Recorder):
        def conviction(self, inputs: Any) -> int:
            return value

    return Forced


@pytest.mark.parametrize(("conviction", "size"), [(49, None), (50, "half"), (74, "half"), (75, "full")])
def test_conviction_buckets_size_the_position(conviction, size):
    warm, s = pop_scenario(DAY, "10:30")
    strat = run(catalog_of(warm, s), DAY, strategy=forced_conviction(conviction))
    ((signal, result),) = strat.outcomes
    assert signal.conviction == conviction
    if size is None:
        assert isinstance(result, Rejection) and result.reason_code == "low_conviction"
        assert not strat.fills
        return
    assert isinstance(result, OrderIntent)
    full = _full_size(result.limit_price)
    assert result.total_quantity == (full if size == "full" else max(1, full // 2))
    assert result.quantity == math.ceil(result.total_quantity / 2)
    assert strat.fills[0][2] == result.quantity


# ----------------------------------------------------------------------------- position building


def test_second_half_is_added_when_the_first_candle_tests_the_cloud_and_bounces():
    warm, s = pop_scenario(DAY, "10:30")
    p = s.close_at("10:30")
    s.jump("10:32", 0.3).candle("10:32", low=p - 0.5)  # wick into the cloud, close above it, option up
    strat = run(catalog_of(warm, s), DAY)
    (intent,) = strat.intents
    buys = [f for f in strat.fills if f[1] == "buy"]
    assert [(t, q) for t, _, q, _ in buys] == [("10:31", intent.quantity), ("10:33", intent.add_quantity)]
    scalp = only(strat)
    assert scalp.metadata["added"] is True and scalp.contracts == intent.total_quantity
    assert strat.signal_counts["add_bounces"] == 1


def test_no_add_when_the_first_half_is_losing_even_on_a_bounce():
    warm, s = pop_scenario(DAY, "10:30")
    p = s.close_at("10:30")
    s.jump("10:32", -0.05).candle("10:32", low=p - 0.5)  # bounce candle, but the bid is below entry
    strat = run(catalog_of(warm, s), DAY)
    (intent,) = strat.intents
    assert strat.signal_counts["add_bounces"] == 1
    assert strat.rejections["no_average_up"] == 1
    scalp = only(strat)
    assert scalp.contracts == intent.quantity and scalp.metadata["added"] is False


def test_no_add_when_the_first_candle_does_not_test_the_cloud():
    warm, s = pop_scenario(DAY, "10:30")
    s.jump("10:32", 0.3).candle("10:32", low=s.close_at("10:30") + 0.01)  # stays above the cloud
    strat = run(catalog_of(warm, s), DAY)
    (intent,) = strat.intents
    assert strat.signal_counts["add_tests"] == 1 and strat.signal_counts["add_bounces"] == 0
    assert only(strat).contracts == intent.quantity


# ----------------------------------------------------------------------------- exits


def test_take_profit_at_25_percent_of_the_premium_on_the_bid():
    warm, s = pop_scenario(DAY, "10:30")
    s.jump("10:32", 1.0)
    scalp = only(run(catalog_of(warm, s), DAY))
    assert scalp.exit_reason == ExitReason.TAKE_PROFIT.value
    assert et(scalp.exit_time) == "10:33"  # decided on the 10:32 bid, sold at the 10:33 bid
    assert scalp.exit_premium >= 1.25 * scalp.entry_premium - 0.05


def test_stop_loss_at_50_percent_wins_over_the_cloud_flip_on_the_same_bar():
    warm, s = pop_scenario(DAY, "10:30")
    s.jump("10:32", -2.5)  # the call loses > 50 % and the fast cloud turns bearish
    strat = run(catalog_of(warm, s), DAY)
    scalp = only(strat)
    assert scalp.exit_reason == ExitReason.STOP_LOSS.value and et(scalp.exit_time) == "10:33"
    assert scalp.exit_premium < 0.5 * scalp.entry_premium


def _stretched_run(s: Session, start: str, count: int) -> None:
    """``count`` green candles of +0.10 from ``start``, opening on the prior close, no lower wick."""
    k0 = bar_index(s.day, start)
    stamps = session_stamps(s.day)
    s.slope_from(start, 0.10).slope_from(et(stamps[k0 + count]), 0.0)
    for k in range(k0, k0 + count):
        s.candle(et(stamps[k]), low=float(s.closes[k - 1]))


def test_momentum_exhaustion_after_three_stretched_candles():
    warm, s = pop_scenario(DAY, "10:30")
    _stretched_run(s, "10:32", 3)
    strat = run(catalog_of(warm, s), DAY)
    scalp = only(strat)
    assert scalp.exit_reason == ExitReason.MOMENTUM_EXHAUSTION.value
    assert et(scalp.exit_time) == "10:35"  # third candle closes 10:34; sold at the next bid
    assert scalp.metadata["added"] is False  # the first candle did not test the cloud


def test_two_stretched_candles_are_not_exhaustion():
    warm, s = pop_scenario(DAY, "10:30")
    _stretched_run(s, "10:32", 2)
    scalp = only(run(catalog_of(warm, s), DAY))
    assert scalp.exit_reason != ExitReason.MOMENTUM_EXHAUSTION.value
    assert et(scalp.exit_time) > "10:40"


def test_exhaustion_candles_param_reaches_the_rule():
    warm, s = pop_scenario(DAY, "10:30")
    _stretched_run(s, "10:32", 3)
    scalp = only(run(catalog_of(warm, s), DAY, exhaustion_candles=4))
    assert scalp.exit_reason != ExitReason.MOMENTUM_EXHAUSTION.value


def test_cloud_flip_against_the_call_exits():
    warm, s = pop_scenario(DAY, "10:30")
    s.slope_from("10:32", -0.03)
    scalp = only(run(catalog_of(warm, s), DAY))
    assert scalp.exit_reason == ExitReason.CLOUD_FLIP.value
    assert "10:32" < et(scalp.exit_time) < "11:00"
    assert scalp.exit_premium > 0.5 * scalp.entry_premium  # not a stop


def test_zero_dte_cutoff_closes_at_14_00_et():
    warm, s = pop_scenario(DAY, "13:30")
    strat = run(catalog_of(warm, s), DAY)
    scalp = only(strat)
    assert scalp.dte == 0 and scalp.exit_reason == ExitReason.ZERO_DTE_CUTOFF.value
    assert et(scalp.exit_time) == "14:01"  # decided on the 14:00 bar


def test_after_the_0dte_cutoff_a_1dte_is_chosen_and_closed_at_the_15_30_cutoff():
    warm, s = pop_scenario(DAY, "14:30")
    strat = run(catalog_of(warm, s), DAY, **ONE_DTE_GATE)
    (intent,) = strat.intents
    assert intent.dte == 1 and intent.expiry == next_session(DAY)
    scalp = only(strat)
    assert scalp.exit_reason == ExitReason.ONE_DTE_CUTOFF.value and et(scalp.exit_time) == "15:31"


def test_prd_theta_gate_refuses_the_1dte_after_the_cutoff():
    """PRD-136's 5 %/day theta-burn limit is below any 1DTE's burn: the flip is refused."""
    warm, s = pop_scenario(DAY, "14:30")
    strat = run(catalog_of(warm, s), DAY)
    ((_, result),) = strat.outcomes
    assert isinstance(result, Rejection) and result.reason_code == "theta_burn"


def test_end_of_day_flattens_what_no_cutoff_closed():
    warm, s = pop_scenario(DAY, "14:30")
    scalp = only(run(catalog_of(warm, s), DAY, one_dte_cutoff="15:58", **ONE_DTE_GATE))
    assert scalp.exit_reason == ExitReason.END_OF_DAY.value
    assert et(scalp.exit_time) == "15:56"  # flatten 5 minutes before the close


def test_half_day_shifts_the_cutoffs_three_hours_earlier():
    day = date(2024, 11, 29)  # closes at 13:00 ET: 0DTE cutoff 11:00, 1DTE cutoff 12:30
    warm = warmup_sessions(day, 0.01)
    s = trading_session(day, warm)
    s.pop("10:05").pop("11:40")
    strat = run(catalog_of(warm, s), day, **ONE_DTE_GATE)
    first, second = strat.intents
    assert (first.dte, second.dte) == (0, 1) and second.expiry == date(2024, 12, 2)
    a, b = strat.closed_scalps
    assert (a.exit_reason, et(a.exit_time)) == (ExitReason.ZERO_DTE_CUTOFF.value, "11:01")
    assert (b.exit_reason, et(b.exit_time)) == (ExitReason.ONE_DTE_CUTOFF.value, "12:31")


def test_fomc_blackout_skips_the_flip_30_minutes_around_the_statement():
    day = date(2024, 11, 7)  # FOMC statement at 14:00 ET
    warm = warmup_sessions(day, 0.01)
    s = trading_session(day, warm)
    s.pop("12:30").pop("13:40")
    strat = run(catalog_of(warm, s), day)
    (sig_a, before), (sig_b, during) = strat.outcomes
    assert et(sig_a.ts) == "12:30" and isinstance(before, OrderIntent)
    assert et(sig_b.ts) == "13:40" and isinstance(during, Rejection)
    assert during.reason_code == "fomc_blackout"
    assert [c.exit_reason for c in strat.closed_scalps] == [ExitReason.CLOUD_FLIP.value]


# ----------------------------------------------------------------------------- params reach the run


def test_optstrategy_sweeps_a_signal_param():
    warm, s = pop_scenario(DAY, "10:30", volume=1501.0)
    cer = build_cerebro(
        Recorder, catalog_of(warm, s), [SYM], fromdate=DAY, todate=DAY, cash=CASH, warmup_days=2
    )
    cls, args, kwargs = cer.strats.pop()[0]
    cer.optstrategy(cls, *args, **{k: (v,) for k, v in kwargs.items()}, volume_mult=(1.5, 2.0))
    runs = cer.run(maxcpus=1, optreturn=False)
    assert {r[0].p.volume_mult: len(r[0].closed_scalps) for r in runs} == {1.5: 1, 2.0: 0}


def test_macro_cloud_reads_the_resample_the_engine_built():
    warm, s = pop_scenario(DAY, "10:30")
    cat = catalog_of(warm, s)
    cer = build_cerebro(Recorder, cat, [SYM], fromdate=DAY, warmup_days=2, macro_minutes=15)
    with pytest.raises(EngineError, match=r"macro_minutes=10"):
        cer.run()
    strat = run(cat, DAY, macro_minutes=15, macro_compression=15)
    macro_feed = strat.ind_by_symbol[SYM].macro.data
    assert macro_feed._compression == 15
    ((signal, intent),) = strat.outcomes
    assert signal.macro_aligned and isinstance(intent, OrderIntent)
