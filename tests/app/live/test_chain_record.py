"""The runtime's chain recording (``LiveRuntime.on_chain``, the live chain's listener) on a real ``LiveChain``
over the replay venue: a snapshot it cannot record is logged and skipped, the strategy still decides on it,
and the next minute is recorded and written (with the account the strategy had)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

from app.live.limits import LiveLimits, OrderGate
from app.live.logs import LiveLog
from app.live.runtime import LiveRuntime, RunSettings
from app.live.states import TradingStates
from brokers.live.chain import LiveChain
from brokers.live.venue import OptionQuote
from journal.live import LiveJournal
from journal.live_read import chain_minutes, recorded_chain
from journal.writer import RunEntry
from options_scalper.calendar import is_half_day
from options_scalper.model import AccountState, Direction, Signal
from options_scalper.scalper import OptionsScalper, OrderIntent
from strategies import registry
from tests.app.live.conftest import SPY_DAY, spy_catalog  # noqa: F401 (the session-scoped catalog fixture)
from tests.app.live.session_runs import market
from tests.support.replay_venue import ReplayVenue


class QuoteTimesLost(LiveChain):
    """A chain whose venue quotes (kept for the journal's metadata only) cannot be read back while ``lost``."""

    lost = False

    def venue_quote(self, option_symbol: str) -> OptionQuote | None:
        if self.lost:
            raise KeyError(f"{option_symbol}: the venue's quote is gone")
        return super().venue_quote(option_symbol)


class Account:
    """What the runtime reads of the strategy: its account, its books and open scalps (none here)."""

    def __init__(self) -> None:
        self.books: dict[str, object] = {}
        self.scalps: dict[object, object] = {}

    def account_state(self) -> AccountState:
        return AccountState(equity=61_000.0, cash=58_500.0, open_scalps=0, scalps_today=2)


def runtime(tmp_path: Path) -> tuple[LiveRuntime, Path]:
    states = TradingStates()
    log_path = tmp_path / "live.log"
    journal = LiveJournal(f"sqlite:///{tmp_path}/journal.sqlite", "20241029T154700Z-0000c4a1", "alpaca")
    journal.start_run(RunEntry(run_id=journal.run_id, strategy="ema_cloud"), "paper", "PA1")
    settings = RunSettings(
        broker="alpaca",
        account="PA1",
        mode="paper",
        run_id=journal.run_id,
        out_dir=tmp_path,
        symbols=("SPY",),
    )
    log = LiveLog(log_path, console=io.StringIO())
    return LiveRuntime(settings, states, OrderGate(LiveLimits(), states), log, journal), log_path


def test_on_chain_logs_and_skips_a_snapshot_it_cannot_record_and_the_strategy_still_decides(
    tmp_path: Path,
    spy_catalog: Path,  # noqa: F811
) -> None:
    rt, log_path = runtime(tmp_path)
    rt.strategy = Account()
    mkt = market(spy_catalog, SPY_DAY, "11:47", "11:50")
    chain = QuoteTimesLost(ReplayVenue(mkt), "SPY", listener=rt.on_chain)
    now, price = mkt.now(), mkt.last_price("SPY")

    chain.lost = True
    served = chain.snapshot(now, price, half_day=is_half_day(now))
    assert len(served) > 0 and chain.calls == 1
    assert rt.chains == {}  # skipped
    [warning] = [json.loads(line) for line in log_path.read_text().splitlines() if '"chain_record"' in line]
    assert warning["level"] == "warning" and warning["symbol"] == "SPY"
    assert "the venue's quote is gone" in warning["message"]
    # the strategy's pipeline decides on the snapshot it was served, as if nothing had happened
    config = registry.load_config_class("ema_cloud")()
    signal = Signal(
        "ema_cloud-SPY-test", "SPY", now, Direction.BULLISH, 80, "cloud_flip", underlying_price=price
    )
    decided = OptionsScalper(config).process_signal(
        signal, served, AccountState(equity=61_000.0, cash=58_500.0)
    )
    assert isinstance(decided, OrderIntent) and decided.quantity > 0
    assert decided.option_symbol in set(served.symbol)

    chain.lost = False
    mkt.step()
    later = mkt.now()
    assert later == now + timedelta(minutes=1)
    recorded_served = chain.snapshot(later, mkt.last_price("SPY"))
    assert list(rt.chains) == [("SPY", later)]
    rt.flush_chains()
    assert rt.chains == {}
    engine = rt.journal.engine  # type: ignore[union-attr]
    assert chain_minutes(engine, rt.settings.run_id) == [("SPY", later)]
    assert recorded_chain(engine, rt.settings.run_id, "SPY", now) is None
    back = recorded_chain(engine, rt.settings.run_id, "SPY", later)
    assert back is not None and list(back.snapshot.symbol) == list(recorded_served.symbol)
    assert back.account == Account().account_state() and back.signals == ()
    assert all(t is not None and t <= later for t in back.quote_time)
