"""``run_live.py --broker alpaca`` against the fake Alpaca's scripted faults (issue 15).

Each test runs whole in-process sessions (the venue from the fake's ``APCA_*`` environment:
alpaca-py's real clients, real sockets) in lockstep with the fake's replay over a short window
around the 11:46 ema_cloud signal on SPY, scripts one hostile condition, and checks the journal:
nothing lost, nothing duplicated.
"""

from __future__ import annotations

import io
import time as _time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from app import cli
from app.live.limits import LiveLimits
from app.live.request import LiveRequest
from app.live.session import Harness, run
from brokers.alpaca.venue import venue_from_environment
from brokers.live.venue import OrderRequest
from journal.live import LiveJournal, OrderEventRow
from journal.models import HeartbeatRecord, LiveOrderRecord, OptionsScalpRecord, RunRecord
from tests.app.live.session_runs import StoppableLockstep, _When, interrupt_when_open
from tests.brokers.alpaca.test_run_live_e2e import NO_LIMITS, SOCKET_CLOCK, _Stepper
from tests.support.fake_alpaca import FakeAlpaca
from tests.support.live_runs import ANY_BID, SPY_DAY, journal_rows, no_duplicate_orders
from tests.support.replay_market import ReplayMarket

Action = Callable[[Any, Any], None]
BROKEN_PACE_S = 1.0


def _market(catalog: Path, start_et: str = "11:44", end_et: str = "11:58") -> ReplayMarket:
    return ReplayMarket(catalog, ["SPY"], SPY_DAY, warmup_days=1, start_et=start_et, end_et=end_et)


class _PacedLockstep(StoppableLockstep):
    """While the bar stream is broken, let each minute last ``BROKEN_PACE_S`` wall seconds.

    The plain lockstep moves the market on at once when nothing can arrive; the real sockets
    reconnect on wall time (backoff), so without a pace the replay would be over first.
    """

    _broken_since: float | None = None

    def _caught_up(self, target: Any) -> bool:
        clock = self._clock
        if clock is not None and not clock.haslivedata() and clock._laststatus == clock.CONNBROKEN:
            now = _time.monotonic()
            if self._broken_since is None:
                self._broken_since = now
            if now - self._broken_since < BROKEN_PACE_S:
                return False
            self._broken_since = None
        return super()._caught_up(target)


def _session(fake: FakeAlpaca, out: Path, *, on_bar: Action | None = None, **req: Any) -> tuple[int, str]:
    """One ema_cloud session on SPY against ``fake``, in lockstep with its replay."""

    def runner(venue: Any, cerebro: Any) -> Any:
        if on_bar is not None:
            cerebro.addanalyzer(_When, action=on_bar)
        return _PacedLockstep(_Stepper(fake), cerebro, timeout=30.0).run()  # type: ignore[arg-type]

    fields: dict[str, Any] = {"broker": "alpaca", "strategy": "ema_cloud", "symbols": ("SPY",), "out_dir": out,
                              "warmup_days": 1, "limits": NO_LIMITS, "data_timeout": 60.0}  # fmt: skip
    fields.update(req)
    console = io.StringIO()
    harness = Harness(runner=runner, store_options={"clock_params": SOCKET_CLOCK, **ANY_BID})
    code = run(LiveRequest(**fields), env=fake.env(), console=console, harness=harness)
    return code, console.getvalue()


def _orders(out: Path, run_id: str | None = None) -> list[Any]:
    rows = journal_rows(out, LiveOrderRecord)
    return [o for o in rows if run_id is None or o.run_id == run_id]


def _closed_scalps(out: Path) -> list[Any]:
    scalps = journal_rows(out, OptionsScalpRecord)
    assert scalps and all(s.status == "closed" and s.exit_premium is not None for s in scalps)
    return scalps


