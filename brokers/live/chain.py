"""``LiveChain``: the ``ChainSource`` of one underlying on a live venue.

``snapshot(ts, price)`` asks the venue once per minute (``venue.chain``, cached by
``ts``) for the part of the chain the strategies can trade: the expiries from the
session of ``ts`` up to ``max_dte`` sessions ahead (0DTE/1DTE by default, the
calendar's sessions) and the strikes within ``strike_band_pct`` of the price. The
band must hold every strike the selector may pick: at 0-1 DTE a ±5% band holds
every |delta| above ~0.01 for implied vols up to ~60% (the selector's own
moneyness band is far narrower); widen it for longer expiries or wilder names.

Quotes become a ``ChainSnapshot`` sorted by symbol (as the catalog's), a side <= 0
or NaN is no quote, ``quote_age_min`` is whole minutes since the venue's quote
time, open interest / volume as the venue published them (the previous session's,
as the backtest's statistics; unknown when it gave none). The venue's greeks are never used to decide; the last ``OptionQuote`` per
contract is kept (``venue_quote``) for the journal's metadata.

``listener``: called as ``listener(chain, snapshot)`` with each snapshot fresh from the
venue (once per minute asked; never with a cached one or a failed minute's empty one),
so the runtime can record what the strategy was served; it must not raise.

``iv_history(day)`` comes from the user's catalog when the store got one (the same
published statistics the backtest reads, through ``feeds.catalog.chain``), else
it is empty and the IV gate says why it cannot rank.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from brokers.live.clock import to_ns
from brokers.live.contracts import as_quote
from brokers.live.venue import ChainRequest, LiveVenue, OptionQuote, VenueError, VenueErrorKind
from options_scalper.calendar import next_session, session_date
from options_scalper.model import ChainSnapshot
from options_scalper.occ import InvalidSymbolError, parse_occ
from options_scalper.quotes import Quote

log = logging.getLogger(__name__)

DEFAULT_STRIKE_BAND_PCT = 0.05
DEFAULT_MAX_DTE = 1
# venue failures that pass (5xx, 429, a dropped or unanswered request): the minute goes without a chain
TRANSIENT = frozenset({VenueErrorKind.SERVER, VenueErrorKind.RATE_LIMIT, VenueErrorKind.NETWORK,
                       VenueErrorKind.LOST_REPLY})  # fmt: skip


def tradable_expiries(day: date, max_dte: int) -> list[date]:
    """Every date from ``day`` to its ``max_dte``-th next session (the venue lists the real expiries)."""
    last = day
    for _ in range(max(0, int(max_dte))):
        last = next_session(last)
    return [day + timedelta(days=k) for k in range((last - day).days + 1)]


class LiveChain:
    """One underlying's option chain from a ``LiveVenue``, one venue call per minute (see module doc)."""

    def __init__(
        self,
        venue: LiveVenue,
        symbol: str,
        *,
        strike_band_pct: float = DEFAULT_STRIKE_BAND_PCT,
        max_dte: int = DEFAULT_MAX_DTE,
        roots: Sequence[str] = (),
        catalog: Any = None,
        listener: Callable[[LiveChain, ChainSnapshot], None] | None = None,
    ) -> None:
        if not 0 < strike_band_pct < 1:
            raise ValueError(f"LiveChain: strike_band_pct={strike_band_pct}; pass a fraction such as 0.05")
        self.venue = venue
        self.symbol = symbol
        self.strike_band_pct = float(strike_band_pct)
        self.max_dte = int(max_dte)
        self.roots = tuple(roots)
        self.catalog = catalog
        self.listener = listener
        self.calls = 0
        self._minute: datetime | None = None
        self._snapshot: ChainSnapshot | None = None
        self._quotes: dict[str, OptionQuote] = {}
        self._iv: Any = None

    # ------------------------------------------------------------------ snapshots
    def request(self, ts_utc: datetime, underlying_price: float) -> ChainRequest:
        band = self.strike_band_pct * float(underlying_price)
        day = session_date(ts_utc)
        return ChainRequest(
            underlying=self.symbol,
            expiries=tuple(tradable_expiries(day, self.max_dte)),
            strike_low=float(underlying_price) - band,
            strike_high=float(underlying_price) + band,
            roots=self.roots,
            session=day,
        )

    def snapshot(self, ts_utc: datetime, underlying_price: float, half_day: bool = False) -> ChainSnapshot:
        """The chain at minute ``ts_utc`` (the venue's current quotes, one call per minute)."""
        if self._minute == ts_utc and self._snapshot is not None:
            return self._snapshot
        try:
            quotes = self.venue.chain(self.request(ts_utc, underlying_price))
        except VenueError as err:
            if err.kind not in TRANSIENT:
                raise
            # a passing venue failure costs this minute's chain (no contract to pick), not the run
            log.warning("%s chain at %s unavailable: %s", self.symbol, ts_utc, err)
            return build_snapshot(self.symbol, ts_utc, underlying_price, [], half_day)
        self.calls += 1
        self._minute = ts_utc
        self._quotes = {q.option_symbol: q for q in quotes}
        self._snapshot = build_snapshot(self.symbol, ts_utc, underlying_price, quotes, half_day)
        if self.listener is not None:
            self.listener(self, self._snapshot)
        return self._snapshot

    def quote(self, option_symbol: str, ts: datetime | int) -> Quote | None:
        """``option_symbol``'s quote in the snapshot of minute ``ts`` (None: not asked for that minute)."""
        if self._minute is None:
            return None
        at_ns = ts if isinstance(ts, int) else to_ns(ts)
        if at_ns != to_ns(self._minute):
            return None
        q = self._quotes.get(option_symbol)
        return None if q is None else as_quote(q, at_ns)

    def venue_quote(self, option_symbol: str) -> OptionQuote | None:
        """The venue's last ``OptionQuote`` of the contract (its greeks: for the journal only)."""
        return self._quotes.get(option_symbol)

    # ------------------------------------------------------------------ IV history
    def iv_history(self, day: date) -> list[float]:
        """ATM 30-day IVs of the sessions strictly before ``day`` from the catalog; [] without one."""
        if self.catalog is None:
            return []
        if self._iv is None:
            from feeds.catalog.api import open_catalog
            from feeds.catalog.chain import ChainProvider

            self._iv = ChainProvider(open_catalog(self.catalog), self.symbol)
        history: list[float] = self._iv.iv_history(day)
        return history


