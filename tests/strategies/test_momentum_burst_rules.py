"""MomentumBurstScalp on hand-made sessions: each trigger fires or stays silent, each rule holds.

Every test runs a real Cerebro over one generated session of SPY-like bars
(price 100, 1000 shares a minute unless a scenario says otherwise) and a 0DTE +
1DTE chain quoted every minute (``tests.support.memory_catalog.synthetic_day``), through
the real ``OptionsScalper`` with ``MomentumConfig``. A flat price makes no swing,
no velocity and no trigger, so each scenario's moves are the only events.
Times are US/Eastern bar CLOSE times on 2024-01-03 (EST, UTC-5).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from app.cerebro import build_cerebro
from options_scalper.config import ConfigError, MomentumConfig
from strategies.momentum_burst import MomentumBurstScalp
from tests.support.memory_catalog import MemoryCatalog, session_stamps, synthetic_day

DAY = date(2024, 1, 3)
NEXT = date(2024, 1, 4)
STRIKES = tuple(float(k) for k in np.arange(96.0, 107.01, 0.5))
BASE_PRICE = 100.0
BASE_VOLUME = 1000.0
N = 390


def idx(hhmm: str) -> int:
    """Grid index of the bar that CLOSES at ``hhmm`` ET (09:31 -> 0)."""
    h, m = map(int, hhmm.split(":"))
    return h * 60 + m - (9 * 60 + 31)


def et(hhmm: str) -> datetime:
    """Aware UTC time of ``hhmm`` ET on DAY (EST)."""
    h, m = map(int, hhmm.split(":"))
    return datetime(DAY.year, DAY.month, DAY.day, h + 5, m, tzinfo=UTC)


class Path:
    """A session's closes and volumes; ``at`` sets a value from a bar on (prices persist)."""

    def __init__(self) -> None:
        self.close = np.full(N, BASE_PRICE)
        self.volume = np.full(N, BASE_VOLUME)

    def at(self, hhmm: str, price: float, volume: float | None = None) -> Path:
        i = idx(hhmm)
        self.close[i:] = price
        if volume is not None:
            self.volume[i] = volume
        return self

    def steps(self, hhmm: str, prices: list[float]) -> Path:
        """Consecutive closes from ``hhmm`` on (normal volume)."""
        start = idx(hhmm)
        for k, p in enumerate(prices):
            self.close[start + k :] = p
        return self


def catalog(
    path: Path, spread: float = 0.02, oi: pd.DataFrame | None = None, strikes: tuple[float, ...] = STRIKES
) -> MemoryCatalog:
    bars, quotes = synthetic_day(
        "SPY", DAY, prices=path.close, strikes=strikes, expiries=(DAY, NEXT), spread=spread
    )
    bars["volume"] = path.volume
    cat = MemoryCatalog()
    cat.add_day("SPY", DAY, bars, quotes, oi=oi)
    return cat


class Recorder(MomentumBurstScalp):
    """Logs fills: (time, option symbol, side, price, size)."""

    def __init__(self) -> None:
        super().__init__()
        self.fills: list[tuple[datetime, str, str, float, int]] = []

    def notify_order(self, order: bt.Order) -> None:
        super().notify_order(order)
        if order.status in (order.Partial, order.Completed):
            for bit in order.executed.iterpending():
                when = bt.num2date(bit.dt).replace(tzinfo=UTC)
                side = "buy" if order.isbuy() else "sell"
                self.fills.append((when, order.data.option_symbol, side, bit.price, int(abs(bit.size))))


def run(cat: MemoryCatalog, cash: float = 20_000.0, **params) -> tuple[Recorder, bt.Cerebro]:
    cer = build_cerebro(Recorder, cat, ["SPY"], fromdate=DAY, warmup_days=0, cash=cash, **params)
    return cer.run()[0], cer


def quote(cat: MemoryCatalog, osym: str, when: datetime) -> tuple[float, float]:
    q = cat.quotes[("SPY", DAY)]
    row = q[(q["symbol"] == osym) & (q["ts"] == pd.Timestamp(when))]
    assert len(row) == 1
    return float(row["bid_px"].iloc[0]), float(row["ask_px"].iloc[0])