def test_restart_with_an_open_position_and_a_working_order_reconciles_without_a_duplicate(
    tmp_path: Path, spy_sample: Path
) -> None:
    market = _market(spy_sample, "11:44", "11:52")
    out = tmp_path / "out"
    with FakeAlpaca(market) as fake:
        code, console = _session(fake, out, on_bar=interrupt_when_open, exits_on_interrupt="keep")
        assert code == cli.EXIT_INTERRUPTED, console
        [first] = journal_rows(out, RunRecord)
        [row] = journal_rows(out, OptionsScalpRecord)
        assert row.status == "open"
        [held] = market.positions()
        assert (held.symbol, held.qty) == (row.option_symbol, row.contracts)
        # the first run also left a working exit order at the venue (sent over the real wire)
        coid = f"{first.run_id}-999"
        venue = venue_from_environment({}, fake.env())
        venue.connect()
        report = venue.submit(OrderRequest(coid, row.option_symbol, "sell", row.contracts, 99.0))
        journal = LiveJournal(f"sqlite:///{out}/journal.sqlite", first.run_id, "alpaca")
        journal.order_event(OrderEventRow(ts=market.now(), client_order_id=coid, option_symbol=row.option_symbol,
                                          side="sell", qty=row.contracts, event="submitted", role="exit",
                                          venue_order_id=report.venue_order_id, limit_price=99.0))  # fmt: skip
        journal.close()
        venue.close()
        market.end_utc = market.now() + timedelta(minutes=6)

        def flatten_adopted(strategy: Any, rt: Any) -> None:
            if row.option_symbol in rt.adopted:
                assert any(s.option_symbol == row.option_symbol for s in strategy.scalps.values())
                rt.interrupt.set()

        code, console = _session(fake, out, on_bar=flatten_adopted)
        assert code == cli.EXIT_INTERRUPTED, console
        assert f"cancelling working order {coid}" in console and f"adopted {row.option_symbol}" in console
        assert ("DELETE", f"/v2/orders/{report.venue_order_id}") in fake.requests
        positions, working = market.positions(), market.open_orders()
    second = next(r for r in journal_rows(out, RunRecord) if r.run_id != first.run_id)
    buys = [
        o for o in _orders(out, second.run_id) if o.side == "buy" and o.option_symbol == row.option_symbol
    ]
    assert buys == []  # no duplicate entry
    [after] = journal_rows(out, OptionsScalpRecord)
    assert after.id == row.id and after.status == "closed" and after.exit_premium is not None
    assert positions == [] and working == []
    no_duplicate_orders(out)


def _trades(
    tmp_path: Path, spy_sample: Path, script: Callable[[FakeAlpaca], None], end_et: str = "11:58", **req: Any
) -> tuple[Path, FakeAlpaca, int, str]:
    out = tmp_path / "out"
    with FakeAlpaca(_market(spy_sample, end_et=end_et)) as fake:
        script(fake)
        code, console = _session(fake, out, **req)
    return out, fake, code, console


def test_a_lost_submit_reply_is_found_again_by_client_order_id_and_never_resent(
    tmp_path: Path, spy_sample: Path
) -> None:
    out, fake, code, console = _trades(tmp_path, spy_sample, lambda f: f.faults.lose_next_reply())
    assert code == 0, console
    assert fake.faults.lose_replies == 0  # the fault fired
    entry = next(o for o in _orders(out) if o.role == "entry" and o.event == "submitted")
    assert ("GET", "/v2/orders:by_client_order_id") in fake.requests
    assert fake.requests.count(("POST", "/v2/orders")) == len({o.client_order_id for o in _orders(out)})
    assert any(o.client_order_id == entry.client_order_id and o.event == "fill" for o in _orders(out))
    [lost] = [o for o in _orders(out) if o.event == "lost"]
    assert lost.client_order_id == entry.client_order_id and lost.venue_order_id and lost.role == "entry"
    assert "not resent" in (lost.message or "")
    _closed_scalps(out)
    no_duplicate_orders(out)


def test_a_partial_then_full_fill_books_both_executions_once(tmp_path: Path, spy_sample: Path) -> None:
    def script(fake: FakeAlpaca) -> None:
        fake.faults.split_next_fill()

    out, fake, code, console = _trades(tmp_path, spy_sample, script)
    assert code == 0, console
    assert fake.faults.split_fills == 0
    orders = _orders(out)
    [partial] = [o for o in orders if o.event == "partial_fill"]
    [full] = [o for o in orders if o.event == "fill" and o.client_order_id == partial.client_order_id]
    assert partial.execution_id != full.execution_id
    [scalp] = _closed_scalps(out)
    assert partial.fill_qty + full.fill_qty == scalp.contracts
    no_duplicate_orders(out)


def test_a_rejected_order_is_journaled_with_the_venues_message_and_nothing_is_held(
    tmp_path: Path, spy_sample: Path
) -> None:
    out, fake, code, console = _trades(
        tmp_path, spy_sample, lambda f: f.faults.reject_next("insufficient buying power")
    )
    assert code == 0, console
    orders = _orders(out)
    [rejected] = [o for o in orders if o.event == "rejected"]
    assert "insufficient buying power" in (rejected.message or "")
    assert not any(
        o.client_order_id == rejected.client_order_id and o.event in ("fill", "partial_fill") for o in orders
    )
    assert all(s.status == "closed" for s in journal_rows(out, OptionsScalpRecord))
    assert fake.market.positions() == []
    no_duplicate_orders(out)


