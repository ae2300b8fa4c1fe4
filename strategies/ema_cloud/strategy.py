"""``EmaCloudScalp``: PRD-136's Ripster EMA-cloud scalper of 0DTE/1DTE calls and puts.

Signal (every 1-minute clock bar, in ``on_signal_bar``)
    1. The fast cloud, EMA(``ema_fast``=5) / EMA(``ema_slow``=12) of 1-minute
       closes, flips: EMA(5) crosses strictly above EMA(12) (bullish -> long
       call) or strictly below it (bearish -> long put).
    2. The trigger candle's volume is strictly greater than ``volume_mult`` (1.5)
       x the mean volume of the ``volume_lookback`` (20) bars before it. A flip
       without it is no signal (counted as ``volume_not_confirmed``). With no
       volume data (NaN volume: an underlying from put-call parity) the rule is
       skipped, not failed: the flip goes on (``volume_confirmed`` None in the
       Signal's metadata, counted in ``volume_rules_skipped`` per (symbol,
       session) for the report) and the volume sub-score of the conviction is
       the neutral 0.5 (``signals.ema_cloud.UNKNOWN_VOLUME_SCORE``).
    3. The macro cloud, EMA(``macro_ema_fast``=34) / EMA(``macro_ema_slow``=50) of
       the ``macro_compression`` (10)-minute bars of the store's macro view of the
       clock (on a backtest a ``MacroFeed``, proven bar for bar equal to what
       ``cerebro.resampledata`` builds; ``app.cerebro`` adds it; the last
       COMPLETED macro bar is used, never the one in progress), agrees when the
       macro cloud points the same way, price is beyond it and the whole fast
       cloud is beyond it (``signals.ema_cloud.macro_alignment``). The Signal
       carries ``macro_aligned``; with ``require_macro_alignment`` the
       pipeline refuses a misaligned one (``macro_misaligned``).
    4. Conviction 0-100 (below); the pipeline refuses < ``min_conviction_to_scalp``.

Conviction (``signals.ema_cloud.conviction_score``), five sub-scores in [0, 1]
times their weight (params ``w_*``, default points sum to 100):

    ==================  ======  ==========================================================
    sub-score           weight  definition, on the trigger candle
    ==================  ======  ==========================================================
    macro alignment     30      1 when the 10-minute macro cloud agrees (rule 3), else 0
    volume              25      clamp((volume_ratio - 1) / 2, 0, 1): 1x the 20-bar mean
                                -> 0, 2x -> 0.5, 3x or more -> 1
    cloud separation    20      clamp((fast cloud top - bottom) / (0.25 x ATR14), 0, 1)
    extension           15      1 - clamp(d / ATR14, 0, 1), d = how far the close lies
                                outside the fast cloud: inside -> 1, one ATR away -> 0
    time of day         10      0.5 in the first or last 60 minutes of the session,
                                else 1
    ==================  ======  ==========================================================

    conviction = round-half-up of the weighted sum, clipped to 0-100.
    ATR14 is Wilder's average true range of the last 14 one-minute bars
    (``atr_period``); volume_ratio = trigger volume / mean of the 20 bars before it.

Pipeline (``ScalpStrategyBase.submit_signal`` -> ``OptionsScalper``): ticker in
``scalp_tickers``, conviction, macro alignment, ``max_concurrent_scalps``, then
the calendar (from ``scalp_start_time``, outside the FOMC blackout, 0DTE until
``zero_dte_cutoff`` then 1DTE until ``one_dte_cutoff``, both shifted on half
days), StrikeSelector, GreeksGate and ScalpSizer (>= ``full_conviction`` (75)
full size, 50-74 half). The entry is a limit at mid + ``limit_offset``.

Position building: half the sized contracts on the signal (``half_position_entry``).
The first candle that closes after the entry fill decides the second half: when
it tests the fast cloud and bounces (a call: its low reaches the cloud top and
it closes above it; a put: its high reaches the cloud bottom and it closes
below it) the rest is bought, unless the option's bid is below the average
entry price (``no_average_up``: never add to a loser, rejection ``no_average_up``).
Otherwise the scalp stays at half size.

Exits (``options_scalper.exits.evaluate_exits``, first match wins): expiry,
stop loss at ``max_loss_pct`` (50%) then profit target at ``profit_target_pct``
(25%) on the option's bid, end of day, 0DTE cutoff (14:00 ET) / 1DTE cutoff
(15:30 ET), cloud flip against the position, then momentum exhaustion
(``exhaustion_candles`` (3)+ candles in a row closing outside the fast cloud in
the position's favour, same colour, no wick touching it). Each closed scalp is
tagged with its ``ExitReason``.

Counts for reports: ``self.signal_counts`` (``flips``, ``signals``,
``add_tests``, ``add_bounces``) and the base's ``self.rejections`` by reason.
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import backtrader as bt
import numpy as np

from options_scalper.calendar import session_date, session_open_close
from options_scalper.model import Direction, Signal
from options_scalper.reasons import RejectReason
from options_scalper.signals.ema_cloud import (
    ConvictionInputs,
    conviction_score,
    detect_flip,
    first_candle_tests_cloud,
    macro_alignment,
    volume_confirmed,
)
from strategies.base import EngineError, OpenScalp, ScalpStrategyBase, SymbolBook, params_from_config
from strategies.ema_cloud.config import EmaCloudConfig
from strategies.indicators import ClockCloud, EmaCloudInd

__all__ = ["TRIGGER", "VOLUME_NOT_CONFIRMED", "EmaCloudScalp"]

TRIGGER = "cloud_flip"
VOLUME_NOT_CONFIRMED = RejectReason.VOLUME_NOT_CONFIRMED


@dataclass
class _Indicators:
    """The indicators one underlying needs (two fused indicators, see ``strategies.indicators``)."""

    cloud: Any  # ClockCloud on the 1-minute clock: fast cloud, volume SMA, ATR
    macro: Any  # EmaCloudInd on the resampled macro bars

    @property
    def volume_mean(self) -> Any:
        """SMA of volume; [-1] is the mean of the bars before the current one."""
        return self.cloud.volume_mean

    @property
    def atr(self) -> Any:
        return self.cloud.atr


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


class EmaCloudScalp(ScalpStrategyBase):
    """PRD-136 EMA-cloud scalper (rules, conviction and params in the module docstring)."""

    config_cls = EmaCloudConfig
    params: Any = params_from_config(EmaCloudConfig)

    def __init__(self) -> None:
        super().__init__()
        cfg = self.cfg
        self.weights = cfg.conviction_weights()
        self.signal_counts: Counter[str] = Counter()
        self.volume_rules_skipped: Counter[tuple[str, date]] = Counter()
        self._add_decided: set[str] = set()
        self.ind_by_symbol: dict[str, _Indicators] = {}
        for sym, book in self.books.items():
            clock = book.clock
            self.ind_by_symbol[sym] = _Indicators(
                cloud=ClockCloud(
                    clock,
                    fast_period=cfg.ema_fast,
                    slow_period=cfg.ema_slow,
                    volume_period=cfg.volume_lookback,
                    atr_period=cfg.atr_period,
                    keep=max(2, int(cfg.exhaustion_candles)),  # [-1] and exit_state's last candles
                ),
                macro=EmaCloudInd(
                    self._macro_feed(book),
                    fast_period=cfg.macro_ema_fast,
                    slow_period=cfg.macro_ema_slow,
                    keep=1,
                ),
            )

    @property
    def cfg(self) -> EmaCloudConfig:
        assert isinstance(self.config, EmaCloudConfig)
        return self.config

    def _macro_feed(self, book: SymbolBook) -> Any:
        """The clock's ``macro_compression``-minute view (``cerebro_for(..., macro_minutes=...)``)."""
        want = int(self.cfg.macro_compression)
        candidates = [book.macro]
        with contextlib.suppress(KeyError):
            candidates.append(self.getdatabyname(f"{book.symbol}_{want}m"))
        for feed in candidates:
            if (
                feed is not None
                and getattr(feed, "_timeframe", None) == bt.TimeFrame.Minutes
                and getattr(feed, "_compression", None) == want
            ):
                return feed
        have = "none" if book.macro is None else f"{getattr(book.macro, '_compression', '?')} minutes"
        raise EngineError(
            f"{book.symbol}: macro_compression={want} needs the clock resampled to {want}-minute bars "
            f"(have: {have}); build the Cerebro with app.cerebro.cerebro_for(..., macro_minutes={want})"
        )

    # ------------------------------------------------------------------ signal
    def on_signal_bar(self, symbol: str) -> Signal | None:
        """A Signal when the fast cloud flips on this bar with volume, else None."""
        ind = self.ind_by_symbol[symbol]
        cloud = ind.cloud
        if len(cloud) < 2:
            return None
        flip = detect_flip(cloud.fast[-1], cloud.slow[-1], cloud.fast[0], cloud.slow[0])
        if flip is None:
            return None
        self.signal_counts["flips"] += 1
        clock = self.books[symbol].clock
        volume, baseline = float(clock.volume[0]), float(ind.volume_mean[-1])
        cfg = self.cfg
        confirmed = volume_confirmed(volume, baseline, cfg.volume_mult)
        if confirmed is False:
            self.count_rejection(VOLUME_NOT_CONFIRMED)
            return None
        now = self.times.bar(clock)
        ratio = volume / baseline if confirmed else None  # None: volume unknown, rule skipped
        if confirmed is None:
            self.volume_rules_skipped[(symbol, session_date(now))] += 1
        price = float(clock.close[0])
        top, bottom = float(cloud.top[0]), float(cloud.bottom[0])
        macro_fast, macro_slow = float(ind.macro.fast[0]), float(ind.macro.slow[0])
        aligned = _finite(macro_fast, macro_slow) and macro_alignment(
            flip, price, top, bottom, macro_fast, macro_slow
        )
        open_utc, close_utc = session_open_close(now)
        atr = float(ind.atr[0])
        inputs = ConvictionInputs(
            macro_aligned=aligned,
            volume_ratio=ratio,
            price=price,
            cloud_top=top,
            cloud_bottom=bottom,
            atr=atr if math.isfinite(atr) else None,
            minutes_from_open=(now - open_utc).total_seconds() / 60.0,
            minutes_to_close=(close_utc - now).total_seconds() / 60.0,
            volume_known=confirmed is not None,
        )
        self.signal_counts["signals"] += 1
        return Signal(
            signal_id=f"ema_cloud-{symbol}-{now:%Y%m%dT%H%M}",
            ticker=symbol,
            ts=now,
            direction=flip,
            conviction=self.conviction(inputs),
            trigger=TRIGGER,
            macro_aligned=aligned,
            underlying_price=price,
            metadata={
                "volume_ratio": None if ratio is None else round(ratio, 4),
                "volume_confirmed": confirmed,
                "atr": atr,
                "macro_fast": macro_fast,
                "macro_slow": macro_slow,
            },
        )

    def conviction(self, inputs: ConvictionInputs) -> int:
        """Conviction 0-100 of a flip (``conviction_score`` with the ``w_*`` weights)."""
        return conviction_score(inputs, self.weights)

    # ------------------------------------------------------------------ position
    def exit_state(self, scalp: OpenScalp, now: datetime, bid: float) -> dict[str, Any]:
        """Candles and fast-cloud EMAs for the cloud-flip and exhaustion exits (oldest first)."""
        n = int(self.cfg.exhaustion_candles)
        clock = scalp.book.clock
        cloud = self.ind_by_symbol[scalp.book.symbol].cloud

        def last(line: Any) -> np.ndarray:
            return np.asarray(line.get(size=n), dtype=np.float64)

        return {
            "opens": last(clock.open),
            "highs": last(clock.high),
            "lows": last(clock.low),
            "closes": last(clock.close),
            "ema_fast": last(cloud.fast),
            "ema_slow": last(cloud.slow),
        }

    def check_exits(self, scalp: OpenScalp, now: datetime) -> Any:
        reason = super().check_exits(scalp, now)
        if reason is None:
            self._consider_add(scalp, now)
        return reason

    def _consider_add(self, scalp: OpenScalp, now: datetime) -> None:
        """Second tranche on the first candle after the entry fill, if it tests the cloud and bounces."""
        intent = scalp.intent
        key = str(intent.signal_id)
        if key in self._add_decided or scalp.added or scalp.entry_time is None:
            return
        if now <= scalp.entry_time:
            return  # the fill bar itself; the candle that decides is the next one
        self._add_decided.add(key)
        if not self.cfg.half_position_entry or int(getattr(intent, "add_quantity", 0)) <= 0:
            return
        clock = scalp.book.clock
        cloud = self.ind_by_symbol[scalp.book.symbol].cloud
        self.signal_counts["add_tests"] += 1
        if not first_candle_tests_cloud(
            Direction(intent.direction),
            float(clock.open[0]),
            float(clock.high[0]),
            float(clock.low[0]),
            float(clock.close[0]),
            float(cloud.top[0]),
            float(cloud.bottom[0]),
        ):
            return
        self.signal_counts["add_bounces"] += 1
        self.add_to_position(scalp)
