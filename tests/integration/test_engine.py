"""End to end on generated catalog days: alignment, honest fills, no look-ahead, memory."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from app.cerebro import build_cerebro
from options_scalper.model import Direction, ExitReason, Signal
from tests.support.memory_catalog import MemoryCatalog, session_stamps, synthetic_day
from tests.support.probe import ProbeScalp
from tests.support.scalpers import FixedScalper

DAYS = (date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4))


def make_catalog(days=DAYS[:2]) -> MemoryCatalog:
    """One warmup session and one trading session unless asked for more."""
    cat = MemoryCatalog()
    for d in days:
        bars, quotes = synthetic_day(
            "SPY", d, strikes=(99.0, 100.0, 101.0), expiries=(d,), seed=d.day, missing_bar_minutes=(5, 6)
        )
        cat.add_day("SPY", d, bars, quotes)
    return cat


class Recorded(ProbeScalp):
    """Probe with the fixed pipeline; logs every fill (time, symbol, side, price, reason)."""

    params = (("order_type_", "ask"),)

    def build_scalper(self):
        return FixedScalper(order_type=self.p.order_type_, limit_offset=0.02)

    def __init__(self):
        super().__init__()
        self.fills = []
        self.signals = []

    def on_signal_bar(self, symbol):
        sig = super().on_signal_bar(symbol)
        if sig is not None:
            self.signals.append((sig.ts, sig.direction.value))
        return sig

    def notify_order(self, order):
        super().notify_order(order)
        if order.status in (order.Partial, order.Completed):
            for bit in order.executed.iterpending():
                when = bt.num2date(bit.dt).replace(tzinfo=UTC)
                self.fills.append(
                    (
                        when,
                        order.data.option_symbol,
                        "buy" if order.isbuy() else "sell",
                        bit.price,
                        bit.size,
                        order.info.get("exit_reason"),
                    )
                )


def run(cat, strategy=Recorded, fromdate=DAYS[1], cash=20_000.0, **params):
    cer = build_cerebro(strategy, cat, ["SPY"], fromdate=fromdate, warmup_days=1, cash=cash, **params)
    strat = cer.run()[0]
    return strat, cer


def quote_at(cat, osym, when):
    day = pd.Timestamp(when).tz_convert("America/New_York").date()
    q = cat.quotes[("SPY", day)]
    row = q[(q["symbol"] == osym) & (q["ts"] == pd.Timestamp(when))]
    assert len(row) == 1
    return float(row["bid_px"].iloc[0]), float(row["ask_px"].iloc[0])


def test_probe_runs_end_to_end_and_books_closed_scalps_with_x100_and_commission():
    strat, cer = run(make_catalog())
    assert len(strat.closed_scalps) >= 3
    for c in strat.closed_scalps:
        gross = (c.exit_premium - c.entry_premium) * c.contracts * 100
        assert c.commission == pytest.approx(2 * 0.65 * c.contracts)
        assert c.pnl == pytest.approx(gross - c.commission)
        assert c.pnl_pct == pytest.approx(c.pnl / (c.entry_premium * c.contracts * 100))
        assert c.entry_time < c.exit_time and c.entry_time.tzinfo is not None
        assert c.exit_reason in {r.value for r in ExitReason}
    assert not strat.scalps  # everything flat at the end
    assert cer.broker.getcash() == pytest.approx(20_000.0 + sum(c.pnl for c in strat.closed_scalps))
    assert all(not f.bound for b in strat.books.values() for f in b.pool.feeds)


def test_every_fill_is_at_a_bid_or_ask_shown_in_that_minute_never_mid():
    cat = make_catalog()
    strat, _ = run(cat)
    assert strat.fills
    for when, osym, side, price, _, reason in strat.fills:
        bid, ask = quote_at(cat, osym, when)
        if reason == ExitReason.EXPIRY.value:
            continue  # settlement at intrinsic (documented exception)
        assert price == (ask if side == "buy" else bid)
        assert not math.isclose(price, (bid + ask) / 2)


def test_decision_at_0931_sees_the_0931_quote_and_fills_at_the_0932_ask():
    cat = make_catalog()

    class Once(Recorded):
        def on_signal_bar(self, symbol):
            now = self.times.bar(self.books[symbol].clock)
            if now != datetime(2024, 1, 3, 14, 31, tzinfo=UTC):
                return None
            return Signal("once", symbol, now, Direction.BULLISH, 80, "test")

    strat, _ = run(cat, strategy=Once, flatten_minutes=5)
    ts, bid, ask = strat.scalper.seen[0]
    assert ts == datetime(2024, 1, 3, 14, 31, tzinfo=UTC)
    (entry,) = [f for f in strat.fills if f[2] == "buy"]
    assert entry[0] == datetime(2024, 1, 3, 14, 32, tzinfo=UTC)
    assert (bid, ask) == quote_at(cat, entry[1], ts)
    assert entry[3] == quote_at(cat, entry[1], entry[0])[1]


def test_limit_entries_fill_at_the_ask_at_or_below_the_limit_or_time_out():
    cat = make_catalog()
    strat, _ = run(cat, order_type_="limit")
    buys = [f for f in strat.fills if f[2] == "buy"]
    assert buys
    for when, osym, _, price, _, _ in buys:
        assert price == quote_at(cat, osym, when)[1]
    assert strat.rejections["fill_timeout"] + len(buys) >= 1


def test_no_look_ahead_changing_the_future_leaves_the_past_unchanged():
    base = make_catalog()
    t = datetime(2024, 1, 3, 17, 0, tzinfo=UTC)  # 12:00 ET on the first trading day
    changed = make_catalog()
    for key in list(changed.quotes):
        q = changed.quotes[key].copy()
        later = q["ts"] > pd.Timestamp(t)
        q.loc[later, "bid_px"] = (q.loc[later, "bid_px"] * 1.7).round(2)
        q.loc[later, "ask_px"] = (q.loc[later, "ask_px"] * 1.7 + 0.05).round(2)
        changed.quotes[key] = q
        b = changed.bars[key].copy()
        later_b = b["ts"] >= pd.Timestamp(t)  # bars STARTING at t close after t
        rng = np.random.default_rng(7)
        for col in ("open", "high", "low", "close"):
            b.loc[later_b, col] = b.loc[later_b, col] + rng.normal(0, 0.8, int(later_b.sum()))
        changed.bars[key] = b
    a, _ = run(base)
    b_, _ = run(changed)
    past = lambda rows: [r for r in rows if r[0] <= t]  # noqa: E731
    assert past(a.signals) and past(a.fills)
    assert past(a.signals) == past(b_.signals)
    assert past(a.fills) == past(b_.fills)
    assert a.fills != b_.fills  # the future did change something


def test_chain_provider_holds_one_day_and_loads_each_day_once():
    cat = make_catalog(DAYS)
    strat, _ = run(cat)
    book = strat.books["SPY"]
    assert book.chain.loaded_day == DAYS[2]
    assert book.chain.rows_in_memory == len(cat.quotes[("SPY", DAYS[2])])
    loads = Counter(d for kind, _, d in cat.reads if kind == "quotes")
    assert loads[DAYS[0]] == 0  # warmup: the chain is never read
    assert loads[DAYS[1]] == 1 and loads[DAYS[2]] == 1


def test_rejections_are_counted_by_reason_code():
    strat, _ = run(make_catalog())
    assert strat.rejections  # crossings while holding the same contract or the limit of 3
    assert set(strat.rejections) <= {
        "already_holding",
        "max_concurrent",
        "insufficient_cash",
        "fill_timeout",
        "no_free_contract_feed",
        "no_two_sided_quotes",
        "entry_slippage_cap",  # an "ask" entry is a marketable limit at the decision ask here
    }


def test_end_of_day_flattening_closes_everything_before_the_close():
    strat, _ = run(make_catalog(), zero_dte_cutoff="15:59", one_dte_cutoff="15:59", flatten_minutes=30)
    eod = [c for c in strat.closed_scalps if c.exit_reason == ExitReason.END_OF_DAY.value]
    assert eod
    for c in eod:
        close = datetime.combine(c.exit_time.date(), datetime.min.time(), UTC) + timedelta(hours=21)
        assert close - timedelta(minutes=31) <= c.exit_time <= close - timedelta(minutes=29)


def test_preload_true_is_refused_with_a_clear_message():
    cer = build_cerebro(Recorded, make_catalog(), ["SPY"], fromdate=DAYS[1], warmup_days=1)
    with pytest.raises(Exception, match="preload=False"):
        cer.run(preload=True)


def test_session_stamps_cover_the_regular_session():
    stamps = session_stamps(DAYS[1])
    assert stamps[0] == datetime(2024, 1, 3, 14, 31, tzinfo=UTC) and len(stamps) == 390


def test_two_symbols_share_cash_and_the_concurrency_limit():
    cat = MemoryCatalog()
    for sym in ("SPY", "QQQ"):
        for d in DAYS[:2]:
            bars, quotes = synthetic_day(
                sym, d, strikes=(99.0, 100.0, 101.0), expiries=(d,), seed=d.day + len(sym)
            )
            cat.add_day(sym, d, bars, quotes)
    cer = build_cerebro(Recorded, cat, ["SPY", "QQQ"], fromdate=DAYS[1], warmup_days=1, cash=20_000.0)
    strat = cer.run()[0]
    assert {c.ticker for c in strat.closed_scalps} == {"SPY", "QQQ"}
    assert strat.rejections["max_concurrent"] > 0  # 3 open across both symbols
    assert cer.broker.getcash() == pytest.approx(20_000.0 + sum(c.pnl for c in strat.closed_scalps))


def test_time_cutoff_is_decided_even_while_the_contract_shows_no_bid():
    """No bid for a while after entry must not suspend the time rules: the 0DTE cutoff (14:00 ET)
    is decided at 14:00 and the exit fills at the first bid that shows again (14:06), not a bar later."""
    cat = make_catalog()
    gap_start = datetime(2024, 1, 3, 18, 31, tzinfo=UTC)  # 13:31 ET, the entry fill minute
    gap_end = datetime(2024, 1, 3, 19, 5, tzinfo=UTC)  # 14:05 ET
    key = ("SPY", DAYS[1])
    q = cat.quotes[key].copy()
    hole = (q["ts"] >= pd.Timestamp(gap_start)) & (q["ts"] <= pd.Timestamp(gap_end))
    q.loc[hole, "bid_px"] = float("nan")
    cat.quotes[key] = q

    class EnterAt1330(Recorded):
        def on_signal_bar(self, symbol):
            now = self.times.bar(self.books[symbol].clock)
            if now != datetime(2024, 1, 3, 18, 30, tzinfo=UTC):
                return None
            return Signal("cutoff", symbol, now, Direction.BULLISH, 80, "test")

    strat, _ = run(cat, strategy=EnterAt1330, profit_target_pct=5.0, max_loss_pct=0.99)
    sells = [f for f in strat.fills if f[2] == "sell"]
    assert len(sells) == 1
    when, osym, _, price, _, reason = sells[0]
    assert reason == ExitReason.ZERO_DTE_CUTOFF.value
    assert when == datetime(2024, 1, 3, 19, 6, tzinfo=UTC)  # the first minute with a bid again
    assert price == quote_at(cat, osym, when)[0]