def burst_up(path: Path, hhmm: str, pct: float = 0.006, ratio: float = 3.0) -> Path:
    """A one-bar move of ``pct`` on ``ratio`` x the normal volume."""
    price = path.close[idx(hhmm) - 1] * (1 + pct)
    return path.at(hhmm, round(price, 2), BASE_VOLUME * ratio)


# --------------------------------------------------------------------------- triggers


@pytest.mark.parametrize(
    ("pct", "ratio", "fires"),
    [(0.006, 3.0, True), (-0.006, 3.0, True), (0.006, 1.0, False), (0.004, 3.0, False), (0.0, 3.0, False)],
    ids=["up-on-volume", "down-on-volume", "no-volume", "too-small", "volume-only"],
)
def test_momentum_burst_fires_only_on_a_big_move_with_a_volume_spike(pct, ratio, fires):
    path = burst_up(Path(), "10:30", pct, ratio)
    strat, _ = run(catalog(path))
    if not fires:
        assert not strat.triggers and not strat.closed_scalps
        return
    assert strat.triggers == {"momentum_burst": 1}
    (scalp,) = strat.closed_scalps
    assert scalp.metadata["trigger"] == "momentum_burst"
    assert scalp.option_type == ("call" if pct > 0 else "put")
    assert scalp.entry_time == et("10:31")  # decided on the 10:30 bar, filled on the next
    # 0.6% / 0.5% and 3.0 / 1.5: 50 + 25 * 0.2 + 25 * 1 = 80
    assert scalp.conviction == 80


def test_vwap_bounce_fires_when_price_comes_back_up_through_vwap_fast():
    path = Path().steps("10:20", [99.96, 99.92, 99.88]).at("10:23", 100.05)
    strat, _ = run(catalog(path))
    assert strat.triggers == {"vwap_bounce": 1}
    assert strat.closed_scalps[0].option_type == "call"
    assert strat.closed_scalps[0].conviction == 70


def test_vwap_rejection_fires_when_price_falls_back_through_vwap_fast():
    path = Path().steps("10:20", [100.04, 100.08, 100.12]).at("10:23", 99.95)
    strat, _ = run(catalog(path))
    assert strat.triggers == {"vwap_rejection": 1}
    assert strat.closed_scalps[0].option_type == "put"


def test_vwap_signals_stay_silent_when_price_crawls_through_vwap():
    path = Path().steps("10:20", [99.96, 99.92, 99.88, 99.96, 100.04, 100.12])
    strat, _ = run(catalog(path))
    assert not strat.triggers


def breakout_path(bumps: int = 2, ratio: float = 2.0, down: bool = False, last: float = 0.45) -> Path:
    """``bumps`` swings to +/-0.3% that fade slowly, then a break of that level to ``last`` %."""
    s = -1.0 if down else 1.0
    path = Path()
    for start in ("10:05", "10:20")[:bumps]:
        h, m = map(int, start.split(":"))
        path.at(start, 100 + s * 0.30)
        fade = [round(100 + s * x, 2) for x in (0.25, 0.20, 0.15, 0.10, 0.05, 0.0)]
        path.steps(f"{h}:{m + 1:02d}", fade)
    path.steps("10:40", [round(100 + s * x, 2) for x in (0.05, 0.10, 0.15)])
    return path.at("10:43", round(100 + s * last, 2), BASE_VOLUME * ratio)


@pytest.mark.parametrize("down", [False, True], ids=["resistance", "support"])
def test_breakout_fires_through_a_level_touched_twice_on_volume(down):
    strat, _ = run(catalog(breakout_path(down=down)))
    assert strat.triggers == {"breakout": 1}
    (scalp,) = strat.closed_scalps
    assert scalp.option_type == ("put" if down else "call")
    assert scalp.entry_time == et("10:44")
    assert scalp.conviction == 70  # 60 + min(5 * strength 2, 20)


@pytest.mark.parametrize(("bumps", "ratio"), [(1, 2.0), (2, 1.0)], ids=["level-touched-once", "no-volume"])
def test_breakout_stays_silent_without_a_strong_level_or_volume(bumps, ratio):
    strat, _ = run(catalog(breakout_path(bumps=bumps, ratio=ratio)))
    assert "breakout" not in strat.triggers


