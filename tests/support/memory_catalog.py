"""An in-memory catalog with the read API of ``feeds.catalog.Catalog``, and a synthetic day.

For tests and examples of the Backtrader side: build catalog-format frames
(``feeds.schema`` columns, quote ``ts`` = minute END, bar ``ts`` = minute
START) without an ingest. ``reads`` logs every day read, so tests can check
laziness and that no more than one day is held.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from feeds.schema import CATALOG_QUOTE_SCHEMA
from options_scalper.calendar import session_open_close


@dataclass
class MemoryCatalog:
    """Catalog days held as DataFrames: ``add_day(symbol, day, bars, quotes, oi, atm_iv)``."""

    bars: dict[tuple[str, date], pd.DataFrame] = field(default_factory=dict)
    quotes: dict[tuple[str, date], pd.DataFrame] = field(default_factory=dict)
    oi: dict[tuple[str, date], pd.DataFrame] = field(default_factory=dict)
    atm_iv: dict[tuple[str, date], float] = field(default_factory=dict)
    reads: list[tuple[str, str, date]] = field(default_factory=list)

    def add_day(
        self,
        symbol: str,
        day: date,
        bars: pd.DataFrame,
        quotes: pd.DataFrame,
        oi: pd.DataFrame | None = None,
        atm_iv: float = float("nan"),
    ) -> None:
        self.bars[(symbol, day)] = bars
        self.quotes[(symbol, day)] = quotes
        if oi is not None:
            self.oi[(symbol, day)] = oi
        self.atm_iv[(symbol, day)] = atm_iv

    def days(self, symbol: str) -> list[date]:
        return sorted(d for (s, d) in set(self.bars) | set(self.quotes) if s == symbol)

    def read_bars(self, symbol: str, day: date) -> pd.DataFrame | None:
        self.reads.append(("bars", symbol, day))
        b = self.bars.get((symbol, day))
        return None if b is None else b.copy()

    def read_quotes(self, symbol: str, day: date) -> pd.DataFrame:
        self.reads.append(("quotes", symbol, day))
        q = self.quotes.get((symbol, day))
        return pd.DataFrame() if q is None else q.copy()

    def read_open_interest(self, symbol: str, day: date) -> pd.DataFrame | None:
        self.reads.append(("oi", symbol, day))
        return self.oi.get((symbol, day))

    def day_summary(self, symbol: str) -> pd.DataFrame:
        days = self.days(symbol)
        return pd.DataFrame(
            {
                "date": days,
                "atm_iv_30d": [self.atm_iv.get((symbol, d), float("nan")) for d in days],
                "oi_known": [(symbol, d) in self.oi for d in days],
                "volume_known": [(symbol, d) in self.oi for d in days],
                "underlying_source": ["bars"] * len(days),
            }
        )

    def data_notes(self, symbol: str, days: list[date]) -> list[str]:
        return []


def session_stamps(day: date) -> list[datetime]:
    """Minute-END stamps of the session (open + 1 min .. close), aware UTC."""
    open_, close = session_open_close(day)
    n = int((close - open_).total_seconds() // 60)
    return [open_.astimezone(UTC) + timedelta(minutes=k) for k in range(1, n + 1)]


def synthetic_day(
    symbol: str,
    day: date,
    prices: np.ndarray | None = None,
    strikes: tuple[float, ...] = (),
    expiries: tuple[date, ...] = (),
    start_price: float = 100.0,
    seed: int = 0,
    spread: float = 0.04,
    volume: float = 1000.0,
    missing_bar_minutes: tuple[int, ...] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (bars, quotes) of one synthetic session in catalog format.

    ``prices[k]`` is the underlying's close of the k-th minute (a seeded random
    walk from ``start_price`` when None). Each (expiry, strike, C/P) contract is
    quoted every minute at intrinsic + a decaying time value, +/- ``spread``/2,
    rounded to cents. Bars listed in ``missing_bar_minutes`` (grid indices) are
    left out, as DataBento does for minutes without trades.
    """
    stamps = session_stamps(day)
    n = len(stamps)
    if prices is None:
        rng = np.random.default_rng(seed)
        prices = start_price + np.cumsum(rng.normal(0.0, 0.05, n))
    prices = np.round(np.asarray(prices, dtype=float), 2)
    opens = np.r_[prices[0], prices[:-1]]
    keep = np.ones(n, dtype=bool)
    keep[list(missing_bar_minutes)] = False
    bar_ts = [s - timedelta(minutes=1) for s in stamps]
    bars = pd.DataFrame(
        {
            "ts": pd.to_datetime(bar_ts, utc=True),
            "open": opens,
            "high": np.maximum(opens, prices) + 0.01,
            "low": np.minimum(opens, prices) - 0.01,
            "close": prices,
            "volume": np.full(n, volume),
        }
    )[keep].reset_index(drop=True)
    rows = []
    close_t = stamps[-1]
    for k, ts in enumerate(stamps):
        s = float(prices[k])
        for expiry in expiries:
            left_min = max(1.0, (close_t - ts).total_seconds() / 60.0 + (expiry - day).days * 390)
            tv = 0.6 * math.sqrt(left_min / 390.0)
            for strike in strikes:
                for right in ("C", "P"):
                    intrinsic = max(0.0, s - strike) if right == "C" else max(0.0, strike - s)
                    mid = intrinsic + tv * math.exp(-abs(s - strike) / 3.0)
                    bid = max(0.01, round(mid - spread / 2, 2))
                    ask = round(bid + spread, 2)
                    osym = f"{symbol}{expiry:%y%m%d}{right}{round(strike * 1000):08d}"
                    rows.append((ts, osym, symbol, expiry, right, strike, bid, ask, 50, 50, 0))
    quotes = pd.DataFrame(rows, columns=list(CATALOG_QUOTE_SCHEMA.names))
    if len(quotes):
        quotes["ts"] = pd.to_datetime(quotes["ts"], utc=True)
        quotes = quotes.sort_values(["ts", "symbol"], kind="stable").reset_index(drop=True)
    return bars, quotes