def build_snapshot(
    underlying: str, ts: datetime, price: float, quotes: Sequence[OptionQuote], half_day: bool
) -> ChainSnapshot:
    """A ``ChainSnapshot`` of the venue's quotes (sorted by symbol; unparseable symbols skipped)."""
    rows: list[tuple[str, Any, OptionQuote]] = []
    for q in quotes:
        try:
            occ = parse_occ(q.option_symbol)
        except InvalidSymbolError:
            log.warning("%s: skipped a quote with a non-OCC symbol %r", underlying, q.option_symbol)
            continue
        rows.append((q.option_symbol, occ, q))
    rows.sort(key=lambda r: r[0])
    at_ns = to_ns(ts)
    conv = [as_quote(q, at_ns) for _, _, q in rows]
    oi = [q.open_interest for _, _, q in rows]
    vol = [q.volume for _, _, q in rows]

    def floats(values: Sequence[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)

    return ChainSnapshot(
        underlying=underlying,
        ts=ts,
        underlying_price=float(price),
        symbol=np.array([r[0] for r in rows], dtype=object),
        expiry=np.array([r[1].expiry for r in rows], dtype="datetime64[D]"),
        is_call=np.array([r[1].right.value == "C" for r in rows], dtype=bool),
        strike=np.array([r[1].strike for r in rows], dtype=np.float64),
        bid=floats([c.bid for c in conv]),
        ask=floats([c.ask for c in conv]),
        bid_size=floats([c.bid_size for c in conv]),
        ask_size=floats([c.ask_size for c in conv]),
        quote_age_min=floats([c.age_min for c in conv]),
        open_interest=floats(oi),
        volume=floats(vol),
        oi_known=any(v is not None for v in oi),
        volume_known=any(v is not None for v in vol),
        half_day=half_day,
    )


__all__ = ["DEFAULT_MAX_DTE", "DEFAULT_STRIKE_BAND_PCT", "LiveChain", "build_snapshot", "tradable_expiries"]
