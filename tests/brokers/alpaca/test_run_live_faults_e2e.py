"""``run_live.py --broker alpaca`` against the fake Alpaca's scripted faults (issue 15).

Each test runs whole in-process sessions (the venue from the fake's ``APCA_*`` environment:
alpaca-py's real clients, real sockets) in lockstep with the fake's replay over a short window
around the 11:46 ema_cloud signal on SPY, scripts one hostile condition, and checks the journal:
nothing lost, nothing duplicated.
"""

from __future__ import annotations

import io
from collections import Counter
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
from journal.models import LiveOrderRecord, OptionsScalpRecord, RunRecord
from tests.app.live.session_runs import StoppableLockstep, _When, interrupt_when_open
from tests.brokers.alpaca.test_run_live_e2e import NO_LIMITS, SOCKET_CLOCK, _rows, _Stepper
from tests.support.fake_alpaca import FakeAlpaca
from tests.support.live_runs import ANY_BID, SPY_DAY
from tests.support.replay_market import ReplayMarket

Action = Callable[[Any, Any], None]


def _market(catalog: Path, start_et: str = "11:44", end_et: str = "11:58") -> ReplayMarket:
    return ReplayMarket(catalog, ["SPY"], SPY_DAY, warmup_days=1, start_et=start_et, end_et=end_et)


def _session(fake: FakeAlpaca, out: Path, *, on_bar: Action | None = None, **req: Any) -> tuple[int, str]:
    """One ema_cloud session on SPY against ``fake``, in lockstep with its replay."""

    def runner(venue: Any, cerebro: Any) -> Any:
        if on_bar is not None:
            cerebro.addanalyzer(_When, action=on_bar)
        return StoppableLockstep(_Stepper(fake), cerebro, timeout=30.0).run()  # type: ignore[arg-type]

    fields: dict[str, Any] = {"broker": "alpaca", "strategy": "ema_cloud", "symbols": ("SPY",), "out_dir": out,
                              "warmup_days": 1, "limits": NO_LIMITS, "data_timeout": 60.0}  # fmt: skip
    fields.update(req)
    console = io.StringIO()
    harness = Harness(runner=runner, store_options={"clock_params": SOCKET_CLOCK, **ANY_BID})
    code = run(LiveRequest(**fields), env=fake.env(), console=console, harness=harness)
    return code, console.getvalue()


def _orders(out: Path, run_id: str | None = None) -> list[Any]:
    rows = _rows(out, LiveOrderRecord)
    return [o for o in rows if run_id is None or o.run_id == run_id]


def _no_duplicates(out: Path) -> None:
    """One row per execution, one ``submitted`` per client order id, every fill's order submitted."""
    orders = _orders(out)
    fills = [o for o in orders if o.event in ("fill", "partial_fill")]
    assert len({o.execution_id for o in fills}) == len(fills)
    submitted = Counter(o.client_order_id for o in orders if o.event == "submitted")
    assert all(n == 1 for n in submitted.values()), submitted
    assert {o.client_order_id for o in fills} <= set(submitted)


def _closed_scalps(out: Path) -> list[Any]:
    scalps = _rows(out, OptionsScalpRecord)
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
        [first] = _rows(out, RunRecord)
        [row] = _rows(out, OptionsScalpRecord)
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
    second = next(r for r in _rows(out, RunRecord) if r.run_id != first.run_id)
    buys = [o for o in _orders(out, second.run_id) if o.side == "buy" and o.option_symbol == row.option_symbol]
    assert buys == []  # no duplicate entry
    [after] = _rows(out, OptionsScalpRecord)
    assert after.id == row.id and after.status == "closed" and after.exit_premium is not None
    assert positions == [] and working == []
    _no_duplicates(out)