def test_a_momentum_burst_through_a_level_is_reported_as_a_burst_first_rule_wins():
    strat, _ = run(catalog(breakout_path(ratio=3.0, last=0.75)))  # 0.6% on 3x volume, through 100.31
    assert strat.triggers == {"momentum_burst": 1}


# --------------------------------------------------------------------------- exits and rules


@pytest.fixture(scope="module")
def exits_day():
    """Four bursts: one runs on (take profit), one reverses (stop), one stalls (max hold),
    and one 3 minutes after the stop (loss cooldown), then one 8 minutes after it."""
    path = Path()
    burst_up(path, "10:30").steps("10:32", [100.9, 101.2, 101.5, 101.8, 102.1])  # take profit
    burst_up(path, "11:00")  # 102.1 -> 102.71
    path.at("11:02", 102.1)  # stop loss
    burst_up(path, "11:06")  # 3 min after the stop's fill: cooldown
    burst_up(path, "11:12")  # after the cooldown: trades, then stalls -> time exit
    cat = catalog(path)
    strat, cer = run(cat)
    return cat, strat, cer


def test_take_profit_stop_loss_and_max_hold_exits(exits_day):
    _, strat, _ = exits_day
    reasons = [c.exit_reason for c in strat.closed_scalps]
    assert reasons == ["take_profit", "stop_loss", "time_exit"]
    tp, sl, te = strat.closed_scalps
    assert tp.exit_premium >= tp.entry_premium * 1.30 - 1e-9
    assert sl.exit_premium <= sl.entry_premium * 0.85 + 1e-9
    assert te.entry_time == et("11:13")
    assert te.exit_time - te.entry_time == timedelta(minutes=15)  # decided at 14 min, filled at 15


def test_a_loss_starts_a_five_minute_cooldown(exits_day):
    _, strat, _ = exits_day
    sl = strat.closed_scalps[1]
    assert sl.pnl < 0 and sl.exit_time == et("11:03")
    assert strat.triggers["momentum_burst"] == 4
    assert strat.rejections["loss_cooldown"] == 1  # 11:06 < 11:03 + 5 min
    assert strat.closed_scalps[2].entry_time == et("11:13")  # 11:12 >= 11:08


def test_entries_pay_the_ask_exits_sell_the_bid_and_size_is_five_percent_of_equity(exits_day):
    cat, strat, cer = exits_day
    buys = [f for f in strat.fills if f[2] == "buy"]
    sells = [f for f in strat.fills if f[2] == "sell"]
    assert len(buys) == len(sells) == 3
    equity = 20_000.0
    for (when, osym, _, price, size), scalp in zip(buys, strat.closed_scalps, strict=True):
        ask = quote(cat, osym, when)[1]
        assert price == ask
        decided_ask = quote(cat, osym, when - timedelta(minutes=1))[1]
        cap = math.floor(decided_ask * 1.05 * 100 + 1e-9) / 100  # sized at the marketable limit's cap
        assert size == math.floor(equity * 0.05 / (cap * 100) + 1e-9)
        equity += scalp.pnl
    for when, osym, _, price, _ in sells:
        assert price == quote(cat, osym, when)[0]
    assert cer.broker.getvalue() == pytest.approx(20_000.0 + sum(c.pnl for c in strat.closed_scalps))


def test_entry_cap_refuses_an_entry_whose_ask_runs_away_in_the_fill_minute():
    path = burst_up(Path(), "10:30").steps("10:31", [100.9, 101.2, 101.5])  # the ask jumps on at 10:31
    cat = catalog(path)
    strat, _ = run(cat)
    assert strat.entries_by_trigger["momentum_burst"] == 1  # decided and sent ...
    assert not [f for f in strat.fills if f[2] == "buy"]  # ... but nothing filled above the cap
    assert strat.rejections["entry_slippage_cap"] == 1 and not strat.closed_scalps


