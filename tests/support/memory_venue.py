"""A venue that is not the catalog: in-memory clock, chain and contract feeds implementing the ports.

It proves the seam (a strategy runs unchanged on any store) and is the shape a live
store's data side takes: ``MemoryStore`` hands out ``getdata`` / ``getmacro`` /
``getcontracts`` / ``getbroker`` like ``brokers.backtest.store.BacktestStore``, but
nothing here reads a catalog or uses the backtest's feeds or quote broker: the clock
is Backtrader's own ``PandasData``, the chain a dict of minute frames, the contract
feeds a plain ``DataBase``, the broker Backtrader's ``BackBroker`` (market orders at
the next bar's open, which is the mid here).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import backtrader as bt
import numpy as np
import pandas as pd

from brokers.commission import OptionCommInfo
from options_scalper.model import ChainSnapshot
from options_scalper.quotes import ContractSpec, Quote

NAN = float("nan")


class MemoryChain:
    """``ChainSource`` over quote frames (catalog columns, ``ts`` = minute end, aware UTC)."""

    def __init__(self, symbol: str, quotes: pd.DataFrame) -> None:
        self.symbol = symbol
        q = quotes.sort_values(["ts", "symbol"], kind="stable").reset_index(drop=True)
        self._minutes: dict[datetime, pd.DataFrame] = {
            pd.Timestamp(ts).to_pydatetime(): g.reset_index(drop=True) for ts, g in q.groupby("ts", sort=True)
        }
        self.snapshots = 0

    def _rows(self, ts: datetime | int) -> pd.DataFrame | None:
        when = ts if isinstance(ts, datetime) else pd.Timestamp(ts, tz="UTC").to_pydatetime()
        return self._minutes.get(when)

    def snapshot(self, ts_utc: datetime, underlying_price: float, half_day: bool = False) -> ChainSnapshot:
        self.snapshots += 1
        g = self._rows(ts_utc)
        if g is None:
            g = pd.DataFrame({c: [] for c in ("symbol", "expiry", "option_type", "strike")})
        n = len(g)
        f64 = {
            c: g[c].to_numpy(np.float64) if n else np.empty(0)
            for c in ("strike", "bid_px", "ask_px", "bid_sz", "ask_sz", "quote_age_min")
        }
        return ChainSnapshot(
            underlying=self.symbol,
            ts=ts_utc,
            underlying_price=float(underlying_price),
            symbol=g["symbol"].to_numpy(object),
            expiry=pd.to_datetime(g["expiry"]).to_numpy("datetime64[D]")
            if n
            else np.empty(0, "datetime64[D]"),
            is_call=(g["option_type"] == "C").to_numpy(bool),
            strike=f64["strike"],
            bid=f64["bid_px"],
            ask=f64["ask_px"],
            bid_size=f64["bid_sz"],
            ask_size=f64["ask_sz"],
            quote_age_min=f64["quote_age_min"],
            open_interest=np.full(n, np.nan),
            volume=np.full(n, np.nan),
            half_day=half_day,
        )

    def quote(self, option_symbol: str, ts: datetime | int) -> Quote | None:
        g = self._rows(ts)
        if g is None:
            return None
        row = g[g["symbol"] == option_symbol]
        if not len(row):
            return None
        r = row.iloc[0]
        return Quote(
            float(r["bid_px"]),
            float(r["ask_px"]),
            float(r["bid_sz"]),
            float(r["ask_sz"]),
            float(r["quote_age_min"]),
        )

    def iv_history(self, day: date) -> list[float]:
        return []


class MemoryClock(bt.feeds.PandasData):
    """The clock: Backtrader's own pandas feed (index = naive UTC bar-close stamps) carrying its chain."""

    def __init__(self, symbol: str = "", chain: MemoryChain | None = None) -> None:
        super().__init__()
        self.symbol = symbol
        self.chain = chain
        first = self.p.dataname.index[0]
        self.trading_start_num = float(bt.date2num(first.to_pydatetime()))


