"""Serve one underlying's option chain, minute by minute, from the catalog.

``ChainProvider`` holds at most ONE session of quotes: the day is loaded the
first time a minute of it is asked for and replaces the previous day. Each day
is kept as parallel numpy arrays sorted by (ts, symbol) with the minute
boundaries found by ``np.searchsorted``, so a snapshot is a set of zero-copy
slices (O(log n)). A single contract's quote is a binary search in that
contract's own rows (found once per day and contract). Symbols, expiries and
rights are converted once per distinct value, not once per row.

Alignment: ``snapshot(t)`` returns the rows whose ``ts`` equals ``t`` (the
catalog's ``ts`` is the END of the minute, so the bar stamped at its close t
sees exactly the quotes of minute t); it never looks at a later row.
"""

from __future__ import annotations

import bisect
import math
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from feeds.catalog.api import CatalogLike
from feeds.catalog.published import Publications, _take
from options_scalper.calendar import session_date
from options_scalper.model import ChainSnapshot
from options_scalper.quotes import Quote

_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)


def to_ns(ts: datetime | pd.Timestamp | np.datetime64) -> int:
    """UTC nanoseconds of ``ts`` (naive values are taken as UTC)."""
    if type(ts) is datetime:  # exact type: a pd.Timestamp may carry nanoseconds
        base = _EPOCH_NAIVE if ts.tzinfo is None or ts.utcoffset() is None else _EPOCH_UTC
        return ((ts - base) // _US) * 1000
    t = pd.Timestamp(ts)
    if t.tzinfo is not None:
        t = t.tz_convert("UTC").tz_localize(None)
    return int(t.value)


def from_ns(ts_ns: int) -> datetime:
    """Aware UTC ``datetime`` of UTC nanoseconds ``ts_ns`` (microsecond precision)."""
    if ts_ns % 1000:
        return pd.Timestamp(ts_ns, tz="UTC").to_pydatetime()
    return _EPOCH_UTC + timedelta(microseconds=ts_ns // 1000)


class _Day:
    """One session's quotes as arrays sorted by (ts, symbol)."""

    def __init__(
        self, day: date, quotes: pd.DataFrame | pa.Table, oi: pd.DataFrame | pa.Table | None
    ) -> None:
        self.day = day
        cols = _arrow_columns(quotes) if isinstance(quotes, pa.Table) else None
        if cols is None:
            frame = quotes.to_pandas() if isinstance(quotes, pa.Table) else quotes
            cols = _pandas_columns(frame)
        n = cols.ts.shape[0]
        self.ts = cols.ts
        self.first_ns = int(self.ts[0]) if n else None
        self.last_ns = int(self.ts[-1]) if n else None
        self._codes = cols.codes
        self._code_of = {str(v): k for k, v in enumerate(cols.names)} if n else {}
        self._rows: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
        self._names = cols.names
        self._symbol: np.ndarray | None = None  # the per-row symbols, built on first use
        self.expiry = cols.expiry
        self.is_call = cols.is_call
        self.strike = cols.f64["strike"]
        self.bid = cols.f64["bid_px"]
        self.ask = cols.f64["ask_px"]
        self.bid_size = cols.f64["bid_sz"]
        self.ask_size = cols.f64["ask_sz"]
        self.age = cols.f64["quote_age_min"]
        self.open_interest = np.full(n, np.nan)
        self.volume = np.full(n, np.nan)
        # with publication times: the values in force after each publication, per symbol code
        self.published: Publications | None = None
        if oi is not None and "published" in (oi.column_names if isinstance(oi, pa.Table) else oi.columns):
            frame = oi.to_pandas() if isinstance(oi, pa.Table) else oi
            self.published = Publications(frame, self._code_of)
            self.oi_known, self.volume_known = self.published.ever_known
            return
        if isinstance(oi, pa.Table):
            self.oi_known, self.volume_known = self._spread_arrow_oi(oi, n)
            return
        self.oi_known = oi is not None and "open_interest" in oi and bool(oi["open_interest"].notna().any())
        self.volume_known = oi is not None and "volume" in oi and bool(oi["volume"].notna().any())
        if oi is not None and n and len(oi):
            by_symbol = oi.drop_duplicates("symbol", keep="last").set_index("symbol")
            keys = pd.Index(by_symbol.index)
            pos = _take(keys.get_indexer(list(self._code_of)), self._codes, -1)
            hit = pos >= 0
            if "open_interest" in by_symbol:
                self.open_interest[hit] = by_symbol["open_interest"].to_numpy(np.float64)[pos[hit]]
            if "volume" in by_symbol:
                self.volume[hit] = by_symbol["volume"].to_numpy(np.float64)[pos[hit]]

    def _spread_arrow_oi(self, oi: pa.Table, n: int) -> tuple[bool, bool]:
        """Fill ``open_interest`` / ``volume`` per row from an Arrow OI table (the last row of a
        symbol wins, as in the pandas path); return whether each is known (any non-NaN value)."""
        columns = {
            name: oi.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
            for name in ("open_interest", "volume")
            if name in oi.column_names
        }
        known = {name: bool((~np.isnan(values)).any()) for name, values in columns.items()}
        if n and oi.num_rows:
            last_row = {sym: i for i, sym in enumerate(oi.column("symbol").to_pylist())}
            by_code = np.array([last_row.get(name, -1) for name in self._code_of], dtype=np.int64)
            pos = _take(by_code, self._codes, -1)
            hit = pos >= 0
            for name, target in (("open_interest", self.open_interest), ("volume", self.volume)):
                if name in columns:
                    target[hit] = columns[name][pos[hit]]
        return known.get("open_interest", False), known.get("volume", False)

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @property
    def symbol(self) -> np.ndarray:
        """Every row's symbol (object array, None for a null), built from the codes once."""
        if self._symbol is None:
            self._symbol = _take(self._names, self._codes, None)
        return self._symbol

    def symbols(self, lo: int, hi: int) -> np.ndarray:
        """The symbols of rows ``lo:hi`` (what a snapshot needs), without the whole day's column."""
        if self._symbol is not None:
            return self._symbol[lo:hi]
        return _take(self._names, self._codes[lo:hi], None)

    def bounds(self, t_ns: int) -> tuple[int, int]:
        lo = int(np.searchsorted(self.ts, t_ns, side="left"))
        hi = int(np.searchsorted(self.ts, t_ns, side="right"))
        return lo, hi

    def rows_of(self, option_symbol: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(ts, row) of every row of ``option_symbol`` today, in row order; None if it has none."""
        try:
            return self._rows[option_symbol]
        except KeyError:
            pass
        code = self._code_of.get(option_symbol)
        found = None
        if code is not None:
            rows = np.flatnonzero(self._codes == code)
            found = (self.ts[rows], rows)
        self._rows[option_symbol] = found
        return found


_F64_COLUMNS = ("strike", "bid_px", "ask_px", "bid_sz", "ask_sz", "quote_age_min")
_QUOTE_COLUMNS = ("ts", "symbol", "expiry", "option_type", *_F64_COLUMNS)  # what a _Day reads


class _Columns(NamedTuple):
    """A day's quote columns as numpy arrays, in (ts, symbol) order."""

    ts: np.ndarray  # int64 UTC ns
    codes: np.ndarray  # int64 code of each row's symbol in ``names`` (-1: null)
    names: np.ndarray  # object: the distinct symbols
    expiry: np.ndarray  # datetime64[D]
    is_call: np.ndarray  # bool
    f64: dict[str, np.ndarray]  # _F64_COLUMNS as float64


def _missing_f64(col: str, n: int) -> np.ndarray:
    return np.full(n, np.nan if col != "quote_age_min" else 0.0)


def _pandas_columns(quotes: pd.DataFrame) -> _Columns:
    """Columns of a quote frame (``Catalog.read_quotes`` or any catalog-like source)."""
    n = len(quotes)
    if n:
        ts = pd.to_datetime(quotes["ts"], utc=True).dt.tz_localize(None)
        ts_ns = ts.to_numpy("datetime64[ns]").astype(np.int64)
    else:
        ts_ns = np.empty(0, dtype=np.int64)
    if n and np.any(np.diff(ts_ns) < 0):  # the catalog sorts; be safe for other sources
        order = np.lexsort((quotes["symbol"].to_numpy(str), ts_ns))
        quotes = quotes.iloc[order].reset_index(drop=True)
        ts_ns = ts_ns[order]
    # Convert each distinct symbol / expiry / right once, then spread by code.
    if n:
        codes, uniques = pd.factorize(quotes["symbol"])
        names = np.asarray(uniques, dtype=object)
        e_codes, e_uniques = pd.factorize(quotes["expiry"])
        expiry = _take(
            pd.to_datetime(pd.Series(e_uniques, dtype=object)).to_numpy("datetime64[D]"),
            e_codes,
            np.datetime64("NaT", "D"),
        )
        r_codes, r_uniques = pd.factorize(quotes["option_type"])
        is_call = _take(np.array([str(v) == "C" for v in r_uniques], dtype=bool), r_codes, False)
    else:
        codes = np.empty(0, dtype=np.int64)
        names = np.empty(0, dtype=object)
        expiry = np.empty(0, dtype="datetime64[D]")
        is_call = np.empty(0, dtype=bool)
    f64 = {
        col: quotes[col].to_numpy(np.float64) if n and col in quotes else _missing_f64(col, n)
        for col in _F64_COLUMNS
    }
    return _Columns(ts_ns, codes, names, expiry, is_call, f64)


def _arrow_columns(table: pa.Table) -> _Columns | None:
    """The same columns as :func:`_pandas_columns`, straight from Arrow (no pandas).

    None when the table is not in the catalog's shape (a timestamp ``ts`` without
    nulls, sorted; string ``symbol`` / ``option_type``; date32 ``expiry``): the
    caller then takes the pandas path.
    """
    n = table.num_rows
    names = table.column_names
    if not n or not {"ts", "symbol", "expiry", "option_type"} <= set(names):
        return None
    ts_col = table.column("ts")
    ts_type = ts_col.type
    if (
        not pa.types.is_timestamp(ts_type)
        or ts_col.null_count
        or not _is_string_or_dictionary(table.schema.field("symbol").type)
        or not pa.types.is_string(table.schema.field("option_type").type)
        or not pa.types.is_date32(table.schema.field("expiry").type)
    ):
        return None
    # UTC instants as int64 ns, whatever the unit or zone (a naive ts is UTC, as pd.to_datetime(utc=True))
    ts_ns = _writable(ts_col.cast(pa.timestamp("ns", tz=ts_type.tz)).cast(pa.int64()).to_numpy(), np.int64)
    if np.any(np.diff(ts_ns) < 0):
        return None  # unsorted: the pandas path sorts by (ts, symbol)
    symbols = table.column("symbol")
    if pa.types.is_dictionary(symbols.type):  # read as dictionary: one shared dictionary, then codes
        symbols = symbols.unify_dictionaries() if symbols.num_chunks > 1 else symbols
        encoded = symbols.combine_chunks()
    else:
        encoded = symbols.combine_chunks().dictionary_encode()
    codes = _writable(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), np.int64)
    uniques = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    expiry = _writable(table.column("expiry").to_numpy(), "datetime64[D]")
    is_call = _writable(pc.fill_null(pc.equal(table.column("option_type"), "C"), False).to_numpy(), np.bool_)
    f64 = {
        col: (
            _writable(table.column(col).cast(pa.float64()).to_numpy(), np.float64)
            if col in names
            else _missing_f64(col, n)
        )
        for col in _F64_COLUMNS
    }
    return _Columns(ts_ns, codes, uniques, expiry, is_call, f64)


def _is_string_or_dictionary(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return pa.types.is_string(kind.value_type)
    return pa.types.is_string(kind)


def _writable(values: np.ndarray, dtype: npt.DTypeLike) -> np.ndarray:
    """``values`` as a writable ``dtype`` array (Arrow hands out read-only zero-copy views)."""
    out = np.asarray(values, dtype=dtype)
    return out if out.flags.writeable else out.copy()


class ChainProvider:
    """The catalog's ``ChainSource`` (``options_scalper.ports``): ``symbol`` 's chain, one day in memory.

    ``snapshot(ts, underlying_price)`` -> :class:`ChainSnapshot` of minute ``ts``;
    ``quote(option_symbol, ts)`` -> :class:`Quote` or None; ``iv_history(day)``
    -> the ATM IVs of the days strictly before ``day``. ``loads`` counts day loads.
    """

    def __init__(self, catalog: CatalogLike, symbol: str) -> None:
        self.catalog = catalog
        self.symbol = symbol
        self._day: _Day | None = None
        self._summary: tuple[list[date], list[float]] | None = None
        self._iv_cache: tuple[date, tuple[float, ...]] | None = None
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
        day = session_date(from_ns(t_ns))
        if d is not None and d.day == day:
            return d
        self._day = None  # drop the previous day before reading the next
        read_arrow = getattr(self.catalog, "read_quotes_arrow", None)  # feeds.catalog.Catalog has it
        quotes: pd.DataFrame | pa.Table | None = (
            read_arrow(self.symbol, day, columns=_QUOTE_COLUMNS, dictionary_columns=("symbol",))
            if read_arrow is not None
            else self.catalog.read_quotes(self.symbol, day)
        )
        if quotes is None:
            quotes = pd.DataFrame(columns=["ts", "symbol", "expiry", "option_type", "strike"])
        read_oi_arrow = getattr(self.catalog, "read_open_interest_arrow", None)
        oi: pd.DataFrame | pa.Table | None = (
            read_oi_arrow(self.symbol, day)
            if read_oi_arrow is not None
            else self.catalog.read_open_interest(self.symbol, day)
        )
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
        ts = from_ns(t_ns)
        if d.published is not None:  # statistics only from their publication time on
            oi, volume, oi_known, volume_known = d.published.at(t_ns, d._codes[lo:hi])
        else:
            oi, volume = d.open_interest[s], d.volume[s]
            oi_known, volume_known = d.oi_known, d.volume_known
        return ChainSnapshot(
            underlying=self.symbol,
            ts=ts,
            underlying_price=float(underlying_price),
            symbol=d.symbols(lo, hi),
            expiry=d.expiry[s],
            is_call=d.is_call[s],
            strike=d.strike[s],
            bid=d.bid[s],
            ask=d.ask[s],
            bid_size=d.bid_size[s],
            ask_size=d.ask_size[s],
            quote_age_min=d.age[s],
            open_interest=oi,
            volume=volume,
            oi_known=oi_known,
            volume_known=volume_known,
            half_day=half_day,
        )

    def quote(self, option_symbol: str, ts: datetime | int) -> Quote | None:
        """Return ``option_symbol`` 's quote at minute ``ts`` or None when the minute has no row."""
        t_ns = ts if isinstance(ts, int) else to_ns(ts)
        d = self._ensure(t_ns)
        found = d.rows_of(option_symbol)
        if found is None:
            return None
        times, rows = found
        k = int(np.searchsorted(times, t_ns, side="left"))
        if k >= times.shape[0] or times[k] != t_ns:
            return None
        j = int(rows[k])
        return Quote(
            float(d.bid[j]), float(d.ask[j]), float(d.bid_size[j]), float(d.ask_size[j]), float(d.age[j])
        )

    def iv_history(self, day: date) -> list[float]:
        """ATM 30-day IVs of the days strictly before ``day`` (oldest first; NaNs dropped)."""
        cached = self._iv_cache
        if cached is None or cached[0] != day:
            dates, ivs = self._iv_summary()
            before = ivs[: bisect.bisect_left(dates, day)]
            cached = (day, tuple(v for v in before if not math.isnan(v)))
            self._iv_cache = cached
        return list(cached[1])

    def _iv_summary(self) -> tuple[list[date], list[float]]:
        """The catalog's (date, ATM IV) columns sorted by date, read once."""
        if self._summary is None:
            summary = self.catalog.day_summary(self.symbol)
            if summary is None or not len(summary) or "atm_iv_30d" not in summary:
                summary = pd.DataFrame({"date": [], "atm_iv_30d": []})
            summary = summary.assign(date=pd.to_datetime(summary["date"]).dt.date).sort_values("date")
            dates = list(summary["date"])
            ivs = [math.nan if v is None else float(v) for v in summary["atm_iv_30d"]]
            self._summary = (dates, ivs)
        return self._summary
