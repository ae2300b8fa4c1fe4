"""Open interest and volume count only from their publication time (DataBento ts_recv) on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from feeds.catalog.chain import ChainProvider
from tests.support.memory_catalog import MemoryCatalog, synthetic_day

DAY = date(2024, 1, 3)
ET = ZoneInfo("America/New_York")


def at(hh: int, mm: int) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hh, mm, tzinfo=ET).astimezone(UTC)


def provider(oi: pd.DataFrame) -> tuple[ChainProvider, str]:
    bars, quotes = synthetic_day("SPY", DAY, strikes=(100.0,), expiries=(DAY,))
    cat = MemoryCatalog()
    cat.add_day("SPY", DAY, bars, quotes, oi=oi)
    return ChainProvider(cat, "SPY"), str(quotes["symbol"].iloc[0])


def oi_of(chain: ChainProvider, symbol: str, when: datetime) -> tuple[float, float, bool]:
    snap = chain.snapshot(when, 100.0)
    row = int(np.flatnonzero(snap.symbol == symbol)[0])
    return float(snap.open_interest[row]), float(snap.volume[row]), snap.oi_known


def test_a_value_published_after_the_close_is_invisible_that_day() -> None:
    rows = [(6, 30, 500.0, np.nan), (12, 0, 5000.0, np.nan), (17, 30, 9999.0, 777.0)]
    chain, sym = provider(_frame_for("SPY", rows))
    assert oi_of(chain, sym, at(10, 0))[0] == 500.0  # the previous session's, published before the open
    assert oi_of(chain, sym, at(12, 30))[0] == 5000.0  # in force from 12:00 on
    oi, volume, _ = oi_of(chain, sym, at(15, 59))
    assert oi == 5000.0 and np.isnan(volume)  # the 17:30 figures (end-of-day volume) never show


def test_nothing_is_known_before_the_first_publication() -> None:
    chain, sym = provider(_frame_for("SPY", [(11, 0, 800.0, 50.0)]))
    oi, volume, known = oi_of(chain, sym, at(10, 0))
    assert np.isnan(oi) and np.isnan(volume) and not known
    assert oi_of(chain, sym, at(11, 0))[:2] == (800.0, 50.0)


def _frame_for(underlying: str, rows: list[tuple[int, int, float, float]]) -> pd.DataFrame:
    _bars, quotes = synthetic_day(underlying, DAY, strikes=(100.0,), expiries=(DAY,))
    symbol = str(quotes["symbol"].iloc[0])
    return pd.DataFrame(
        {
            "symbol": [symbol] * len(rows),
            "open_interest": [r[2] for r in rows],
            "volume": [r[3] for r in rows],
            "published": pd.to_datetime([at(r[0], r[1]) for r in rows], utc=True),
        }
    )
