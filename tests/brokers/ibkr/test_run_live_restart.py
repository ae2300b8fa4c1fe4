"""``run_live.py --broker ibkr`` restarted on the same fake TWS account: reconciliation through the TWS protocol.

The first session (client id 21) trades the sample's 11:47 ET ema_cloud scalp on SPY and is
killed (SIGKILL: nothing winds down) while it holds the scalp and its exit order is working at
the fake. Someone also bought a put by hand in TWS. A second session on the same account and
client id reconciles before trading: it adopts the journal's scalp and manages its exit, finds
the first run's working exit again (IB's open orders) and cancels it instead of inheriting or
resending it, reports the put and never trades it; meanwhile a third ``run_live.py`` (another
client id) is refused by the account lock and the second runs on undisturbed. A restart whose
journal and account disagree fails closed: no new entries, one line.

The fake records every ``placeOrder``: counts and orderRefs prove nothing was sent twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app import cli
from brokers.ibkr import ibapi
from journal.models import LiveOrderRecord, OptionsScalpRecord, RunRecord
from tests.support.fake_tws import ACCOUNT, FakeTWS
from tests.support.fake_tws.runs import LiveProcess
from tests.support.live_runs import SPY_DAY, journal_rows, no_duplicate_orders, sample_catalog
from tests.support.replay_market import ReplayMarket

UNKNOWN = "SPY241029P00590000"  # a put bought by hand in TWS: no order of ours, no journal row


@pytest.fixture(scope="module")
def spy_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_catalog(tmp_path_factory, "SPY", SPY_DAY)


@pytest.fixture
def fake(spy_sample: Path) -> Any:
    market = ReplayMarket(spy_sample, ["SPY"], SPY_DAY, warmup_days=1, start_et="11:38", end_et="12:10")
    f = FakeTWS(market).start()
    yield f
    f.stop()


def _open_scalps(out: Path) -> list[Any]:
    try:
        return [s for s in journal_rows(out, OptionsScalpRecord) if s.status == "open"]
    except Exception:  # the schema is being created
        return []


def _kill_with_a_working_exit(fake: FakeTWS, out: Path, catalog: Path) -> tuple[Any, Any]:
    """Run the first session until its scalp is held and its exit order works at the fake; SIGKILL it.

    Returns (the journal's open scalp, the order).
    """
    first = LiveProcess(fake, out, catalog)
    try:
        first.wait_live()
        order = first.step_until_an_exit_works()
        first.kill()
    finally:
        first.close()
    assert first.proc.returncode == -9
    [row] = _open_scalps(out)
    assert (order.contract.occ, int(order.qty)) == (row.option_symbol, row.contracts)
    assert [(p.symbol, p.qty) for p in fake.market.positions()] == [(row.option_symbol, row.contracts)]
    return row, order


def test_a_restart_adopts_the_scalp_cancels_the_killed_runs_working_exit_and_never_trades_an_unknown_position(
    fake: FakeTWS, spy_sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    row, old_exit = _kill_with_a_working_exit(fake, out, spy_sample)
    [first_run] = journal_rows(out, RunRecord)
    first_refs = [o.order_ref for o in fake.placed()]
    assert len(first_refs) == 2 and first_refs[1] == old_exit.order_ref  # the entry, then the exit
    fake.hold(UNKNOWN, 3, 1.00)

    second = LiveProcess(fake, out, spy_sample)
    try:
        second.wait_live()
        # a third run_live.py on the account (another client id) is refused by the lock beside the journal
        third = LiveProcess(fake, out, spy_sample, client_id=22)
        assert third.wait(60) == cli.EXIT_ACCOUNT_LOCKED, third.stderr
        assert third.stderr.startswith("error: another run_live.py is trading this account")
        assert f"pid {second.proc.pid}" in third.stderr and len(third.stderr.strip().splitlines()) == 1
        assert "Traceback" not in third.stderr
        # the second runs on undisturbed: the adopted scalp's own exit closes it
        second.step_until(
            lambda: any(s.status == "closed" for s in journal_rows(out, OptionsScalpRecord)),
            what="the adopted scalp's exit",
        )
        code = second.interrupt()
    finally:
        second.close()
    assert code == cli.EXIT_INTERRUPTED, second.stderr
    console = second.stdout
    assert second.libraries() == {ibapi.LIBRARY}  # the pass's client library (ib_async or ib_insync)
    assert "Traceback" not in second.stderr
    assert f"adopted {row.option_symbol} x{row.contracts}" in console
    assert f"managing adopted {row.option_symbol}" in console
    assert f"cancelling working order {old_exit.order_ref}" in console
    assert f"unknown position {UNKNOWN} x3" in console and "never traded against" in console
    assert "mismatch" not in console
    second_run = next(r for r in journal_rows(out, RunRecord) if r.run_id != first_run.run_id)
    assert second_run.status == "interrupted"
    assert len(journal_rows(out, RunRecord)) == 2  # the refused third wrote none

    # at the fake: the old exit found again and cancelled (sent once, never resent), one new exit
    placed = fake.placed()
    assert Counter(o.order_ref for o in placed).most_common(1)[0][1] == 1  # no orderRef sent twice
    assert len(fake.requests(3)) == len(placed)  # every placeOrder that reached the fake
    assert {o.client_id for o in placed} == {21}  # the refused third (client id 22) sent nothing
    old = next(o for o in placed if o.order_ref == old_exit.order_ref)
    assert old.status == "Cancelled" and old.filled == 0
    # no entry: the adopted scalp's exit only (a marketable limit the bid left behind is cancelled and
    # re-priced under a new orderRef, one at a time), filled once
    new = [o for o in placed if o.order_ref.startswith(second_run.run_id)]
    assert {(o.action, o.contract.occ, int(o.qty)) for o in new} == {
        ("SELL", row.option_symbol, row.contracts)
    }
    assert [o.status for o in new] == ["Cancelled"] * (len(new) - 1) + ["Filled"]
    assert sum(o.filled for o in new) == row.contracts
    assert all(o.contract.occ != UNKNOWN for o in placed)
    assert [(p.symbol, p.qty) for p in fake.market.positions()] == [(UNKNOWN, 3)]  # never traded

    # the journal: the same row closed by the second run, every order event once
    [after] = journal_rows(out, OptionsScalpRecord)
    assert after.id == row.id and after.status == "closed" and after.exit_premium is not None
    events = {(o.client_order_id, o.event) for o in journal_rows(out, LiveOrderRecord)}
    assert (old_exit.order_ref, "canceled") in events
    assert (new[-1].order_ref, "fill") in events
    no_duplicate_orders(out)


def _earlier_run_left_open(out: Path, symbol: str, contracts: int, premium: float) -> str:
    """A journal in which an earlier (killed) run of this account holds ``symbol`` x``contracts``."""
    from journal.live import LiveJournal, OpenScalpRow, OrderEventRow
    from journal.writer import RunEntry
    from options_scalper.occ import parse_occ

    run_id, occ = "20241029T143000Z-0killed0", parse_occ(symbol)
    entry_time = datetime(2024, 10, 29, 14, 31, tzinfo=UTC)
    out.mkdir(parents=True)
    journal = LiveJournal(f"sqlite:///{out}/journal.sqlite", run_id, "ibkr")
    try:
        journal.start_run(RunEntry(run_id=run_id, strategy="ema_cloud", symbols=("SPY",), start=SPY_DAY,
                                   end=SPY_DAY), "paper", ACCOUNT)  # fmt: skip
        for event in ("submitted", "fill"):
            journal.order_event(OrderEventRow(
                ts=entry_time, client_order_id=f"{run_id}-1", option_symbol=symbol, side="buy", qty=contracts,
                event=event, role="entry", venue_order_id="1000001", limit_price=premium,
                fill_qty=contracts if event == "fill" else None, fill_price=premium if event == "fill" else None,
                execution_id="0001.01" if event == "fill" else None,
            ))  # fmt: skip
        journal.open_scalp(OpenScalpRow(
            signal_id="ema_cloud-SPY-20241029T1030", ticker="SPY", option_symbol=symbol, option_type="call",
            strike=float(occ.strike), expiry=occ.expiry, dte=0, direction="long_call", contracts=contracts,
            entry_premium=premium, entry_time=entry_time, order_id=f"{run_id}-1",
        ))  # fmt: skip
    finally:
        journal.close()
    return run_id


def test_a_restart_on_an_account_that_disagrees_with_the_journal_fails_closed(
    spy_sample: Path, tmp_path: Path
) -> None:
    """The journal says x5, the account holds x4 (one sold by hand): one line, REDUCING, the 11:46 entry refused."""
    out, symbol = tmp_path / "out", "SPY241029C00595000"
    _earlier_run_left_open(out, symbol, 5, 0.30)
    market = ReplayMarket(spy_sample, ["SPY"], SPY_DAY, warmup_days=1, start_et="11:38", end_et="11:50")
    fake = FakeTWS(market).start()
    fake.hold(symbol, 4, 0.30)
    run = LiveProcess(fake, out, spy_sample)
    try:
        run.wait_live()
        run.step_until(lambda: market.now() >= market.end_utc, what="the replay's end")
        code = run.interrupt()
    finally:
        run.close()
        fake.stop()
    assert code == cli.EXIT_INTERRUPTED, run.stderr
    console = run.stdout
    assert run.libraries() == {ibapi.LIBRARY}
    assert [line for line in console.splitlines() if line.startswith("reconciliation mismatch")] == [
        f"reconciliation mismatch: the journal has {symbol} x5 open but the broker holds x4; "
        "settle the difference by hand, then restart"
    ]
    assert "REDUCING: start-up reconciliation mismatch: no new entries this run" in console
    assert "REDUCING: no entry orders" in console  # the 11:46 signal's entry was refused, said once
    assert "adopted" not in console and "Traceback" not in run.stderr
    assert fake.requests(3) == []  # nothing was sent: no entry, and the held contract never traded
    assert [(p.symbol, p.qty) for p in market.positions()] == [(symbol, 4)]
    [still] = journal_rows(out, OptionsScalpRecord)
    assert still.status == "open" and still.contracts == 5  # nothing guessed: the row waits for a human
    no_duplicate_orders(out)
