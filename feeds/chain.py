"""Serve one underlying's option chain, minute by minute, from the catalog.

``ChainProvider`` holds at most ONE session of quotes: the day is loaded the
first time a minute of it is asked for and replaces the previous day. Each day
is kept as parallel numpy arrays sorted by (ts, symbol) with the minute
boundaries found by ``np.searchsorted``, so a snapshot is a set of zero-copy
slices (O(log n)) and a single contract's quote is a second binary search.

Alignment: ``snapshot(t)`` returns the rows whose ``ts`` equals ``t`` (the
catalog's ``ts`` is the END of the minute, so the bar stamped at its close t
sees exactly the quotes of minute t); it never looks at a later row.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from feeds.bt_feeds import CatalogLike
from options_scalper.model import ChainSnapshot

_ET = ZoneInfo("America/New_York")


class Quote(NamedTuple):
    """One contract's quote at one minute; sizes in contracts, age in minutes."""

    bid: float
    ask: float
    bid_size: float
    ask_size: float
    age_min: float


def to_ns(ts: datetime | pd.Timestamp | np.datetime64) -> int:
    """UTC nanoseconds of ``ts`` (naive values are taken as UTC)."""
    t = pd.Timestamp(ts)
    if t.tzinfo is not None:
        t = t.tz_convert("UTC").tz_localize(None)
    return int(t.value)


def session_date(ts_ns: int) -> date:
    """US/Eastern calendar date of a UTC instant."""
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).astimezone(_ET).date()


class _Day:
    """One session's quotes as arrays sorted by (ts, symbol)."""

    def __init__(self, day: date, quotes: pd.DataFrame, oi: pd.DataFrame | None) -> None:
        self.day = day
        n = len(quotes)
        if n:
            ts = pd.to_datetime(quotes["ts"], utc=True).dt.tz_localize(None)
            self.ts = ts.to_numpy("datetime64[ns]").astype(np.int64)
        else:
            self.ts = np.empty(0, dtype=np.int64)
        if n and np.any(np.diff(self.ts) < 0):  # the catalog sorts; be safe for other sources
            order = np.lexsort((quotes["symbol"].to_numpy(str), self.ts))
            quotes = quotes.iloc[order].reset_index(drop=True)
            self.ts = self.ts[order]
        self.symbol = quotes["symbol"].to_numpy(dtype=object) if n else np.empty(0, dtype=object)
        self.symbol_str = self.symbol.astype(str) if n else np.empty(0, dtype=str)
        self.expiry = (
            pd.to_datetime(quotes["expiry"]).to_numpy("datetime64[D]")
            if n
            else np.empty(0, dtype="datetime64[D]")
        )
        self.is_call = (quotes["option_type"].to_numpy(str) == "C") if n else np.empty(0, dtype=bool)

        def f64(col: str) -> np.ndarray:
            if not n or col not in quotes:
                return np.full(n, np.nan if col != "quote_age_min" else 0.0)
            return quotes[col].to_numpy(np.float64)

        self.strike = f64("strike")
        self.bid = f64("bid_px")
        self.ask = f64("ask_px")
        self.bid_size = f64("bid_sz")
        self.ask_size = f64("ask_sz")
        self.age = f64("quote_age_min")
        self.oi_known = oi is not None and "open_interest" in oi and bool(oi["open_interest"].notna().any())
        self.volume_known = oi is not None and "volume" in oi and bool(oi["volume"].notna().any())
        self.open_interest = np.full(n, np.nan)
        self.volume = np.full(n, np.nan)
        if oi is not None and n and len(oi):
            by_symbol = oi.drop_duplicates("symbol", keep="last").set_index("symbol")
            keys = pd.Index(by_symbol.index)
            pos = keys.get_indexer(self.symbol_str)
            hit = pos >= 0
            if "open_interest" in by_symbol:
                self.open_interest[hit] = by_symbol["open_interest"].to_numpy(np.float64)[pos[hit]]
            if "volume" in by_symbol:
                self.volume[hit] = by_symbol["volume"].to_numpy(np.float64)[pos[hit]]
        self.first_ns = int(self.ts[0]) if n else None
        self.last_ns = int(self.ts[-1]) if n else None

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def bounds(self, t_ns: int) -> tuple[int, int]:
        lo = int(np.searchsorted(self.ts, t_ns, side="left"))
        hi = int(np.searchsorted(self.ts, t_ns, side="right"))
        return lo, hi


