"""Live runs over the replay for the live core's tests: sample catalogs, a replay venue, a lockstep run,
and the journal checks every broker's end-to-end runs share."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.cerebro import cerebro_for
from brokers.live.store import LiveStore
from tests.support.replay_market import ReplayMarket
from tests.support.replay_venue import Lockstep, ReplayVenue

SPY_DAY = date(2024, 10, 29)  # EmaCloudScalp trades SPY at 11:47 ET on this day of the sample
TSLA_DAY = date(2024, 10, 30)  # MomentumBurstScalp trades TSLA at 10:12 and 11:05 ET (2 warm-up sessions)
FIRST = date(2024, 10, 28)  # the sample's first session: SPY_DAY's only warm-up session
# the replay's clock: bars and quotes are published synchronously with each step, so a minute
# without a bar is a gap as soon as the venue's clock reaches its close
FAST_CLOCK = dict(gap_grace_seconds=0.0, clock_poll_seconds=0.0, qcheck=0.2)
# a Market exit's marketable limit: as far below the bid as needed, so it fills at the next bid
# like the backtest's Market sell (the one-tick floor is the only bound)
ANY_BID = dict(exit_slippage_pct=1.0, exit_slippage_max=1e9)


def sample_catalog(tmp_path_factory: pytest.TempPathFactory, symbol: str, last: date) -> Path:
    from feeds.catalog import Catalog
    from feeds.synthetic.sample import ensure_sample

    catalog = Catalog(tmp_path_factory.mktemp(f"live-{symbol}") / "catalog")
    catalog.ingest(ensure_sample(progress=False), symbols=[symbol], start=FIRST, end=last, progress=False)
    return Path(catalog.root)


def replay(
    catalog: Path, symbol: str, day: date, end_et: str, warmup_days: int = 1, **kw: Any
) -> ReplayVenue:
    """A replay venue of ``day`` with ``warmup_days`` sessions of history (the catalog must hold them)."""
    return ReplayVenue(ReplayMarket(catalog, [symbol], day, warmup_days=warmup_days, end_et=end_et, **kw))


def live_run(
    venue: ReplayVenue, strategy: type, symbol: str, day: date, catalog: Path | None = None, **store_kw: Any
) -> tuple[Any, LiveStore]:
    """Run ``strategy`` live on ``venue`` in lockstep until the replay's end; return (strategy, store)."""
    params = {**ANY_BID, **store_kw}
    params.setdefault("clock_params", FAST_CLOCK)
    store = LiveStore(venue, catalog=None if catalog is None else str(catalog), **params)
    cerebro = cerebro_for(store, strategy, [symbol], fromdate=day, todate=day)
    strat = Lockstep(venue, cerebro).run()[0]
    return strat, store


def journal_rows(out: Path, model: type) -> list[Any]:
    """Every row of ``model``'s table in ``<out>/journal.sqlite`` (none before the file exists)."""
    from sqlalchemy import create_engine, select

    if not (out / "journal.sqlite").exists():
        return []  # reading would create it
    engine = create_engine(f"sqlite:///{out}/journal.sqlite")
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(model)))
    finally:
        engine.dispose()


def no_duplicate_orders(out: Path) -> None:
    """One row per execution, one ``submitted`` per client order id, every fill's order submitted."""
    from journal.models import LiveOrderRecord

    orders = journal_rows(out, LiveOrderRecord)
    fills = [o for o in orders if o.event in ("fill", "partial_fill")]
    assert len({o.execution_id for o in fills}) == len(fills)
    submitted = Counter(o.client_order_id for o in orders if o.event == "submitted")
    assert all(n == 1 for n in submitted.values()), submitted
    assert {o.client_order_id for o in fills} <= set(submitted)
