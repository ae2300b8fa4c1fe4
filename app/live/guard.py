"""``LiveGuard``: the Backtrader analyzer that enforces the runtime's rules on the running strategy.

Attached to the live Cerebro (no change to ``strategies/``). On every bar, venue time:

* the kill switch (``<out>/KILL``, ``SIGUSR1``) and Ctrl-C: working entries cancelled,
  then (``--exits-on-interrupt flatten``) every scalp closed through the strategy's own
  ``close_scalp``, or (``keep``, and whenever HALTED: no exit may be sent) every working
  order cancelled and positions left for the next run to adopt; the run stops once that
  is done (``LiveRuntime.wound_down``);
* HALTED: every working order cancelled (cancels only), except that a 0DTE is still
  closed at the expiry-safety time (left open, the broker would liquidate or exercise it);
* expiry safety: a 0DTE still open at ``app.live.expiry.flat_by`` is closed with
  ``ExitReason.ZERO_DTE_CUTOFF``;
* the daily-loss limit on realized + open P&L at the bid;
* once a minute the status line and the heartbeat (with the chain snapshots the strategy was
  served that minute); the session's end stops the run.

Fills and closes go to the journal as the strategy books them: a scalp's row opens on
its first entry fill and closes with its ``ClosedScalp``.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import backtrader as bt
import numpy as np

from analyzers.scalp_analyzers import ClosedScalpReader
from app.live.expiry import flat_by, is_zero_dte
from app.live.runtime import LiveRuntime
from app.live.states import Cause, TradingState
from app.live.status import ScalpView
from journal.live import OpenScalpRow
from options_scalper.calendar import session_open_close
from options_scalper.constants import CONTRACT_MULTIPLIER
from options_scalper.greeks import bs_greeks, implied_vol, time_to_expiry_years
from options_scalper.model import ExitReason
from options_scalper.occ import parse_occ, settlement_of_root
from options_scalper.ports import ClockFeed
from strategies.bartime import BarTimes


def scalp_view(scalp: Any) -> ScalpView:
    qty = int(scalp.open_qty)
    entry, bid = float(scalp.entry_premium), float(scalp.last_bid)
    pnl = (bid - entry) * qty * CONTRACT_MULTIPLIER if qty and not math.isnan(bid) else math.nan
    return ScalpView(scalp.option_symbol, qty, entry, bid, pnl)


def greeks_now(scalp: Any, now: datetime, spot: float, config: Any) -> tuple[float | None, ...]:
    """(delta, theta per day, IV) of the scalp's contract now: ours, the selector's BSM on the mid."""
    bid, ask = float(scalp.last_bid), float(scalp.last_ask)
    if not (bid > 0 and ask > 0 and spot > 0):
        return None, None, None
    settlement = settlement_of_root(parse_occ(scalp.option_symbol).root)
    t = time_to_expiry_years(now, scalp.intent.expiry, settlement)
    r = float(getattr(config, "risk_free_rate", 0.0) or 0.0)
    q = float(getattr(config, "dividend_yield", 0.0) or 0.0)
    call = scalp.intent.right.word == "call"
    iv = implied_vol((bid + ask) / 2.0, spot, float(scalp.intent.strike), t, r, q, call)
    g = bs_greeks(spot, float(scalp.intent.strike), t, r, q, iv, call)
    values = tuple(float(np.ravel(x)[0]) for x in (g.delta, g.theta_per_day, iv))
    return tuple(None if math.isnan(v) else v for v in values)


def heartbeat_scalp(
    scalp: Any, view: ScalpView, cutoff: datetime | None, now_greeks: tuple[float | None, ...] = (None,) * 3
) -> dict[str, Any]:
    """One open scalp as ``live_heartbeats.open_scalps_json`` documents it."""
    intent, sel = scalp.intent, scalp.intent.selection
    delta_now, theta_now, iv_now = now_greeks
    return {
        "ticker": str(intent.ticker), "option_symbol": view.option_symbol, "option_type": intent.right.word,
        "strike": float(intent.strike), "expiry": intent.expiry.isoformat(), "contracts": view.contracts,
        "entry_premium": view.entry_premium,
        "entry_time": (scalp.entry_time or scalp.opened_at).isoformat(),
        "bid": view.bid, "ask": float(scalp.last_ask), "pnl": view.pnl, "pnl_pct": view.pnl_pct,
        "delta_entry": float(sel.delta), "theta_entry": float(sel.theta), "iv_entry": float(sel.iv),
        "delta_now": delta_now, "theta_now": theta_now, "iv_now": iv_now,
        "cutoff": cutoff.isoformat() if cutoff else None,
    }  # fmt: skip


def venue_greeks(scalp: Any) -> dict[str, float | None] | None:
    """The venue's own greeks of the contract at entry (recorded; ours decided), None without them."""
    chain = getattr(getattr(getattr(scalp, "book", None), "clock", None), "chain", None)
    lookup = getattr(chain, "venue_quote", None)
    quote = lookup(scalp.option_symbol) if lookup is not None else None
    if quote is None:
        return None
    return {k: getattr(quote, k) for k in ("delta", "gamma", "theta", "vega", "iv")}