class ChainProvider:
    """Snapshots and single quotes of ``symbol`` 's chain from a catalog; one day in memory.

    ``snapshot(ts, underlying_price)`` -> :class:`ChainSnapshot` of minute ``ts``;
    ``quote(option_symbol, ts)`` -> :class:`Quote` or None; ``iv_history(day)``
    -> the ATM IVs of the days strictly before ``day``. ``loads`` counts day loads.
    """

    def __init__(self, catalog: CatalogLike, symbol: str) -> None:
        self.catalog = catalog
        self.symbol = symbol
        self._day: _Day | None = None
        self._summary: pd.DataFrame | None = None
        self.loads = 0

    # ------------------------------------------------------------------ days
    @property
    def loaded_day(self) -> date | None:
        return None if self._day is None else self._day.day

    @property
    def rows_in_memory(self) -> int:
        return 0 if self._day is None else len(self._day)

    def _ensure(self, t_ns: int) -> _Day:
        d = self._day
        if d is not None and d.first_ns is not None and d.first_ns <= t_ns <= d.last_ns:  # type: ignore[operator]
            return d
        day = session_date(t_ns)
        if d is not None and d.day == day:
            return d
        self._day = None  # drop the previous day before reading the next
        quotes = self.catalog.read_quotes(self.symbol, day)
        if quotes is None:
            quotes = pd.DataFrame(columns=["ts", "symbol", "expiry", "option_type", "strike"])
        oi = self.catalog.read_open_interest(self.symbol, day)
        self._day = _Day(day, quotes, oi)
        self.loads += 1
        return self._day

    # ------------------------------------------------------------------ serving
    def snapshot(self, ts_utc: datetime, underlying_price: float, half_day: bool = False) -> ChainSnapshot:
        """Return the chain at minute ``ts_utc`` (rows with ``ts == ts_utc``; never later)."""
        t_ns = to_ns(ts_utc)
        d = self._ensure(t_ns)
        lo, hi = d.bounds(t_ns)
        s = slice(lo, hi)
        ts = pd.Timestamp(t_ns, tz="UTC").to_pydatetime()
        return ChainSnapshot(
            underlying=self.symbol,
            ts=ts,
            underlying_price=float(underlying_price),
            symbol=d.symbol[s],
            expiry=d.expiry[s],
            is_call=d.is_call[s],
            strike=d.strike[s],
            bid=d.bid[s],
            ask=d.ask[s],
            bid_size=d.bid_size[s],
            ask_size=d.ask_size[s],
            quote_age_min=d.age[s],
            open_interest=d.open_interest[s],
            volume=d.volume[s],
            oi_known=d.oi_known,
            volume_known=d.volume_known,
            half_day=half_day,
        )

    def quote(self, option_symbol: str, ts: datetime | int) -> Quote | None:
        """Return ``option_symbol`` 's quote at minute ``ts`` or None when the minute has no row."""
        t_ns = ts if isinstance(ts, int) else to_ns(ts)
        d = self._ensure(t_ns)
        lo, hi = d.bounds(t_ns)
        if lo == hi:
            return None
        j = lo + int(np.searchsorted(d.symbol_str[lo:hi], option_symbol))
        if j >= hi or d.symbol_str[j] != option_symbol:
            return None
        return Quote(
            float(d.bid[j]), float(d.ask[j]), float(d.bid_size[j]), float(d.ask_size[j]), float(d.age[j])
        )

    def iv_history(self, day: date) -> list[float]:
        """ATM 30-day IVs of the days strictly before ``day`` (oldest first; NaNs dropped)."""
        if self._summary is None:
            summary = self.catalog.day_summary(self.symbol)
            if summary is None or not len(summary) or "atm_iv_30d" not in summary:
                summary = pd.DataFrame({"date": [], "atm_iv_30d": []})
            summary = summary.assign(date=pd.to_datetime(summary["date"]).dt.date).sort_values("date")
            self._summary = summary
        before = self._summary[self._summary["date"] < day]["atm_iv_30d"]
        return [float(v) for v in before if v is not None and not math.isnan(float(v))]