def test_every_entry_fills_within_5pct_of_the_decision_ask_and_inside_the_budget(exits_day):
    cat, strat, _ = exits_day
    equity = 20_000.0
    for (when, osym, _, price, size), scalp in zip(
        [f for f in strat.fills if f[2] == "buy"], strat.closed_scalps, strict=True
    ):
        decided_ask = quote(cat, osym, when - timedelta(minutes=1))[1]
        assert price <= decided_ask * 1.05 + 1e-9
        assert price * size * 100 <= equity * 0.05 + 1e-9  # the 5%-of-equity budget holds at the fill
        equity += scalp.pnl


def test_selected_contracts_meet_003_selection_rules(exits_day):
    _, strat, _ = exits_day
    for c in strat.closed_scalps:
        assert 0.25 <= abs(c.entry_delta) <= 0.45
        assert c.expiry == DAY and c.dte == 0  # 0DTE preferred over the 1DTE also quoted
        assert c.entry_premium <= 5.0


def test_max_concurrent_refuses_a_second_scalp_while_one_is_open():
    path = burst_up(burst_up(Path(), "10:30"), "10:33")
    strat, _ = run(catalog(path))
    assert strat.triggers["momentum_burst"] == 2
    assert strat.rejections["max_concurrent"] == 1
    assert len(strat.closed_scalps) == 1


@pytest.mark.parametrize(("interval", "entries"), [(1, 2), (5, 1)])
def test_min_signal_interval_counts_bars_since_the_last_signal(interval, entries):
    path = burst_up(burst_up(Path(), "10:30"), "10:33")
    strat, _ = run(catalog(path), max_concurrent_scalps=2, min_signal_interval_bars=interval)
    assert len(strat.closed_scalps) == entries
    assert strat.rejections["signal_interval"] == 2 - entries


def test_daily_limit_stops_entries_after_max_daily_scalps():
    path = Path()
    for t in ("10:30", "10:55", "11:20"):  # each scalp stalls: a small loss, a 5-minute cooldown
        burst_up(path, t)
    strat, _ = run(catalog(path), max_daily_scalps=2)
    assert strat.triggers["momentum_burst"] == 3
    assert len(strat.closed_scalps) == 2
    assert strat.rejections["daily_limit"] == 1


def test_limit_entries_are_priced_at_mid_plus_offset_and_fill_at_the_ask():
    cat = catalog(burst_up(Path(), "10:30"))
    strat, _ = run(cat, entry_order_type="limit", limit_offset=0.01)
    (buy,) = [f for f in strat.fills if f[2] == "buy"]
    bid, ask = quote(cat, buy[1], et("10:30"))
    limit = min(ask, round((bid + ask) / 2 + 0.01, 2))
    assert buy[3] == quote(cat, buy[1], et("10:31"))[1] <= limit


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"max_contract_price": 0.10}, "too_expensive"),
        ({"min_open_interest": 1_000}, "low_open_interest"),
    ],
)
def test_selection_rules_refuse_with_their_reason(kwargs, code):
    path = burst_up(Path(), "10:30")
    quotes = synthetic_day("SPY", DAY, prices=path.close, strikes=STRIKES, expiries=(DAY, NEXT))[1]
    oi = pd.DataFrame({"symbol": quotes["symbol"].unique(), "open_interest": 500.0, "volume": 100.0})
    strat, _ = run(catalog(path, oi=oi), **kwargs)
    assert strat.triggers == {"momentum_burst": 1}
    assert not strat.closed_scalps
    assert strat.rejections[code] == 1


def test_spreads_wider_than_8pct_are_not_traded():
    """Near-the-money calls only, quoted 10 cents wide on ~50 cents: every spread > 8%."""
    path = burst_up(Path(), "10:30")
    strat, _ = run(catalog(path, spread=0.10, strikes=(100.5, 101.0, 101.5, 102.0)))
    assert strat.triggers == {"momentum_burst": 1}
    assert not strat.closed_scalps
    assert strat.rejections["spread_too_wide"] == 1
    strat, _ = run(catalog(path, spread=0.10, strikes=(100.5, 101.0, 101.5, 102.0)), max_spread_pct=0.25)
    assert len(strat.closed_scalps) == 1


def test_open_interest_is_not_required_when_unknown():
    strat, _ = run(catalog(burst_up(Path(), "10:30")), min_open_interest=1_000)
    assert len(strat.closed_scalps) == 1


