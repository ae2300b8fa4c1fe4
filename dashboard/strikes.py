"""Strike Picker: one minute of one underlying's chain, put through the strategy's own selector.

The snapshot is the one a backtest decides on (``ChainProvider.snapshot`` of the
bar-close minute, with the underlying of the last minutes for carried quotes, as
``strategies.base`` builds it), or, for a live / paper / dry run, the very snapshot
its strategy was served at that minute (``live_chains``, read back by
``journal.live_read.recorded_chain``, with the IV history the pipeline was given).
Both go through ``snapshot_view``, the one code path below. The selector is ``StrikeSelector`` built from the
run's config (``registry.load_config_class`` + the run's params), and the pipeline
verdict is ``OptionsScalper.process_signal`` on that snapshot, sized (``Sizing``) with what the
strategy had at a recorded minute (the account recorded with the chain, the conviction of the signal
it entered on then) and otherwise with the tab's equity and conviction controls, saying which:

- *pick*: what the selector returns for the whole snapshot;
- per contract of the signal's right: the selector run on that contract alone
  (same filters, same order): *kept* with its score, or the ``RejectReason`` of
  the first filter that refuses it. The moneyness band (a pre-filter of the delta
  range) is then estimated from that contract alone, so a far-from-the-money
  contract may read ``iv_unsolved`` / ``delta_out_of_range`` either way;
- the delta heatmap: every two-sided quote's Black-Scholes delta at its mid
  (``options_scalper.greeks``), strikes x expiries.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from dashboard.db import Journal
from feeds.catalog.api import CatalogLike
from feeds.catalog.chain import ChainProvider
from journal import live_read
from journal.models import LIVE_CHAINS_TABLE
from options_scalper import greeks
from options_scalper.calendar import ET, is_half_day, is_tradable, session_date
from options_scalper.expiry import trading_dte
from options_scalper.model import AccountState, ChainSnapshot, Direction, Rejection, Signal
from options_scalper.scalper import OptionsScalper, OrderIntent
from options_scalper.selection import StrikeSelection, StrikeSelector
from strategies import registry

DEFAULT_STRATEGY = registry.DEFAULT_STRATEGY
DEFAULT_EQUITY = 100_000.0
DEFAULT_CONVICTION = 80
EQUITY_CONTROL = "the equity control"
CONVICTION_CONTROL = "the conviction control"
NO_CATALOG_EQUITY = f"{EQUITY_CONTROL}: the journal holds no run's equity at a catalog minute"
NO_CATALOG_CONVICTION = f"{CONVICTION_CONTROL}: the journal does not tie an entry to a catalog minute"


@dataclass(frozen=True)
class Sizing:
    """What the verdict is priced with (the account, the signal's conviction) and where each came from."""

    account: AccountState
    conviction: int
    account_source: str
    conviction_source: str

    def text(self) -> str:
        a = self.account
        return (
            f"sized with equity ${a.equity:,.2f} and cash ${a.cash:,.2f} ({self.account_source}); "
            f"conviction {self.conviction} ({self.conviction_source})"
        )


def control_sizing(
    equity: float = DEFAULT_EQUITY,
    conviction: int = DEFAULT_CONVICTION,
    account_source: str = EQUITY_CONTROL,
    conviction_source: str = CONVICTION_CONTROL,
) -> Sizing:
    """An idle account of ``equity`` (all cash) and ``conviction``: the controls' values."""
    return Sizing(
        AccountState(equity=equity, cash=equity), int(conviction), account_source, conviction_source
    )


def recorded_sizing(
    recorded: live_read.RecordedChain,
    direction: Direction,
    equity: float = DEFAULT_EQUITY,
    conviction: int = DEFAULT_CONVICTION,
) -> Sizing:
    """What run ``recorded.run_id`` 's strategy had at the recorded minute; the controls for what it lacks."""
    account, account_source = recorded.account, f"run {recorded.run_id}'s account at this minute"
    if account is None:
        account = AccountState(equity=equity, cash=equity)
        account_source = f"{EQUITY_CONTROL}: this minute's chain was recorded without the run's account"
    mine = [s for s in recorded.signals if s.direction is direction]
    if mine:
        conviction, conviction_source = (
            mine[0].conviction,
            f"signal {mine[0].signal_id}, entered at this minute",
        )
    elif recorded.signals:
        other = recorded.signals[0]
        conviction_source = (
            f"{CONVICTION_CONTROL}: the signal entered at this minute ({other.signal_id}) was "
            f"{other.direction.value}"
        )
    else:
        conviction_source = f"{CONVICTION_CONTROL}: run {recorded.run_id} entered on no signal at this minute"
    return Sizing(account, int(conviction), account_source, conviction_source)


def strategy_config(strategy: str | None, params: Mapping[str, Any]) -> tuple[Any, list[str]]:
    """The run's config: its strategy's config class, defaults overridden by the run's params that are fields.

    Returns the config and notes (a strategy that cannot be loaded, params it refuses).
    """
    notes: list[str] = []
    name = strategy or DEFAULT_STRATEGY
    try:
        cls = registry.load_config_class(name)
    except Exception as exc:  # a user strategy that is not importable here: say so, use the default
        notes.append(f"strategy {name!r}: config not loadable ({exc}); using {DEFAULT_STRATEGY}'s defaults")
        cls = registry.load_config_class(DEFAULT_STRATEGY)
    fields = set(cls.field_names())  # type: ignore[attr-defined]
    known = {k: v for k, v in params.items() if k in fields}
    try:
        return cls().with_overrides(**known), notes
    except (TypeError, ValueError) as exc:  # ConfigError is a ValueError
        notes.append(f"the run's params do not fit {cls.__name__} ({exc}); using its defaults")
        return cls(), notes


def minutes(catalog: CatalogLike, symbol: str, day: date) -> pd.DataFrame:
    """The session's decision minutes: ``ts`` (bar close, aware UTC) and the underlying ``close``."""
    bars = catalog.read_bars(symbol, day)
    if bars is None or not len(bars):
        return pd.DataFrame(columns=["ts", "close"])
    start = pd.to_datetime(bars["ts"], utc=True)
    return pd.DataFrame({"ts": start + pd.Timedelta(minutes=1), "close": bars["close"].astype(float)})


def decision_snapshot(
    chain: ChainProvider, bars: pd.DataFrame, ts: datetime, max_quote_age_min: float
) -> ChainSnapshot:
    """The snapshot a strategy decides on at bar close ``ts`` (``strategies.base`` does the same)."""
    found = np.flatnonzero((bars["ts"] == pd.Timestamp(ts)).to_numpy())
    if found.size == 0:
        raise ValueError(f"{ts.isoformat()} is not a bar close of {chain.symbol} in the catalog")
    k = int(found[0])
    closes = bars["close"].to_numpy(np.float64)
    snapshot = chain.snapshot(ts, float(closes[k]), half_day=is_half_day(ts))
    n = min(k + 1, math.floor(max_quote_age_min) + 1)
    if n < 2:
        return snapshot
    return dataclasses.replace(snapshot, underlying_by_age=closes[k - n + 1 : k + 1][::-1].copy())


def tradable_expiries(config: Any, snapshot: ChainSnapshot, now: datetime) -> set[date] | Rejection:
    """The snapshot's expiries within ``max_dte`` that the calendar lets the strategy open at ``now``."""
    refused = is_tradable(now, None, config)
    if refused is not None:
        return refused
    session = session_date(now)
    allowed = set()
    for expiry in np.unique(snapshot.expiry).tolist():
        if 0 <= trading_dte(session, expiry) <= config.max_dte and is_tradable(now, expiry, config) is None:
            allowed.add(expiry)
    return allowed


def _one(snapshot: ChainSnapshot, i: int) -> ChainSnapshot:
    keep = slice(i, i + 1)
    return dataclasses.replace(
        snapshot,
        symbol=snapshot.symbol[keep],
        expiry=snapshot.expiry[keep],
        is_call=snapshot.is_call[keep],
        strike=snapshot.strike[keep],
        bid=snapshot.bid[keep],
        ask=snapshot.ask[keep],
        bid_size=snapshot.bid_size[keep],
        ask_size=snapshot.ask_size[keep],
        quote_age_min=snapshot.quote_age_min[keep],
        open_interest=snapshot.open_interest[keep],
        volume=snapshot.volume[keep],
    )


@dataclass(frozen=True)
class ChainView:
    """What the tab shows for one minute."""

    ts: datetime
    underlying: str
    underlying_price: float
    direction: Direction
    table: pd.DataFrame  # one row per contract: quote, greeks, status, reason
    heatmap: pd.DataFrame  # delta: index strike, columns expiry
    pick: StrikeSelection | None
    refusal: Rejection | None  # why the selector picked nothing
    verdict: str  # the whole pipeline's answer (process_signal)
    intent: OrderIntent | None  # the order it would send (None: refused)
    sizing: Sizing  # what the verdict was priced with, and where from
    notes: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """Contracts of the signal's right by status (``picked``, ``kept``, ``refused``)."""
        mine = self.table[self.table["right"] == self.direction.right.word]
        return {str(k): int(v) for k, v in mine["status"].value_counts().items()}


def _greeks_frame(snapshot: ChainSnapshot, now: datetime, criteria: Any) -> pd.DataFrame:
    mid = snapshot.mid
    spot = float(snapshot.underlying_price)
    t = greeks.time_to_expiry_years(now, snapshot.expiry)
    two_sided = (snapshot.bid > 0) & (snapshot.ask > snapshot.bid)
    price = np.where(two_sided, mid, np.nan)
    iv, g = greeks.iv_and_greeks(
        price, spot, snapshot.strike, t, criteria.risk_free_rate, criteria.dividend_yield, snapshot.is_call
    )
    return pd.DataFrame({"iv": iv, "delta": g.delta, "gamma": g.gamma, "theta": g.theta_per_day})


def chain_view(
    catalog: CatalogLike,
    symbol: str,
    ts: datetime,
    direction: Direction,
    config: Any,
    *,
    equity: float = DEFAULT_EQUITY,
    conviction: int = DEFAULT_CONVICTION,
    notes: tuple[str, ...] = (),
) -> ChainView:
    """The catalog's chain of ``symbol`` at bar close ``ts`` (aware UTC) through ``config`` 's selector and pipeline."""
    chain = ChainProvider(catalog, symbol)
    bars = minutes(catalog, symbol, session_date(ts))
    snapshot = decision_snapshot(chain, bars, ts, config.selection_criteria().max_quote_age_minutes)
    history = chain.iv_history(snapshot.session_date)
    sizing = control_sizing(equity, conviction, NO_CATALOG_EQUITY, NO_CATALOG_CONVICTION)
    return snapshot_view(snapshot, history, direction, config, sizing=sizing, notes=notes)


def live_minutes(journal: Journal, run_id: str) -> pd.DataFrame:
    """The minutes whose chain live run ``run_id`` recorded: ``underlying`` and ``ts`` (aware UTC), by minute."""
    if LIVE_CHAINS_TABLE not in journal.tables:  # a journal from before revision 140
        return pd.DataFrame(columns=["underlying", "ts"])
    rows = live_read.chain_minutes(journal.engine, run_id)
    return pd.DataFrame(rows, columns=["underlying", "ts"])


def live_chain_view(
    journal: Journal,
    run_id: str,
    symbol: str,
    ts: datetime,
    direction: Direction,
    config: Any,
    *,
    equity: float = DEFAULT_EQUITY,
    conviction: int = DEFAULT_CONVICTION,
    notes: tuple[str, ...] = (),
) -> ChainView:
    """The chain live run ``run_id`` 's strategy was served for ``symbol`` at ``ts``, through the same code path.

    Sized with what the strategy had then (``recorded_sizing``); ``equity`` / ``conviction``: the
    controls' values, for what the journal lacks.
    """
    recorded = live_read.recorded_chain(journal.engine, run_id, symbol, ts)
    if recorded is None:
        raise ValueError(f"run {run_id} recorded no {symbol} chain at {ts.isoformat()}")
    sizing = recorded_sizing(recorded, direction, equity, conviction)
    view = snapshot_view(
        recorded.snapshot, list(recorded.iv_history), direction, config, sizing=sizing, notes=notes
    )
    times = dict(zip((str(s) for s in recorded.snapshot.symbol), recorded.quote_time, strict=True))
    table = view.table.assign(quote_time=view.table["option_symbol"].map(times))
    return dataclasses.replace(view, table=table)


def snapshot_view(
    snapshot: ChainSnapshot,
    iv_history: list[float],
    direction: Direction,
    config: Any,
    *,
    sizing: Sizing | None = None,
    notes: tuple[str, ...] = (),
) -> ChainView:
    """``snapshot`` (decided on at its ``ts``) through ``config`` 's selector and pipeline (see module doc).

    ``sizing``: the account and conviction of the verdict (None: the controls' defaults).
    """
    ts, symbol = snapshot.ts, snapshot.underlying
    sizing = sizing or control_sizing()
    criteria = config.selection_criteria()
    selector = StrikeSelector(criteria)
    result = _pipeline(snapshot, direction, ts, config, iv_history, sizing)
    verdict = _verdict_text(result)
    allowed = tradable_expiries(config, snapshot, ts)
    if isinstance(allowed, Rejection) and isinstance(result, Rejection):
        allowed = result  # the pipeline's code for a timing refusal (what reports count)
    pick: StrikeSelection | None = None
    refusal: Rejection | None = None
    if isinstance(allowed, Rejection):
        refusal = allowed
    else:
        found = selector.select(snapshot, direction, ts, allowed_expiries=allowed)
        pick, refusal = (None, found) if isinstance(found, Rejection) else (found, None)

    want_call = direction.right.word == "call"
    status, reason, score = [], [], []
    for i in range(len(snapshot)):
        if bool(snapshot.is_call[i]) != want_call:
            status.append("other right")
            reason.append("")
            score.append(np.nan)
            continue
        if isinstance(allowed, Rejection):
            status.append("refused")
            reason.append(allowed.reason_code)
            score.append(np.nan)
            continue
        one = selector.select(_one(snapshot, i), direction, ts, allowed_expiries=allowed)
        if isinstance(one, Rejection):
            status.append("refused")
            reason.append(one.reason_code)
            score.append(np.nan)
        else:
            picked = pick is not None and one.option_symbol == pick.option_symbol
            status.append("picked" if picked else "kept")
            reason.append("")
            score.append(one.score)

    g = _greeks_frame(snapshot, ts, criteria)
    session = session_date(ts)
    expiries = [d.astype(date) for d in snapshot.expiry]
    table = pd.DataFrame(
        {
            "option_symbol": [str(s) for s in snapshot.symbol],
            "right": np.where(snapshot.is_call, "call", "put"),
            "expiry": expiries,
            "dte": [trading_dte(session, e) for e in expiries],
            "strike": snapshot.strike,
            "bid": snapshot.bid,
            "ask": snapshot.ask,
            "bid_size": snapshot.bid_size,
            "ask_size": snapshot.ask_size,
            "spread_pct": np.where(snapshot.mid > 0, (snapshot.ask - snapshot.bid) / snapshot.mid, np.nan),
            "quote_age_min": snapshot.quote_age_min,
            "open_interest": snapshot.open_interest,
            "iv": g["iv"].to_numpy(),
            "delta": g["delta"].to_numpy(),
            "gamma": g["gamma"].to_numpy(),
            "theta": g["theta"].to_numpy(),
            "status": status,
            "reason": reason,
            "score": score,
        }
    ).sort_values(["right", "expiry", "strike"], kind="stable")
    mine = table[table["right"] == direction.right.word]
    heatmap = mine.pivot_table(
        index="strike", columns="expiry", values="delta", aggfunc="first", dropna=False
    )

    return ChainView(
        ts=ts,
        underlying=symbol,
        underlying_price=float(snapshot.underlying_price),
        direction=direction,
        table=table.reset_index(drop=True),
        heatmap=heatmap,
        pick=pick,
        refusal=refusal,
        verdict=verdict,
        intent=None if isinstance(result, Rejection) else result,
        sizing=sizing,
        notes=notes,
    )


def _pipeline(
    snapshot: ChainSnapshot,
    direction: Direction,
    ts: datetime,
    config: Any,
    iv_history: list[float],
    sizing: Sizing,
) -> OrderIntent | Rejection:
    """``OptionsScalper.process_signal`` on the snapshot for a signal and account of ``sizing``."""
    signal = Signal(
        signal_id=f"dashboard-{ts:%Y%m%dT%H%M}",
        ticker=snapshot.underlying,
        ts=ts,
        direction=direction,
        conviction=sizing.conviction,
        trigger="dashboard",
        underlying_price=float(snapshot.underlying_price),
    )
    return OptionsScalper(config).process_signal(signal, snapshot, sizing.account, iv_history=iv_history)


def _verdict_text(result: OrderIntent | Rejection) -> str:
    if isinstance(result, Rejection):
        return f"refused: {result.reason_code} ({result.message})"
    return (
        f"would buy {result.quantity} x {result.option_symbol} at limit ${result.limit_price:.2f} "
        f"({result.order_type}; {result.total_quantity} contracts in all)"
    )


def utc_minute(day: date, hhmm_et: str) -> datetime:
    """Aware UTC of ``HH:MM`` US/Eastern on ``day``."""
    h, m = (int(x) for x in hhmm_et.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=ET).astimezone(UTC)
