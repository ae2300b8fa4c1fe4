"""Synthetic DataBento-layout data: determinism, layouts, clocks, quotes, sample build, CLI."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import feeds.synthetic.sample as sample_mod
from feeds.synthetic import SPY_SPEC, TSLA_SPEC, DayFiles, SyntheticDataError, generate_day
from feeds.synthetic.__main__ import main as cli_main
from feeds.synthetic.bursts import BURST_OUTCOMES, burst_returns, place_bursts
from feeds.synthetic.layouts import (
    DATABENTO_CBBO_COLUMNS,
    OHLCV_COLUMNS,
    SEED_CBBO_COLUMNS,
    STATISTICS_COLUMNS,
)
from feeds.synthetic.sessions import listed_expiries, minute_grid_ns
from feeds.synthetic.spec import ExpiryRule, SymbolSpec
from feeds.synthetic.underlying import simulate_underlying

TINY_SPY = dataclasses.replace(SPY_SPEC, near_band_pct=0.025, inner_band_pct=0.006)
TINY_TSLA = dataclasses.replace(TSLA_SPEC, near_band_pct=0.05)
EDT_DAY = date(2024, 11, 1)  # Friday before the 2024-11-03 DST change
EST_DAY = date(2024, 11, 4)
HALF_DAY = date(2024, 11, 29)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"symbol": str}, keep_default_na=False, na_values=[""])


def _header(path: Path) -> list[str]:
    return _read(path).columns.tolist()


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DayFiles]:
    out = tmp_path_factory.mktemp("synthetic")
    return {
        "spy_edt": generate_day(TINY_SPY, EDT_DAY, out, seed=5),
        "spy_est": generate_day(TINY_SPY, EST_DAY, out, seed=5),
        "tsla_half": generate_day(TINY_TSLA, HALF_DAY, out, seed=5),
    }


@pytest.fixture(scope="module")
def spy_quotes(days: dict[str, DayFiles]) -> pd.DataFrame:
    q = _read(days["spy_edt"].cbbo)
    q["ts"] = pd.to_datetime(q["ts_recv"], utc=True)
    q["expiry"] = pd.to_datetime(q["symbol"].str[6:12], format="%y%m%d").dt.date
    q["is_call"] = q["symbol"].str[12] == "C"
    q["strike"] = q["symbol"].str[13:].astype(int) / 1000.0
    q["spot"] = days["spy_edt"].true_price.reindex(q["ts"]).to_numpy()
    return q


def test_generate_day_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = generate_day(TINY_TSLA, HALF_DAY, tmp_path / "a", seed=11)
    b = generate_day(TINY_TSLA, HALF_DAY, tmp_path / "b", seed=11)
    c = generate_day(TINY_TSLA, HALF_DAY, tmp_path / "c", seed=12)
    assert a.cbbo.read_bytes() == b.cbbo.read_bytes()
    assert a.ohlcv.read_bytes() == b.ohlcv.read_bytes()
    assert a.cbbo.read_bytes() != c.cbbo.read_bytes()


def test_layout_files_have_exact_databento_columns(days: dict[str, DayFiles]) -> None:
    spy = days["spy_edt"]
    assert _header(spy.cbbo) == list(DATABENTO_CBBO_COLUMNS)
    assert _header(spy.ohlcv) == list(OHLCV_COLUMNS)
    assert spy.statistics is not None and _header(spy.statistics) == list(STATISTICS_COLUMNS)
    assert spy.cbbo.name == "2024-11-01.csv.zst" and spy.cbbo.parent.parts[-2:] == ("SPY", "cbbo-1m")
    row = _read(spy.cbbo).iloc[0]
    assert row["rtype"] == 193 and len(row["symbol"]) == 21 and row["symbol"].startswith("SPY   ")
    assert row["ts_recv"].endswith(".000000000Z")
    assert _read(spy.ohlcv)["rtype"].eq(33).all()


def test_seed_layout_int_ns_fixed_prices_match_iso_decimal(tmp_path: Path) -> None:
    iso = generate_day(TINY_TSLA, HALF_DAY, tmp_path / "iso", seed=3)
    seed = generate_day(
        TINY_TSLA, HALF_DAY, tmp_path / "seed", seed=3, layout="seed", compress=False,
        ts_format="int", price_format="fixed",
    )  # fmt: skip
    assert seed.cbbo.name == "2024-11-29.csv"
    a, b = _read(iso.cbbo), _read(seed.cbbo)
    assert b.columns.tolist() == list(SEED_CBBO_COLUMNS)
    assert b["symbol"].iloc[0] == a["symbol"].iloc[0].replace(" ", "")  # compact symbols
    assert (
        pd.to_datetime(a["ts_recv"], utc=True).astype("int64").to_numpy() == b["ts_recv"].to_numpy()
    ).all()
    assert (
        pd.to_datetime(a["ts_event"], utc=True).astype("int64").to_numpy() == b["ts_event"].to_numpy()
    ).all()
    bid = b["bid_px"].where(b["bid_px"] != 2**63 - 1) / 1e9
    assert np.allclose(bid.to_numpy(), a["bid_px_00"].to_numpy(), equal_nan=True)


@pytest.mark.parametrize(("key", "first_utc"), [("spy_edt", "13:31"), ("spy_est", "14:31")])
def test_ts_recv_is_minute_end_and_0931_et_follows_dst(
    days: dict[str, DayFiles], key: str, first_utc: str
) -> None:
    files = days[key]
    q = _read(files.cbbo)
    ts_recv = pd.to_datetime(q["ts_recv"], utc=True)
    ts_event = pd.to_datetime(q["ts_event"], utc=True)
    assert ts_recv.min().strftime("%H:%M") == first_utc
    assert ts_recv.min().tz_convert("America/New_York").strftime("%H:%M") == "09:31"
    assert ts_recv.max().tz_convert("America/New_York").strftime("%H:%M") == "16:00"
    assert ((ts_recv - ts_event) > pd.Timedelta(0)).all() and (
        (ts_recv - ts_event) <= pd.Timedelta(minutes=1)
    ).all()
    bars = pd.to_datetime(_read(files.ohlcv)["ts_event"], utc=True)
    assert bars.min().tz_convert("America/New_York").strftime("%H:%M") == "09:30"  # bars stamp the START


def test_half_day_ends_at_1300_et_and_lists_its_0dte(days: dict[str, DayFiles]) -> None:
    files = days["tsla_half"]
    ts_recv = pd.to_datetime(_read(files.cbbo)["ts_recv"], utc=True).dt.tz_convert("America/New_York")
    assert ts_recv.max().strftime("%H:%M") == "13:00"
    assert len(files.true_price) == 210 and files.true_price.index[-1].strftime("%H:%M") == "18:00"
    assert files.expiries[0] == HALF_DAY


def test_true_price_is_the_bar_close_at_minute_end(days: dict[str, DayFiles]) -> None:
    files = days["spy_est"]
    bars = _read(files.ohlcv)
    end = pd.to_datetime(bars["ts_event"], utc=True) + pd.Timedelta(minutes=1)
    assert np.allclose(files.true_price.reindex(end).to_numpy(), bars["close"].to_numpy())
    assert (
        (bars["low"] <= bars[["open", "close"]].min(axis=1))
        & (bars["high"] >= bars[["open", "close"]].max(axis=1))
    ).all()


def test_bid_at_most_ask_except_injected_dirty_rows(days: dict[str, DayFiles]) -> None:
    for files in days.values():
        q = _read(files.cbbo)
        crossed = int((q["bid_px_00"] > q["ask_px_00"]).sum())
        assert crossed == files.dirty_rows["crossed"]
        empty_both = int((q["bid_px_00"].isna() & q["ask_px_00"].isna()).sum())
        assert empty_both == files.dirty_rows["empty_price"]
    assert sum(sum(f.dirty_rows.values()) for f in days.values()) > 0


def test_rows_are_sparse_and_every_contract_quotes_at_the_open(days: dict[str, DayFiles]) -> None:
    files = days["spy_edt"]
    q = _read(files.cbbo)
    assert files.cbbo_rows == len(q) < files.contracts * 390
    assert q.loc[q["ts_recv"] == q["ts_recv"].iloc[0], "symbol"].nunique() == files.contracts
    per_contract = q.groupby("symbol").size()
    assert per_contract.min() < 0.5 * per_contract.max()  # illiquid contracts print rarely


def test_ticks_nickels_at_or_above_3_for_tsla_pennies_for_spy(days: dict[str, DayFiles]) -> None:
    tsla = _read(days["tsla_half"].cbbo)
    for col in ("bid_px_00", "ask_px_00"):
        cents = np.round(tsla[col].dropna() * 100).astype(int)
        assert (cents[cents >= 300] % 5 == 0).all() and (cents[cents < 300] % 5 != 0).any()
    spy = _read(days["spy_edt"].cbbo)
    cents = np.round(spy["ask_px_00"].dropna() * 100).astype(int)
    assert (cents[cents >= 300] % 5 != 0).any()


def test_spreads_widen_out_of_the_money_and_into_the_close(spy_quotes: pd.DataFrame) -> None:
    q = spy_quotes[(spy_quotes["bid_px_00"] > 0) & (spy_quotes["ask_px_00"] >= spy_quotes["bid_px_00"])]
    mid = (q["bid_px_00"] + q["ask_px_00"]) / 2
    spread_pct = (q["ask_px_00"] - q["bid_px_00"]) / mid
    otm_by = np.where(q["is_call"], q["strike"] / q["spot"] - 1, 1 - q["strike"] / q["spot"])
    atm = spread_pct[np.abs(otm_by) < 0.002].median()
    otm = spread_pct[otm_by > 0.01].median()
    assert otm > atm
    et = q["ts"].dt.tz_convert("America/New_York")
    late = (q["ask_px_00"] - q["bid_px_00"])[et.dt.hour * 60 + et.dt.minute >= 15 * 60 + 50].mean()
    noon = (q["ask_px_00"] - q["bid_px_00"])[(et.dt.hour == 12)].mean()
    assert late > noon


def test_zero_dte_time_value_decays_into_the_close(spy_quotes: pd.DataFrame) -> None:
    q = spy_quotes[(spy_quotes["expiry"] == EDT_DAY) & (spy_quotes["bid_px_00"] > 0)]
    dist = (q["strike"] - q["spot"]).abs()
    q = q[dist <= dist.groupby(q["ts"]).transform("min") + 1e-9]  # the strike nearest the money
    mid = (q["bid_px_00"] + q["ask_px_00"]) / 2
    intrinsic = np.where(q["is_call"], q["spot"] - q["strike"], q["strike"] - q["spot"]).clip(min=0)
    time_value = mid - intrinsic
    et = q["ts"].dt.tz_convert("America/New_York")
    minute = et.dt.hour * 60 + et.dt.minute
    morning = time_value[(minute >= 600) & (minute < 630)].mean()
    last = time_value[minute >= 15 * 60 + 50].mean()
    assert morning > 0.5 and last < 0.4 * morning


def test_statistics_have_open_interest_and_volume_per_contract(days: dict[str, DayFiles]) -> None:
    files = days["spy_edt"]
    assert files.statistics is not None
    s = _read(files.statistics)
    assert set(s["stat_type"]) == {6, 9} and s["symbol"].nunique() == files.contracts
    assert s["price"].isna().all() and (s["quantity"] >= 0).all()
    assert days["tsla_half"].statistics is None


def test_expiries_dailies_for_spy_mwf_for_tsla_and_beyond_35_days() -> None:
    tue = date(2024, 10, 29)
    spy = listed_expiries(SPY_SPEC.expiry_rule, tue)
    tsla = listed_expiries(TSLA_SPEC.expiry_rule, tue)
    assert spy[0] == tue and tsla[0] != tue  # TSLA has no Tuesday 0DTE
    assert date(2024, 10, 30) in tsla and max((e - tue).days for e in spy + tsla) >= 35
    good_friday = listed_expiries(
        ExpiryRule(daily_weekdays=(4,), daily_horizon_sessions=0), date(2024, 3, 25)
    )
    assert date(2024, 3, 28) in good_friday and date(2024, 3, 29) not in good_friday  # rolled to Thursday


def test_momentum_bursts_come_with_volume_spikes(days: dict[str, DayFiles]) -> None:
    hits = 0
    for files in days.values():
        bars = _read(files.ohlcv)
        ts = pd.DatetimeIndex(pd.to_datetime(bars["ts_event"], utc=True))
        for start, move in files.bursts:
            i = int(ts.searchsorted(start))
            hits += 1
            assert (
                bars["volume"].iloc[i : i + 2].mean() > 1.8 * bars["volume"].iloc[max(0, i - 20) : i].mean()
            )
            assert np.sign(bars["close"].iloc[i + 3] - bars["open"].iloc[i]) == np.sign(move)
    assert hits >= 3


def _volume_move_corr(spec: SymbolSpec, days: int = 12) -> float:
    grid = minute_grid_ns(EST_DAY)
    log_v, abs_r = [], []
    for i in range(days):
        day = simulate_underlying(spec, grid, spec.spot, np.random.default_rng([9, i]))
        log_v.append(np.log(day.volume))
        abs_r.append(np.abs(np.diff(np.log(day.close), prepend=np.log(day.open[0]))))
    return float(np.corrcoef(np.concatenate(log_v), np.concatenate(abs_r))[0, 1])


def test_minute_volume_correlates_with_the_size_of_the_move() -> None:
    quiet = dataclasses.replace(SPY_SPEC, bursts_per_day=(0, 0))
    assert 0.3 <= _volume_move_corr(quiet) <= 0.65  # large candles trade more, as in real minute data
    flat = dataclasses.replace(quiet, volume_move_coupling=0.0, volume_regime_coupling=0.0)
    assert _volume_move_corr(flat) < 0.2  # only the shared U-shape is left


def test_burst_aftermath_continues_stalls_or_reverses_with_small_average_drift() -> None:
    rng = np.random.default_rng(4)
    bursts = [b for _ in range(400) for b in place_bursts(TSLA_SPEC, 390, rng)]
    assert {b.outcome for b in bursts} == set(BURST_OUTCOMES)
    follow = np.array([b.after_pct / b.move_pct for b in bursts])  # aftermath, in units of the burst
    assert (follow < 0).mean() > 0.25 and (follow > 0.1).mean() > 0.25
    assert abs(float(follow.mean())) < 0.1  # buying the bar after a burst is no sure thing
    assert all(1 <= b.minutes <= 3 and 1 <= b.after_minutes <= 3 for b in bursts)
    extra = burst_returns(tuple(bursts[:1]), 390, rng)
    b = bursts[0]
    assert extra[b.start : b.end].sum() == pytest.approx(b.move_pct)


def test_spec_validation_names_the_field() -> None:
    with pytest.raises(SyntheticDataError, match="burst_outcome_p"):
        dataclasses.replace(SPY_SPEC, burst_outcome_p=(0.5, 0.5, 0.5))
    with pytest.raises(SyntheticDataError, match="volume_noise_sd"):
        dataclasses.replace(SPY_SPEC, volume_noise_sd=-0.1)
    with pytest.raises(SyntheticDataError, match="annual_vol"):
        SymbolSpec(symbol="SPY", spot=500.0, annual_vol=-0.1, strike_step=1.0)
    with pytest.raises(SyntheticDataError, match="wing_step"):
        SymbolSpec(symbol="SPY", spot=500.0, annual_vol=0.2, strike_step=1.0, wing_step=2.5)
    with pytest.raises(SyntheticDataError, match="not an NYSE session"):
        generate_day(TINY_SPY, date(2024, 11, 28), Path("unused"))
    with pytest.raises(SyntheticDataError, match="ts_format"):
        generate_day(TINY_SPY, EDT_DAY, Path("unused"), ts_format="epoch")


def test_ensure_sample_builds_once_atomically_with_statistics_for_spy_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert [s.symbol for s in sample_mod.SAMPLE_SPECS if s.has_statistics] == ["SPY"]
    assert {date(2024, 11, 1), date(2024, 11, 4), HALF_DAY} <= set(sample_mod.SAMPLE_SESSIONS)
    monkeypatch.setattr(sample_mod, "SAMPLE_SPECS", (TINY_SPY, TINY_TSLA))
    monkeypatch.setattr(sample_mod, "SAMPLE_SESSIONS", (EDT_DAY, HALF_DAY))
    dest = tmp_path / "sample"
    assert sample_mod.ensure_sample(dest, progress=False) == dest
    assert sorted(p.name for p in (dest / "SPY" / "statistics").iterdir()) == [
        "2024-11-01.csv.zst",
        "2024-11-29.csv.zst",
    ]
    assert not (dest / "TSLA" / "statistics").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample"]  # no temp folder left behind
    stamp = (dest / "SPY" / "cbbo-1m" / "2024-11-01.csv.zst").stat().st_mtime_ns
    sample_mod.ensure_sample(dest, progress=False)
    assert (dest / "SPY" / "cbbo-1m" / "2024-11-01.csv.zst").stat().st_mtime_ns == stamp


def test_cli_bad_input_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["--out", str(tmp_path), "--symbols", "XYZ", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "XYZ" in err and "\n" not in err
    assert cli_main(["--out", str(tmp_path), "--start", "2024-11-02", "--end", "2024-11-03", "--quiet"]) == 2


def test_cli_writes_the_requested_days(tmp_path: Path) -> None:
    assert cli_main(["--out", str(tmp_path), "--symbols", "TSLA", "--start", "2024-11-29", "--quiet"]) == 0
    assert (tmp_path / "TSLA" / "cbbo-1m" / "2024-11-29.csv.zst").is_file()