class MemoryContractFeed(bt.feed.DataBase):
    """A contract feed with a bar on every clock stamp: NaN while free, the bound contract's quote after."""

    lines = ("bid", "ask", "bidsize", "asksize", "quoteage")

    def __init__(
        self, symbol: str = "", chain: MemoryChain | None = None, stamps: Sequence[datetime] = ()
    ) -> None:
        super().__init__()
        self.symbol = symbol
        self.source = chain
        self.stamps = list(stamps)  # naive UTC
        self.spec: ContractSpec | None = None
        self.owner: Any = None
        self._active: ContractSpec | None = None
        self._i = 0

    @property
    def bound(self) -> bool:
        return self.spec is not None

    @property
    def streaming(self) -> ContractSpec | None:
        return self._active

    def bind(self, spec: ContractSpec, owner: Any = None) -> None:
        self.spec, self.owner = spec, owner

    def release(self) -> None:
        self.spec, self.owner = None, None

    def start(self) -> None:
        super().start()
        self._i = 0

    def _load(self) -> bool:
        if self._i >= len(self.stamps):
            return False
        stamp = self.stamps[self._i]
        self._i += 1
        ln: Any = self.lines
        ln.datetime[0] = bt.date2num(stamp)
        spec = self._active = self.spec
        q = (
            None
            if spec is None or self.source is None
            else self.source.quote(spec.option_symbol, stamp.replace(tzinfo=UTC))
        )
        bid, ask, bsz, asz, age = (NAN,) * 5 if q is None else q
        mid = (bid + ask) / 2.0 if bid > 0 and ask > 0 else NAN
        ln.open[0] = ln.high[0] = ln.low[0] = ln.close[0] = mid
        ln.volume[0] = ln.openinterest[0] = 0.0
        ln.bid[0], ln.ask[0], ln.bidsize[0], ln.asksize[0], ln.quoteage[0] = bid, ask, bsz, asz, age
        return True


class MemoryStore:
    """A store over in-memory (bars, quotes) frames per symbol: the same four calls as ``BacktestStore``."""

    def __init__(
        self, days: dict[str, Sequence[tuple[pd.DataFrame, pd.DataFrame]]], cash: float = 20_000.0
    ) -> None:
        self.cash = cash
        self._bars: dict[str, pd.DataFrame] = {}
        self._chains: dict[str, MemoryChain] = {}
        for symbol, frames in days.items():
            bars = pd.concat([b for b, _ in frames], ignore_index=True)
            quotes = pd.concat([q for _, q in frames], ignore_index=True)
            close = pd.to_datetime(bars["ts"], utc=True) + pd.Timedelta(minutes=1)  # bar stamped at its close
            frame = bars[["open", "high", "low", "close", "volume"]].copy()
            frame.index = pd.DatetimeIndex(close.dt.tz_localize(None), name="datetime")
            frame["openinterest"] = 0.0
            self._bars[symbol] = frame
            self._chains[symbol] = MemoryChain(symbol, quotes)

    def chain(self, symbol: str) -> MemoryChain:
        return self._chains[symbol]

    def getdata(
        self, symbol: str, fromdate: date | None = None, todate: date | None = None, warmup_days: int = 0
    ) -> MemoryClock:
        return MemoryClock(dataname=self._bars[symbol], symbol=symbol, chain=self._chains[symbol])

    def getmacro(self, clock: MemoryClock, minutes: int) -> None:
        return None  # let Backtrader's resampler build the macro view

    def getcontracts(self, clock: MemoryClock, n: int) -> list[MemoryContractFeed]:
        stamps = [ts.to_pydatetime() for ts in clock.p.dataname.index]
        return [
            MemoryContractFeed(
                name=f"{clock.symbol}_opt{i}", symbol=clock.symbol, chain=clock.chain, stamps=stamps
            )
            for i in range(n)
        ]

    def getbroker(self) -> bt.brokers.BackBroker:
        broker = bt.brokers.BackBroker()
        broker.setcash(self.cash)
        broker.addcommissioninfo(OptionCommInfo())
        return broker