def test_the_daily_loss_stop_halts_and_no_order_follows(tmp_path: Path, spy_sample: Path) -> None:
    limits = LiveLimits(max_daily_loss=1.0, max_orders_per_minute=1000, max_open_scalps=100,
                        max_premium_per_order=1e9)  # fmt: skip
    out, fake, code, console = _trades(tmp_path, spy_sample, lambda f: None, "11:50", limits=limits)
    assert code == 0, console
    assert "limit hit: daily loss" in console and "HALTED" in console
    beats = journal_rows(out, HeartbeatRecord)
    halted_at = min(b.bar_time for b in beats if b.state == "HALTED")
    assert all(b.state == "HALTED" for b in beats if b.bar_time >= halted_at)
    assert [o for o in _orders(out) if o.event == "submitted" and o.ts > halted_at] == []
    # HALTED is cancels only: nothing works at the venue, and what is still held is journaled as open
    assert fake.market.open_orders() == []
    held = sorted((p.symbol, p.qty) for p in fake.market.positions())
    journaled = sorted(
        (s.option_symbol, s.contracts) for s in journal_rows(out, OptionsScalpRecord) if s.status == "open"
    )
    assert held == journaled
    no_duplicate_orders(out)


def test_a_dropped_bar_socket_mid_position_reconnects_backfills_and_closes_the_scalp_once(
    tmp_path: Path, spy_sample: Path
) -> None:
    holder: list[FakeAlpaca] = []
    dropped: list[Any] = []

    def drop_when_open(strategy: Any, rt: Any) -> None:
        if not dropped and any(s.open_qty > 0 for s in strategy.scalps.values()):
            dropped.append(rt.venue_now())
            holder[0].faults.drop_bars_after(1, refuse_minutes=1)

    out, fake, code, console = _trades(tmp_path, spy_sample, holder.append, on_bar=drop_when_open)
    assert code == 0, console
    assert dropped and fake.faults.drop_in is None  # the socket was dropped while a scalp was open
    lines = console.splitlines()
    down = next(i for i, line in enumerate(lines) if line.startswith("REDUCING: bars stream down"))
    back = next(i for i, line in enumerate(lines) if line == "ACTIVE: reconnected, backfilled and reconciled")
    assert down < back
    [scalp] = _closed_scalps(out)
    exits = [o for o in _orders(out) if o.role == "exit" and o.event in ("fill", "partial_fill")]
    assert sum(o.fill_qty for o in exits) == scalp.contracts
    assert fake.market.positions() == []
    no_duplicate_orders(out)


def _fail_once_live(status: int, path: str) -> tuple[list[FakeAlpaca], Action]:
    """(holder for the fake, an on_bar action): fail the next REST call to ``path`` once the session is LIVE."""
    holder: list[FakeAlpaca] = []

    def once_live(strategy: Any, rt: Any) -> None:
        if len(holder) == 1 and rt.data_state == "LIVE":  # after start-up: a mid-session failure
            holder.append(holder[0])
            holder[0].faults.error_next(status, path)

    return holder, once_live


def test_a_rest_429_on_the_entry_is_retried_without_a_duplicate(tmp_path: Path, spy_sample: Path) -> None:
    holder, once_live = _fail_once_live(429, "/v2/orders")
    out, fake, code, console = _trades(tmp_path, spy_sample, holder.append, on_bar=once_live)
    assert code == 0, console
    assert len(holder) == 2 and fake.faults.errors == []  # it fired
    _closed_scalps(out)
    assert fake.market.positions() == [] and fake.market.open_orders() == []
    no_duplicate_orders(out)


def test_a_rest_5xx_on_the_chain_costs_that_minute_not_the_session(tmp_path: Path, spy_sample: Path) -> None:
    """Found by this test: one 500 on the chain snapshot raised out of Cerebro and ended the run."""
    holder, once_live = _fail_once_live(500, "/v1beta1/options/snapshots")
    out, fake, code, console = _trades(tmp_path, spy_sample, holder.append, "11:50", on_bar=once_live)
    assert code == 0, console
    assert len(holder) == 2 and fake.faults.errors == []  # it fired
    [run_row] = journal_rows(out, RunRecord)
    assert run_row.status == "finished"
    held = sorted((p.symbol, p.qty) for p in fake.market.positions())
    journaled = sorted(
        (s.option_symbol, s.contracts) for s in journal_rows(out, OptionsScalpRecord) if s.status == "open"
    )
    assert held == journaled and fake.market.open_orders() == []
    no_duplicate_orders(out)