def open_row(scalp: Any, run_order: str = "") -> OpenScalpRow:
    intent, sel = scalp.intent, scalp.intent.selection
    return OpenScalpRow(
        signal_id=str(intent.signal_id), ticker=str(intent.ticker), option_symbol=scalp.option_symbol,
        option_type=intent.right.word, strike=float(intent.strike), expiry=intent.expiry, dte=int(intent.dte),
        direction=intent.direction.position_direction, contracts=int(scalp.bought),
        entry_premium=float(scalp.entry_premium), entry_time=scalp.entry_time or scalp.opened_at,
        entry_delta=float(sel.delta), entry_theta=float(sel.theta), entry_iv=float(sel.iv), order_id=run_order,
        metadata={"trigger": scalp.signal.trigger, "conviction": int(intent.conviction),
                  "decision_ask": float(sel.ask), "venue_greeks": venue_greeks(scalp)},
    )  # fmt: skip


class LiveGuard(bt.Analyzer):
    params = (("runtime", None),)

    def start(self) -> None:
        self.rt: LiveRuntime = self.p.runtime
        self._reader = ClosedScalpReader(self.strategy, type(self).__name__)
        self._clocks: list[Any] = [d for d in self.strategy.datas if isinstance(d, ClockFeed)]
        self._times = BarTimes()
        self._halt_cancelled = False
        self.now: datetime | None = None
        self._recheck = 0
        self._mismatches_seen = 0
        self.rt.strategy = self.strategy
        self.rt.clock_now = self._latest

    def _latest(self) -> datetime | None:
        clocks = [c for c in self._clocks if len(c)]
        return max(self._times.bar(c) for c in clocks) if clocks else None

    # ------------------------------------------------------------------ bars
    def prenext(self) -> None:
        self.next()

    def next(self) -> None:
        clocks = [c for c in self._clocks if len(c)]
        if not clocks:
            return
        now = max(self._times.bar(c) for c in clocks)
        rt = self.rt
        if self.now is None or now > self.now:
            rt.bar_arrived()
        self.now = now
        rt.data_state = self._data_state()
        live_trading = rt.data_state == "LIVE" and self._trading(now)
        if rt.pending_adoption and live_trading:
            self._adopt()
        if rt.reconnected.is_set() and live_trading:
            self._after_reconnect()
        self._broker_mismatches()
        rt.poll_kill()
        if rt.interrupt.is_set():
            self._interrupted()
        if rt.states.state is TradingState.HALTED:
            # cancels only, but a 0DTE's expiry-safety exit stays (``app.live.limits.expiry_exit``)
            self._cancel_all(entries_only=now >= flat_by(now, rt.settings.strategy_config))
        self._expiry_safety(now)
        scalps = list(self.strategy.scalps.values())
        views = [scalp_view(s) for s in scalps]
        day_pnl = rt.day_pnl(now, views)
        rt.gate.check_daily_loss(day_pnl, now)
        cutoff = flat_by(now, rt.settings.strategy_config)
        details = [
            heartbeat_scalp(
                s,
                v,
                cutoff if is_zero_dte(s.intent.expiry, now) else None,
                greeks_now(s, now, float(s.book.clock.close[0]), rt.settings.strategy_config),
            )
            for s, v in zip(scalps, views, strict=True)
        ]
        prices = {c.symbol: float(c.close[0]) for c in clocks}
        if self._trading(now) and rt.data_state != "DELAYED":  # not the warm-up bars, not a backfill
            rt.minute(now, prices, views, day_pnl, details)
        rt.flush_chains()  # snapshots of a minute that wrote no heartbeat
        self._maybe_stop(now)

    def _adopt(self) -> None:
        from app.live.adopt import adopt

        rt = self.rt
        for symbol, (row, position) in list(rt.pending_adoption.items()):
            why = adopt(self.strategy, self.strategy.broker, row, position)
            del rt.pending_adoption[symbol]
            if why is None:
                rt.rows[(row.signal_id, symbol)] = row.row_id
                rt.adopted[symbol] = row
                rt.log.say(
                    f"managing adopted {symbol} x{position.qty} (journal row {row.row_id})", event="adopted"
                )
            else:
                rt.gate.block(symbol, "adopted position could not be managed")
                rt.states.enter(Cause.RECONCILIATION, f"cannot adopt: {why}")

    def _after_reconnect(self) -> None:
        """Back after a drop and backfilled: the venue's positions must be ours, then ACTIVE again."""
        rt = self.rt
        if self._working() and self._recheck < 3:
            self._recheck += 1  # fills in flight: look again on the next bar
            return
        ours: dict[str, int] = {}
        for scalp in self.strategy.scalps.values():
            size = int(self.strategy.getposition(scalp.feed).size)
            if size:
                ours[scalp.option_symbol] = ours.get(scalp.option_symbol, 0) + size
        try:
            held = {
                p.symbol: int(p.qty)
                for p in rt.venue.positions()
                if p.qty and p.symbol not in rt.gate.blocked
            }
        except Exception as exc:  # a venue still flaky: try on the next bar
            rt.log.event("reconcile_retry", level="warning", message=str(exc))
            return
        if held != ours and self._recheck < 3:
            self._recheck += 1
            return
        rt.reconnected.clear()
        self._recheck = 0
        if held == ours:
            rt.states.leave(Cause.DISCONNECTED, "reconnected, backfilled and reconciled")
        else:
            rt.states.enter(
                Cause.RECONCILIATION,
                f"after the reconnect the broker holds {held or 'nothing'} but this run {ours or 'nothing'}: "
                "no new entries; check the account",
            )

    def _broker_mismatches(self) -> None:
        """The broker's periodic position check found the venue holding other than this run booked."""
        found = getattr(self.strategy.broker, "mismatches", None)
        if not found or len(found) <= self._mismatches_seen:
            return
        for _when, symbol, local, held in found[self._mismatches_seen :]:
            self.rt.states.enter(
                Cause.RECONCILIATION,
                f"the venue holds {held} of {symbol} but this run booked {local}: no new entries; check the account",
            )
        self._mismatches_seen = len(found)

    def _data_state(self) -> str:
        names = {
            bt.feed.DataBase._getstatusname(c._laststatus) for c in self._clocks if hasattr(c, "_laststatus")
        }
        for worst in ("DISCONNECTED", "CONNBROKEN", "DELAYED"):
            if worst in names:
                return worst
        return "LIVE" if names else ""

    def _expiry_safety(self, now: datetime) -> None:
        deadline = flat_by(now, self.rt.settings.strategy_config)
        if now < deadline:
            return
        for scalp in list(self.strategy.scalps.values()):
            if is_zero_dte(scalp.intent.expiry, now) and (scalp.open_qty > 0 or scalp.working_entry):
                if scalp.exit_order is None or not scalp.exit_order.alive():
                    self.rt.log.say(
                        f"expiry safety: closing {scalp.option_symbol} (0DTE must be flat by {deadline:%H:%M} UTC)",
                        event="expiry_safety", symbol=scalp.option_symbol,
                    )  # fmt: skip
                self.strategy.close_scalp(scalp, ExitReason.ZERO_DTE_CUTOFF)

    def _interrupted(self) -> None:
        rt = self.rt
        how = rt.settings.exits_on_interrupt
        rt.say_interrupt()
        self._cancel_all(entries_only=how == "flatten")  # HALTED cancels the rest itself (not an expiry exit)
        if not rt.keeps_positions():  # every bar until flat: an exit the venue refused is sent again
            for scalp in list(self.strategy.scalps.values()):
                if scalp.open_qty > 0 and (scalp.exit_order is None or not scalp.exit_order.alive()):
                    self.strategy.close_scalp(scalp, ExitReason.END_OF_DAY)

    def _cancel_all(self, entries_only: bool) -> None:
        for scalp in list(self.strategy.scalps.values()):
            orders = list(scalp.entry_orders) + ([] if entries_only else [scalp.exit_order])
            for order in orders:
                if order is not None and order.alive():
                    self.strategy.cancel(order)

    def _working(self) -> bool:
        for scalp in self.strategy.scalps.values():
            if scalp.working_entry or (scalp.exit_order is not None and scalp.exit_order.alive()):
                return True
        return False

    def _maybe_stop(self, now: datetime) -> None:
        rt = self.rt
        scalps = self.strategy.scalps
        if rt.interrupt.is_set():
            if rt.wound_down(list(scalps.values())):
                rt.say_interrupt()  # the Ctrl-C may have come after this bar's wind-down step
                rt.stop_requested.set()
        elif self._trading(now):
            close = session_open_close(now)[1]
            if now >= close:
                rt.session_over = True
            if now >= close and not self._working():
                rt.log.say(f"session over ({close:%H:%M} UTC): stopping", event="session_end")
                rt.stop_requested.set()
        if rt.stop_requested.is_set():
            self.strategy.env.runstop()

    def _trading(self, now: datetime) -> bool:
        """``now`` is in the traded session (not a warm-up bar)."""
        starts = [float(getattr(c, "trading_start_num", float("-inf"))) for c in self._clocks]
        first = min(starts) if starts else float("-inf")
        if first == float("-inf"):
            return True
        return math.isfinite(first) and now >= self._times.of(first)

    # ------------------------------------------------------------------ fills and closes
    def notify_order(self, order: bt.Order) -> None:
        scalp = self.strategy.scalps.get(order.data)
        if scalp is None or not order.isbuy() or order.status not in (order.Partial, order.Completed):
            return
        if scalp.bought > 0:
            self.rt.scalp_filled(open_row(scalp, str(order.info.get("client_order_id", order.ref))))

    def notify_trade(self, trade: bt.Trade) -> None:
        if trade.isclosed:
            for closed in self._reader.take_new():
                self.rt.scalp_closed(closed)

    def stop(self) -> None:
        for closed in self._reader.take_new():
            self.rt.scalp_closed(closed)
        self.rt.flush_chains()

    def get_analysis(self) -> dict[str, Any]:
        return {"state": str(self.rt.states.state), "closed": self.rt.closed_count}


__all__ = ["LiveGuard", "heartbeat_scalp", "open_row", "scalp_view"]
