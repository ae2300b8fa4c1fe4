"""``MomentumBurstScalp``: seed 003's momentum scalper on the backtest engine.

Signals (``MomentumSignals``, one Backtrader indicator per underlying, a thin
adapter over ``options_scalper.signals.momentum.MomentumSignalEngine``), per
1-minute bar of the underlying, with real volume (see "Unknown volume" below):

* velocity: change of the close over ``momentum_window_bars`` closes (default 2:
  the last 1-minute change, 003's 30 s window on minute bars), direction
  up / down / flat (|change| < 0.05% is flat), significant when |change| >= 0.3%
  over >= 3 closes (003's rule); restarted each session;
* volume ratio: the bar's volume over the mean of the ``baseline_window_bars``
  bars before it (30); a spike at >= ``volume_spike_ratio`` (1.5);
* session VWAP of typical price with real volume and +/- ``vwap_band_std`` sigma
  bands (volume-weighted standard deviation), reset each US/Eastern session;
* support / resistance from swing lows / highs over ``sr_lookback_bars`` (60),
  merged within ``sr_touch_pct`` (0.3%), strength = touches, ``sr_max_levels``
  (5) strongest per side;
* triggers in 003's order, first wins: momentum_burst, vwap_bounce /
  vwap_rejection (velocity >= ``vwap_velocity_pct``, 0.1%), breakout through a
  level of strength >= ``sr_min_strength`` (2) with velocity >
  ``breakout_velocity_pct`` and volume ratio > ``breakout_volume_ratio`` (1.5).
  The confidences are documented in ``options_scalper.signals.momentum``.

Unknown volume: on a session whose underlying comes from put-call parity the
clock's volume is NaN on every bar. The volume rules are then skipped, not
faked: bursts fire on velocity alone, breakouts without the volume
confirmation, and VWAP triggers do not fire (no VWAP without volume). Such
triggers carry ``volume_confirmed = None`` in their metadata and are counted in
``volume_rules_skipped`` per (symbol, session), which the runner turns into a
report note.

Trading rules, all from ``MomentumConfig`` (every field is a param): contract
selection, sizing (``scalp_position_size_pct`` of equity, ask <=
``max_contract_price``), daily limit and concurrency through ``OptionsScalper``;
exits (``take_profit_pct``, ``stop_loss_pct``, ``max_hold_minutes``,
``session_exit_time``) through the engine's exit monitor. This class adds the
two timing rules of 003's signal generator, per underlying as in 003:

* ``min_signal_interval_bars``: a trigger less than this many minutes after the
  last signal that became an order is refused (``signal_interval``); 003's
  60 s is 1 bar, which never refuses the next bar (60 s is not < 60 s);
* ``cooldown_after_loss_minutes``: after a scalp closes with P&L <= 0, triggers
  before its exit fill time + this many minutes are refused (``loss_cooldown``).

``profile`` ("" = the params as given; ``conservative`` / ``moderate`` /
``aggressive``) fills in 003 table 5.2's values for the params not passed
explicitly (see ``resolve_profile``); ``put_call_confirm`` is an opt-in filter on
the put/call volume ratio (see ``put_call_ratio``). Counters for reports:
``triggers`` (every trigger in the trading range), ``entries_by_trigger``
(those that became orders), ``volume_rules_skipped`` (triggers decided
without volume, per (symbol, session)) and the base's ``rejections``.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

import backtrader as bt
import numpy as np

from options_scalper.calendar import session_date
from options_scalper.config import PROFILES, ConfigError, MomentumConfig
from options_scalper.model import ChainSnapshot, Direction, Rejection, Signal
from options_scalper.reasons import RejectReason
from options_scalper.signals.momentum import (
    MomentumSignalEngine,
    MomentumSignalParams,
    MomentumTrigger,
    TriggerKind,
)
from options_scalper.signals.velocity import VelocityDirection
from strategies.base import ScalpStrategyBase, params_from_config
from strategies.indicators import FusedIndicator

__all__ = [
    "TRIGGER_CODES",
    "MomentumBurstScalp",
    "MomentumSignals",
    "put_call_ratio",
    "resolve_profile",
]

NAN = float("nan")

# Values of the ``trigger`` line (0 = none).
TRIGGER_CODES: Mapping[TriggerKind, int] = {
    TriggerKind.MOMENTUM_BURST: 1,
    TriggerKind.VWAP_BOUNCE: 2,
    TriggerKind.VWAP_REJECTION: 3,
    TriggerKind.BREAKOUT: 4,
}
_DIRECTION_SIGN = {VelocityDirection.UP: 1.0, VelocityDirection.DOWN: -1.0, VelocityDirection.FLAT: 0.0}

# Rejection codes of the rules this strategy owns (the pipeline's pass through).
SIGNAL_INTERVAL = RejectReason.SIGNAL_INTERVAL
LOSS_COOLDOWN = RejectReason.LOSS_COOLDOWN
PUT_CALL_DISAGREES = RejectReason.PUT_CALL_DISAGREES


class MomentumSignals(FusedIndicator):
    """Seed 003's momentum signals of one underlying, bar by bar (``MomentumSignalEngine``).

    Lines (NaN while a value is not known yet): ``velocity`` (fraction over the
    window), ``velocity_dir`` (+1 up, -1 down, 0 flat), ``significant`` (1/0),
    ``volume_ratio``, ``volume_spike`` (1 when ratio >= ``volume_spike_ratio``),
    ``vwap``, ``vwap_upper``, ``vwap_lower`` (dollars), ``support`` /
    ``resistance`` (strongest level, dollars) with ``support_strength`` /
    ``resistance_strength`` (touches, 0 without a level), ``trigger``
    (``TRIGGER_CODES``, 0 = none), ``direction`` (+1 bullish, -1 bearish, 0) and
    ``confidence`` (0-100). ``last_trigger`` holds this bar's trigger with its
    metadata. Params: the fields of ``MomentumSignalParams`` (windows in bars) and
    ``keep`` (bars each line keeps once Cerebro runs with ``exactbars``; the strategy reads
    ``last_trigger`` only; ``FusedIndicator``).
    """

    lines = (
        "velocity",
        "velocity_dir",
        "significant",
        "volume_ratio",
        "volume_spike",
        "vwap",
        "vwap_upper",
        "vwap_lower",
        "support",
        "support_strength",
        "resistance",
        "resistance_strength",
        "trigger",
        "direction",
        "confidence",
    )
    params = tuple((f.name, f.default) for f in dataclasses.fields(MomentumSignalParams))
    plotinfo: ClassVar[dict[str, Any]] = {"subplot": False}
    plotlines: ClassVar[dict[str, Any]] = {
        name: {"_plotskip": True}
        for name in (
            "velocity",
            "velocity_dir",
            "significant",
            "volume_ratio",
            "volume_spike",
            "support_strength",
            "resistance_strength",
            "trigger",
            "direction",
            "confidence",
        )
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        values = {f.name: getattr(self.p, f.name) for f in dataclasses.fields(MomentumSignalParams)}
        self.engine = MomentumSignalEngine(MomentumSignalParams(**values))
        self.last_trigger: MomentumTrigger | None = None
        super().__init__()

    def step(self) -> None:
        d = self.data
        eng = self.engine
        trig = eng.update(
            bt.num2date(d.datetime[0]),
            float(d.open[0]),
            float(d.high[0]),
            float(d.low[0]),
            float(d.close[0]),
            float(d.volume[0]),
        )
        self.last_trigger = trig
        ln: Any = self.l
        vel = eng.velocity
        ln.velocity[0] = NAN if vel is None else vel.change_pct
        ln.velocity_dir[0] = NAN if vel is None else _DIRECTION_SIGN[vel.direction]
        ln.significant[0] = NAN if vel is None else float(vel.is_significant)
        ratio = eng.volume_ratio
        ln.volume_ratio[0] = NAN if ratio is None else ratio
        ln.volume_spike[0] = NAN if ratio is None else float(ratio >= eng.params.volume_spike_ratio)
        vw = eng.vwap
        bands = (NAN, NAN, NAN) if vw is None else (vw.vwap, vw.upper, vw.lower)
        ln.vwap[0], ln.vwap_upper[0], ln.vwap_lower[0] = bands
        sup, res = eng.levels.support, eng.levels.resistance
        ln.support[0], ln.support_strength[0] = (sup[0].price, sup[0].strength) if sup else (NAN, 0.0)
        ln.resistance[0], ln.resistance_strength[0] = (res[0].price, res[0].strength) if res else (NAN, 0.0)
        if trig is None:
            ln.trigger[0] = ln.direction[0] = ln.confidence[0] = 0.0
        else:
            ln.trigger[0] = TRIGGER_CODES[trig.trigger]
            ln.direction[0] = 1.0 if trig.direction is Direction.BULLISH else -1.0
            ln.confidence[0] = trig.confidence


def resolve_profile(kwargs: Mapping[str, Any], default_profile: str = "") -> dict[str, Any]:
    """Return ``kwargs`` with the profile's 003 table 5.2 values added where not given.

    The profile is ``kwargs["profile"]`` (else ``default_profile``); "" adds
    nothing. An unknown name raises ``ConfigError`` naming the valid profiles.
    """
    out = dict(kwargs)
    name = str(out.get("profile", default_profile) or "").strip().lower()
    if not name:
        return out
    if name not in PROFILES:
        MomentumConfig.from_profile(name)  # raises ConfigError with the valid names
    for field_name, value in PROFILES[name].items():
        out.setdefault(field_name, value)
    return out


def put_call_ratio(snapshot: ChainSnapshot) -> float | None:
    """Put volume over call volume of the snapshot's contracts; None when volume is unknown.

    CBBO carries no volume: the only option volume is the ``statistics`` schema's
    cleared volume, published before the open for the previous session, so this
    ratio is one number per session (no look-ahead). None without statistics,
    without known volumes, or with zero call volume.
    """
    if not snapshot.volume_known or not len(snapshot):
        return None
    vol = snapshot.volume
    known = np.isfinite(vol)
    calls = float(vol[known & snapshot.is_call].sum())
    puts = float(vol[known & ~snapshot.is_call].sum())
    return puts / calls if calls > 0 else None


class MomentumBurstScalp(ScalpStrategyBase):
    """Seed 003's momentum scalper: velocity, volume spikes, session VWAP, S/R breakouts (module doc)."""

    config_cls = MomentumConfig
    config: MomentumConfig  # built by the base from the params (never None here)
    params: Any = (
        *params_from_config(MomentumConfig),
        ("profile", ""),  # "" | conservative | moderate | aggressive (003 table 5.2)
        ("put_call_confirm", False),  # bullish needs put/call < 1, bearish > 1 (when known)
    )

    @classmethod
    def doprenew(cls, *args: Any, **kwargs: Any) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
        """Apply ``profile`` before the params are built (Backtrader's pre-construction hook).

        ``backtrader.metabase.MetaBase.__call__`` calls ``cls.doprenew`` with the
        keyword arguments the user passed (``addstrategy`` / ``optstrategy``), the
        only point where an explicit param can be told from a default, so that
        explicit params beat the profile and ``self.p`` shows the values in force.
        """
        default = dict(cls.params._getitems()).get("profile", "")
        return cls, args, resolve_profile(kwargs, default)

    def __init__(self) -> None:
        super().__init__()
        self.signal_params = MomentumSignalParams.from_config(self.config)
        values = dataclasses.asdict(self.signal_params)
        self.momentum: dict[str, MomentumSignals] = {
            sym: MomentumSignals(book.clock, **values) for sym, book in self.books.items()
        }
        self.put_call_confirm = _as_bool("put_call_confirm", self.p.put_call_confirm)
        self.triggers: Counter[str] = Counter()
        self.volume_rules_skipped: Counter[tuple[str, date]] = Counter()
        self.entries_by_trigger: Counter[str] = Counter()
        self.put_call_ratios: dict[tuple[str, date], float | None] = {}
        self._last_signal_at: dict[str, datetime] = {}
        self._cooldown_until: dict[str, datetime] = {}
        self._closed_seen = 0

    # ------------------------------------------------------------------ signals
    def on_signal_bar(self, symbol: str) -> Signal | None:
        trig = self.momentum[symbol].last_trigger
        if trig is None:
            return None
        self.triggers[trig.trigger.value] += 1
        book = self.books[symbol]
        now = self.times.bar(book.clock)
        if trig.metadata.get("volume_known") is False:
            self.volume_rules_skipped[(symbol, session_date(now))] += 1
        refused = self._timing_refusal(symbol, now)
        if refused is not None:
            self.count_rejection(refused)
            return None
        pcr = self._put_call_ratio(symbol, now)
        if self.put_call_confirm and pcr is not None and _put_call_disagrees(trig.direction, pcr):
            self.count_rejection(PUT_CALL_DISAGREES)
            return None
        meta = {k: v for k, v in trig.metadata.items() if k != "ts"}
        meta["put_call_ratio"] = pcr
        return Signal(
            signal_id=f"mb-{symbol}-{now:%Y%m%d%H%M}-{trig.trigger.value}",
            ticker=symbol,
            ts=now,
            direction=trig.direction,
            conviction=int(trig.confidence),
            trigger=trig.trigger.value,
            underlying_price=float(book.clock.close[0]),
            metadata=meta,
        )

    def _timing_refusal(self, symbol: str, now: datetime) -> RejectReason | None:
        until = self._cooldown_until.get(symbol)
        if until is not None and now < until:
            return LOSS_COOLDOWN
        last = self._last_signal_at.get(symbol)
        interval = timedelta(minutes=self.config.min_signal_interval_bars)
        if last is not None and now - last < interval:
            return SIGNAL_INTERVAL
        return None

    def _put_call_ratio(self, symbol: str, now: datetime) -> float | None:
        """The session's put/call volume ratio (cached per session once a minute has quotes)."""
        key = (symbol, session_date(now))
        if key not in self.put_call_ratios:
            book = self.books[symbol]
            snapshot = book.chain.snapshot(now, float(book.clock.close[0]))
            if not len(snapshot):
                return None
            self.put_call_ratios[key] = put_call_ratio(snapshot)
        return self.put_call_ratios[key]

    def submit_signal(self, signal: Signal) -> Any:
        result = super().submit_signal(signal)
        if result is not None and not isinstance(result, Rejection):
            self._last_signal_at[signal.ticker] = signal.ts
            self.entries_by_trigger[signal.trigger] += 1
        return result

    # ------------------------------------------------------------------ notifications
    def notify_trade(self, trade: bt.Trade) -> None:
        super().notify_trade(trade)
        cooldown = timedelta(minutes=self.config.cooldown_after_loss_minutes)
        for scalp in self.closed_scalps[self._closed_seen :]:
            if not scalp.is_win and cooldown:
                until = scalp.exit_time + cooldown
                current = self._cooldown_until.get(scalp.ticker)
                self._cooldown_until[scalp.ticker] = until if current is None else max(current, until)
        self._closed_seen = len(self.closed_scalps)


def _as_bool(name: str, value: Any) -> bool:
    """A bool param that may arrive as a CLI string ("true", "0", ...)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "on"}:
        return True
    if text in {"0", "false", "no", "n", "off", ""}:
        return False
    raise ConfigError(f"{name}: expected true/false, got {value!r}")


def _put_call_disagrees(direction: Direction, ratio: float) -> bool:
    if math.isnan(ratio):
        return False
    return ratio >= 1.0 if direction is Direction.BULLISH else ratio <= 1.0