# --------------------------------------------------------------------------- profiles


@pytest.mark.parametrize(
    ("profile", "fires"),
    [("", True), ("moderate", True), ("conservative", False), ("aggressive", True)],
)
def test_a_0_6pct_move_on_1_8x_volume_fires_except_in_the_conservative_profile(profile, fires):
    path = burst_up(Path(), "10:30", 0.006, 1.8)
    strat, _ = run(catalog(path), profile=profile)
    assert bool(strat.triggers.get("momentum_burst")) is fires


def test_aggressive_profile_fires_on_a_0_4pct_move_on_1_3x_volume():
    path = burst_up(Path(), "10:30", 0.004, 1.3)
    assert run(catalog(path), profile="aggressive")[0].triggers == {"momentum_burst": 1}
    assert not run(catalog(path))[0].triggers


def test_profile_values_are_applied_and_explicit_params_win():
    cat = catalog(Path())
    strat, _ = run(cat, profile="conservative", max_daily_scalps=7)
    want = MomentumConfig.from_profile("conservative", max_daily_scalps=7)
    assert strat.config == want
    assert strat.p.take_profit_pct == 0.25 and strat.p.stop_loss_pct == 0.10
    assert strat.p.max_hold_minutes == 10 and strat.p.max_daily_scalps == 7
    assert strat.signal_params.momentum_threshold_pct == 0.007
    assert strat.signal_params.volume_spike_ratio == 2.0
    assert strat.config.exit_rules().max_hold_minutes == 10


def test_explicit_param_equal_to_the_default_still_beats_the_profile():
    strat, _ = run(catalog(Path()), profile="aggressive", take_profit_pct=0.30)
    assert strat.config.take_profit_pct == 0.30
    assert strat.config.stop_loss_pct == 0.20


def test_unknown_profile_is_refused_naming_the_valid_ones():
    with pytest.raises(ConfigError, match="conservative, moderate, aggressive"):
        run(catalog(Path()), profile="yolo")


# --------------------------------------------------------------------------- put/call volume


def put_heavy_oi(path: Path) -> pd.DataFrame:
    quotes = synthetic_day("SPY", DAY, prices=path.close, strikes=STRIKES, expiries=(DAY, NEXT))[1]
    symbols = quotes["symbol"].unique()
    is_put = np.array(["P" in s[-9:] for s in symbols])
    return pd.DataFrame({"symbol": symbols, "open_interest": 500.0, "volume": np.where(is_put, 300.0, 100.0)})


def test_put_call_ratio_is_attached_and_only_filters_when_asked():
    path = burst_up(Path(), "10:30")
    cat = catalog(path, oi=put_heavy_oi(path))
    strat, _ = run(cat)
    assert strat.put_call_ratios == {("SPY", DAY): pytest.approx(3.0)}
    assert len(strat.closed_scalps) == 1  # default: informational only
    strat, _ = run(cat, put_call_confirm=True)
    assert not strat.closed_scalps
    assert strat.rejections["put_call_disagrees"] == 1


def test_put_call_ratio_is_not_used_without_option_volume():
    strat, _ = run(catalog(burst_up(Path(), "10:30")), put_call_confirm=True)
    assert strat.put_call_ratios == {("SPY", DAY): None}
    assert len(strat.closed_scalps) == 1


def test_session_stamps_match_the_grid_used_here():
    assert session_stamps(DAY)[0] == et("09:31") and len(session_stamps(DAY)) == N


def test_command_line_strings_are_coerced_like_typed_params():
    path = burst_up(burst_up(Path(), "10:30"), "10:33")
    strat, _ = run(
        catalog(path),
        profile="aggressive",
        take_profit_pct="0.3",
        max_concurrent_scalps="2",
        min_signal_interval_bars="5",
        put_call_confirm="false",
    )
    cfg = strat.config
    assert (cfg.take_profit_pct, cfg.stop_loss_pct, cfg.min_signal_interval_bars) == (0.3, 0.20, 5)
    assert strat.put_call_confirm is False
    assert strat.rejections["signal_interval"] == 1
    with pytest.raises(ConfigError, match="put_call_confirm"):
        run(catalog(Path()), put_call_confirm="maybe")
