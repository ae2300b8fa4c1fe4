"""What to generate for one underlying: ``SymbolSpec``, ``ExpiryRule`` and the presets.

Units: prices in dollars, percentages as fractions (0.06 = 6%), volatilities
annualised (0.20 = 20%), horizons in calendar days, rates per minute where the
name says so.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from options_scalper.model import ScalperError


class SyntheticDataError(ScalperError):
    """The synthetic-data generator was asked for something it cannot make."""


def _require(ok: bool, owner: str, name: str, value: object, rule: str) -> None:
    if not ok:
        raise SyntheticDataError(f"{owner}.{name}={value!r}: {rule}")


@dataclass(frozen=True)
class ExpiryRule:
    """Which expiries are listed on a session.

    ``daily_weekdays``: weekdays (Mon=0) with short-dated expiries, listed on the
    session itself and the next ``daily_horizon_sessions`` sessions (every weekday =
    dailies, ``(0, 2, 4)`` = Mon/Wed/Fri; 1 = 0DTE and 1DTE).
    Friday weeklies are listed up to ``weekly_horizon_days`` ahead, third-Friday
    monthlies up to ``monthly_horizon_days``, and ``leaps_years`` January monthlies
    of the following years. An expiry on a holiday rolls to the previous session.
    """

    daily_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    daily_horizon_sessions: int = 4
    weekly_horizon_days: int = 42
    monthly_horizon_days: int = 42
    leaps_years: int = 0

    def __post_init__(self) -> None:
        own = "ExpiryRule"
        _require(
            all(0 <= d <= 4 for d in self.daily_weekdays),
            own,
            "daily_weekdays",
            self.daily_weekdays,
            "use weekday numbers 0 (Mon) to 4 (Fri)",
        )
        for name in ("daily_horizon_sessions", "weekly_horizon_days", "monthly_horizon_days", "leaps_years"):
            value = getattr(self, name)
            _require(isinstance(value, int) and value >= 0, own, name, value, "must be an integer >= 0")
        _require(
            max(self.weekly_horizon_days, self.monthly_horizon_days) >= 35,
            own,
            "weekly_horizon_days",
            self.weekly_horizon_days,
            "weeklies or monthlies must reach >= 35 days so a 30-day ATM IV exists",
        )


@dataclass(frozen=True)
class SymbolSpec:
    """One underlying and its option chain.

    Strikes: expiries at most ``near_dte_days`` away list strikes within
    ``near_band_pct`` of the reference spot, every ``strike_step`` inside
    ``inner_band_pct`` and every ``wing_step`` beyond; later expiries use
    ``far_strikes_each_side`` strikes at ``strike_step`` around the money when set,
    otherwise the same scheme out to ``far_band_pct``.
    """

    symbol: str
    spot: float
    annual_vol: float
    strike_step: float
    expiry_rule: ExpiryRule = field(default_factory=ExpiryRule)
    wing_step: float | None = None
    inner_band_pct: float = 0.03
    near_band_pct: float = 0.06
    near_dte_days: int = 5
    far_band_pct: float = 0.10
    far_strikes_each_side: int | None = 2
    penny_all: bool = False  # True: every price in pennies (SPY, QQQ); else nickels at/above $3
    rate: float = 0.045
    dividend_yield: float = 0.0
    skew: float = 1.0  # put-side IV lift per standardised moneyness unit (x 0.08)
    smile: float = 1.0  # IV curvature (x 0.01 per unit squared)
    term_premium: float = 0.10  # extra short-dated ATM IV, decaying over ~10 days
    spread_frac: float = 0.012  # spread beyond one tick, as a fraction of premium
    base_size: int = 200  # displayed contracts at the money
    quote_update_rate: float = 0.5  # chance per minute of a size-only update at the money
    trade_rate: float = 0.4  # chance per minute of a print at the money
    dirty_rate: float = 0.001  # fraction of printed rows made dirty on purpose
    bar_volume: float = 150_000.0  # mean shares per 1-minute bar
    volume_noise_sd: float = 0.4  # sd of the lognormal minute-volume noise (log units)
    volume_move_coupling: float = 0.6  # volume x (1 + c x (|return| / sigma) ** power), 0 = independent
    volume_move_power: float = 1.0
    volume_regime_coupling: float = 0.5  # volume x (volatility regime) ** c
    skip_minute_prob: float = 0.001  # chance a bar is missing (no trades that minute)
    bursts_per_day: tuple[int, int] = (1, 3)
    burst_move_pct: tuple[float, float] = (0.006, 0.011)
    burst_outcome_p: tuple[float, float, float] = (0.35, 0.35, 0.30)  # aftermath: continue, stall, reverse
    burst_aftermath_pct: tuple[float, float] = (0.15, 0.5)  # aftermath move, fraction of the burst's move
    burst_fade_pct: tuple[float, float] = (0.0, 0.4)  # fraction of the net move that fades afterwards
    open_interest_base: float = 5_000.0
    has_statistics: bool = False  # write a statistics file (open interest, volume) by default

    def __post_init__(self) -> None:
        own = f"SymbolSpec({self.symbol!r})"
        _require(
            bool(self.symbol) and self.symbol.isalnum() and self.symbol.isupper() and len(self.symbol) <= 6,
            own,
            "symbol",
            self.symbol,
            "use 1-6 upper-case letters, e.g. 'TSLA'",
        )
        for name in ("spot", "annual_vol", "strike_step", "base_size", "bar_volume"):
            value = getattr(self, name)
            _require(math.isfinite(value) and value > 0, own, name, value, "must be > 0")
        if self.wing_step is not None:
            ratio = self.wing_step / self.strike_step
            _require(
                ratio >= 1 and abs(ratio - round(ratio)) < 1e-9,
                own,
                "wing_step",
                self.wing_step,
                "must be a whole multiple of strike_step",
            )
        for name in ("inner_band_pct", "near_band_pct", "far_band_pct"):
            value = getattr(self, name)
            _require(0 <= value < 1, own, name, value, "must be a fraction in [0, 1)")
        _require(self.near_dte_days >= 0, own, "near_dte_days", self.near_dte_days, "must be >= 0")
        _require(
            self.far_strikes_each_side is None or self.far_strikes_each_side >= 0,
            own,
            "far_strikes_each_side",
            self.far_strikes_each_side,
            "must be >= 0 or None",
        )
        for name in ("quote_update_rate", "trade_rate", "dirty_rate", "skip_minute_prob"):
            value = getattr(self, name)
            _require(0 <= value <= 1, own, name, value, "must be a probability in [0, 1]")
        lo, hi = self.bursts_per_day
        _require(
            0 <= lo <= hi, own, "bursts_per_day", self.bursts_per_day, "must be (low, high), 0 <= low <= high"
        )
        lo_f, hi_f = self.burst_move_pct
        _require(
            0 < lo_f <= hi_f < 0.2,
            own,
            "burst_move_pct",
            self.burst_move_pct,
            "must be 0 < low <= high < 0.2",
        )
        _require(self.spread_frac >= 0, own, "spread_frac", self.spread_frac, "must be >= 0")
        for name in (
            "volume_noise_sd",
            "volume_move_coupling",
            "volume_move_power",
            "volume_regime_coupling",
        ):
            value = getattr(self, name)
            _require(math.isfinite(value) and 0 <= value <= 5, own, name, value, "must be in [0, 5]")
        p = self.burst_outcome_p
        _require(
            len(p) == 3 and all(math.isfinite(x) and x >= 0 for x in p) and abs(sum(p) - 1.0) < 1e-9,
            own,
            "burst_outcome_p",
            p,
            "must be 3 probabilities (continue, stall, reverse) >= 0 summing to 1",
        )
        for name in ("burst_aftermath_pct", "burst_fade_pct"):
            lo_s, hi_s = getattr(self, name)
            _require(
                0 <= lo_s <= hi_s <= 1,
                own,
                name,
                getattr(self, name),
                "must be (low, high) fractions of the burst's move, 0 <= low <= high <= 1",
            )

    @property
    def wing(self) -> float:
        return self.strike_step if self.wing_step is None else self.wing_step


SPY_SPEC = SymbolSpec(
    symbol="SPY",
    spot=580.0,
    annual_vol=0.14,
    strike_step=1.0,
    wing_step=10.0,
    inner_band_pct=0.009,
    near_band_pct=0.06,
    far_strikes_each_side=1,
    expiry_rule=ExpiryRule(
        daily_weekdays=(0, 1, 2, 3, 4),
        daily_horizon_sessions=1,
        weekly_horizon_days=14,
        monthly_horizon_days=60,
    ),
    penny_all=True,
    dividend_yield=0.013,
    skew=1.3,
    smile=0.8,
    spread_frac=0.008,
    base_size=400,
    quote_update_rate=0.1,
    trade_rate=0.5,
    bar_volume=90_000.0,
    skip_minute_prob=0.0,
    burst_move_pct=(0.006, 0.01),
    open_interest_base=20_000.0,
    has_statistics=True,
)
"""SPY at sample scale: dailies 0-1 days out, Friday weeklies to 6 weeks, statistics on."""

QQQ_SPEC = SymbolSpec(
    symbol="QQQ",
    spot=490.0,
    annual_vol=0.18,
    strike_step=1.0,
    wing_step=5.0,
    inner_band_pct=0.012,
    near_band_pct=0.06,
    far_strikes_each_side=2,
    expiry_rule=ExpiryRule(daily_weekdays=(0, 1, 2, 3, 4), daily_horizon_sessions=3, weekly_horizon_days=42),
    penny_all=True,
    dividend_yield=0.006,
    skew=1.2,
    smile=0.8,
    spread_frac=0.01,
    base_size=250,
    quote_update_rate=0.25,
    trade_rate=0.4,
    bar_volume=60_000.0,
    skip_minute_prob=0.0,
    burst_move_pct=(0.006, 0.01),
    open_interest_base=10_000.0,
    has_statistics=True,
)
"""QQQ at sample scale (not in the default sample)."""

TSLA_SPEC = SymbolSpec(
    symbol="TSLA",
    spot=262.0,
    annual_vol=0.55,
    strike_step=2.5,
    wing_step=10.0,
    inner_band_pct=0.025,
    near_band_pct=0.06,
    far_strikes_each_side=1,
    expiry_rule=ExpiryRule(
        daily_weekdays=(0, 2, 4), daily_horizon_sessions=2, weekly_horizon_days=14, monthly_horizon_days=60
    ),
    penny_all=False,
    skew=0.5,
    smile=1.2,
    term_premium=0.08,
    spread_frac=0.015,
    base_size=60,
    quote_update_rate=0.1,
    trade_rate=0.4,
    bar_volume=110_000.0,
    skip_minute_prob=0.002,
    burst_move_pct=(0.01, 0.02),
    open_interest_base=4_000.0,
    has_statistics=False,
)
"""TSLA at sample scale: Mon/Wed/Fri short-dated expiries, no statistics (OI unknown)."""

TSLA_FULL_SPEC = dataclasses.replace(
    TSLA_SPEC,
    wing_step=5.0,
    inner_band_pct=0.90,
    near_band_pct=0.97,
    near_dte_days=14,
    far_band_pct=0.97,
    far_strikes_each_side=None,
    expiry_rule=ExpiryRule(
        daily_weekdays=(0, 2, 4),
        daily_horizon_sessions=9,
        weekly_horizon_days=84,
        monthly_horizon_days=370,
        leaps_years=3,
    ),
    quote_update_rate=1.0,
)
"""TSLA at the scale of a real OPRA day (~26 expiries x ~170 strikes x 2 rights, ~4M rows): the benchmark."""

SPY_FULL_SPEC = dataclasses.replace(
    SPY_SPEC,
    wing_step=5.0,
    inner_band_pct=0.08,
    near_band_pct=0.20,
    near_dte_days=14,
    far_band_pct=0.25,
    far_strikes_each_side=None,
    expiry_rule=ExpiryRule(
        daily_weekdays=(0, 1, 2, 3, 4),
        daily_horizon_sessions=9,
        weekly_horizon_days=56,
        monthly_horizon_days=370,
    ),
    quote_update_rate=0.9,
)
"""SPY at full scale."""

PRESETS: dict[str, dict[str, SymbolSpec]] = {
    "sample": {"SPY": SPY_SPEC, "QQQ": QQQ_SPEC, "TSLA": TSLA_SPEC},
    "full": {"SPY": SPY_FULL_SPEC, "TSLA": TSLA_FULL_SPEC},
}


def preset(symbol: str, scale: str = "sample") -> SymbolSpec:
    """Return the preset spec for ``symbol`` at ``scale`` (``sample`` or ``full``)."""
    if scale not in PRESETS:
        raise SyntheticDataError(f"scale {scale!r} is unknown; use one of {sorted(PRESETS)}")
    specs = PRESETS[scale]
    key = symbol.upper()
    if key not in specs:
        raise SyntheticDataError(f"no {scale} preset for symbol {symbol!r}; use one of {sorted(specs)}")
    return specs[key]
