"""Catalog ingest and read-back on tiny hand-made DataBento days (exact expectations)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import zstandard

from feeds.catalog import Catalog, CatalogError, IngestSettings
from feeds.catalog import store as catalog_store
from feeds.catalog.__main__ import main as cli_main
from feeds.catalog.ffill import forward_fill
from feeds.databento.cbbo import DataFileError
from feeds.schema import BAR_COLUMNS, CATALOG_QUOTE_SCHEMA
from options_scalper.greeks import bs_price, time_to_expiry_years

DAY = date(2024, 1, 5)  # a Friday; session 14:30-21:00 UTC
DAY2 = date(2024, 1, 8)  # the Monday after
OPEN = pd.Timestamp("2024-01-05 14:30", tz="UTC")
N_MIN = 390
SPOT = 250.0
IV_SIGMA = 0.45
CBBO_HEADER = (
    "ts_recv,ts_event,rtype,publisher_id,instrument_id,side,price,size,flags,"
    "bid_px_00,ask_px_00,bid_sz_00,ask_sz_00,bid_pb_00,ask_pb_00,symbol"
)
BARS_HEADER = "ts_event,rtype,publisher_id,instrument_id,open,high,low,close,volume,symbol"
STATS_HEADER = (
    "ts_recv,ts_event,rtype,publisher_id,instrument_id,ts_ref,price,quantity,sequence,ts_in_delta,"
    "stat_type,channel_id,update_action,stat_flags,symbol"
)
# Kept by the default settings on DAY: DTE <= 5 and strikes in [245*0.9, 255*1.1] = [220.5, 280.5].
NEAR_EXPIRIES = (0, 5)  # days after the session date
FAR_EXPIRIES = (7, 28)
STRIKES = (200.0, 220.0, 221.0, 250.0, 280.0, 281.0, 300.0)
KEPT_STRIKES = (221.0, 250.0, 280.0)


def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def osi(expiry: date, right: str, strike: float) -> str:
    return f"TSLA  {expiry:%y%m%d}{right}{round(strike * 1000):08d}"


def compact(expiry: date, right: str, strike: float) -> str:
    return osi(expiry, right, strike).replace(" ", "")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    if path.name.endswith(".zst"):
        data = zstandard.ZstdCompressor(level=3).compress(data)
    path.write_bytes(data)
    return path


def quote_rows(day: date, open_ts: pd.Timestamp) -> list[tuple[pd.Timestamp, str, float, float]]:
    """Sparse quotes: contract i updates every (2 + i % 3) minutes; IV quotes near 15:45 ET.

    Premium = intrinsic at SPOT + a time value that grows by a cent a minute, so that
    calls minus puts satisfy put-call parity at SPOT.
    """
    rows: list[tuple[pd.Timestamp, str, float, float]] = []
    contracts = [
        (day + timedelta(days=d), r, k)
        for d in (*NEAR_EXPIRIES, *FAR_EXPIRIES)
        for k in STRIKES
        for r in "CP"
    ]
    for i, (expiry, right, strike) in enumerate(contracts):
        step = 2 + i % 3
        first = 1 + i % 4
        for m in range(first, N_MIN + 1, step):
            intrinsic = max(SPOT - strike, 0.0) if right == "C" else max(strike - SPOT, 0.0)
            bid = round(intrinsic + 1.0 + m / 100, 2)
            rows.append((open_ts + pd.Timedelta(minutes=m), osi(expiry, right, strike), bid, bid + 0.05))
    # ATM quotes of the 28-DTE expiry at 15:45 ET priced at IV_SIGMA (they replace the
    # regular rows of that minute: a later duplicate wins).
    at = open_ts + pd.Timedelta(minutes=N_MIN - 15)
    expiry = day + timedelta(days=28)
    years = time_to_expiry_years(at.to_pydatetime(), expiry)
    for right in "CP":
        price = float(bs_price(SPOT, 250.0, years, 0.05, 0.0, IV_SIGMA, right == "C"))
        rows.append((at, osi(expiry, right, 250.0), price, price))
    # Outside the regular session: never kept.
    rows.append((open_ts - pd.Timedelta(minutes=20), osi(day, "C", 250.0), 9.0, 9.1))
    rows.append((open_ts + pd.Timedelta(minutes=N_MIN + 30), osi(day, "C", 250.0), 9.0, 9.1))
    # Dirty: crossed (dropped and counted).
    rows.append((open_ts + pd.Timedelta(minutes=200), osi(day, "P", 250.0), 5.0, 4.0))
    return rows


def write_cbbo(path: Path, rows: list[tuple[pd.Timestamp, str, float, float]]) -> Path:
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    lines = [CBBO_HEADER]
    for ts, sym, bid, ask in rows:
        lines.append(f"{_iso(ts)},{_iso(ts)},193,30,1,N,,0,0,{bid:.6f},{ask:.6f},10,12,30,30,{sym}")
    return _write(path, "\n".join(lines) + "\n")


def write_bars(path: Path, open_ts: pd.Timestamp, *, multi_days: tuple[pd.Timestamp, ...] = ()) -> Path:
    lines = [BARS_HEADER]
    for start in (open_ts, *multi_days):
        for m in range(-5, N_MIN + 5):  # a few bars outside the session too
            ts = start + pd.Timedelta(minutes=m)
            low = 245.0 if m == 100 else SPOT - 0.5
            high = 255.0 if m == 200 else SPOT + 0.5
            if m < 0 or m >= N_MIN:
                low, high = 100.0, 400.0  # would widen the band if pre/post bars were used
            lines.append(f"{_iso(ts)},33,1,1,{SPOT},{high},{low},{SPOT},1000,TSLA")
    return _write(path, "\n".join(lines) + "\n")


def write_statistics(path: Path, day: date) -> Path:
    lines = [STATS_HEADER]
    ts = _iso(pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=11))
    for k in (221.0, 250.0, 300.0):
        sym = osi(day, "C", k)
        lines.append(f"{ts},{ts},24,30,1,{ts},,{int(k * 10)},1,0,9,0,1,0,{sym}")
        lines.append(f"{ts},{ts},24,30,1,{ts},,{int(k)},2,0,6,0,1,0,{sym}")
    return _write(path, "\n".join(lines) + "\n")


def make_data(
    root: Path, *, bars: bool = True, statistics: bool = False, days: tuple[date, ...] = (DAY,)
) -> Path:
    data = root / "data"
    for day in days:
        open_ts = pd.Timestamp(day, tz="America/New_York") + pd.Timedelta(hours=9, minutes=30)
        open_ts = open_ts.tz_convert("UTC")
        write_cbbo(data / "TSLA" / "cbbo-1m" / f"{day}.csv.zst", quote_rows(day, open_ts))
        if bars:
            write_bars(data / "TSLA" / "ohlcv-1m" / f"{day}.csv", open_ts)
        if statistics:
            write_statistics(data / "TSLA" / "statistics" / f"{day}.csv", day)
    return data


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return make_data(tmp_path)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog(tmp_path / "catalog")


# --------------------------------------------------------------------------- ingest + filters


def test_ingest_filters_dte_band_and_session(data: Path, catalog: Catalog) -> None:
    summary = catalog.ingest(data, progress=False)
    assert (summary.ingested, summary.skipped, summary.failed) == (1, 0, 0)
    assert catalog.symbols() == ["TSLA"]
    assert catalog.days("TSLA") == [DAY]
    q = catalog.read_quotes("TSLA", DAY)
    assert set(q["strike"]) == set(KEPT_STRIKES)
    assert {(e - DAY).days for e in q["expiry"]} == set(NEAR_EXPIRIES)
    assert q["ts"].min() > OPEN and q["ts"].max() == OPEN + pd.Timedelta(minutes=N_MIN)
    assert (q["underlying"] == "TSLA").all()
    assert set(q["option_type"]) == {"C", "P"}
    assert len(q) == summary.rows_out


def test_ingest_counts_dropped_rows_and_rows(data: Path, catalog: Catalog) -> None:
    summary = catalog.ingest(data, progress=False)
    assert summary.dropped["crossed"] == 1
    row = catalog.day_summary("TSLA").iloc[0]
    assert row["dropped_crossed"] == 1
    assert row["rows_in"] == summary.rows_in
    assert row["rows_in"] > row["rows_kept"] > 0
    assert row["rows_out"] >= row["rows_kept"]
    assert "1 day(s) ingested" in summary.summary_line() and "crossed 1" in summary.summary_line()


def test_read_quotes_dtypes_and_sort_order(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    q = catalog.read_quotes("TSLA", DAY)
    assert list(q.columns) == CATALOG_QUOTE_SCHEMA.names
    assert str(q["ts"].dtype) == "datetime64[ns, UTC]"
    assert q["quote_age_min"].dtype == np.int16
    assert q["bid_sz"].dtype == np.int64 and q["strike"].dtype == np.float64
    assert isinstance(q["expiry"].iloc[0], date)
    keys = list(zip(q["ts"].to_numpy(), q["symbol"], strict=True))
    assert keys == sorted(keys)
    assert not q.duplicated(["ts", "symbol"]).any()


def test_forward_fill_carries_last_quote_with_its_age(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    q = catalog.read_quotes("TSLA", DAY)
    sym = compact(DAY, "C", 250.0)
    one = q[q["symbol"] == sym].set_index("ts")
    # Source rows of this contract: every `step` minutes from `first` (see quote_rows).
    contracts = [(d, r, k) for d in (*NEAR_EXPIRIES, *FAR_EXPIRIES) for k in STRIKES for r in "CP"]
    i = contracts.index((0, "C", 250.0))
    step, first = 2 + i % 3, 1 + i % 4
    minutes = (pd.DatetimeIndex(one.index).asi8 - OPEN.value) // 60_000_000_000
    assert minutes[0] == first and minutes[-1] == N_MIN and len(one) == N_MIN - first + 1
    expected_age = (minutes - first) % step
    assert (one["quote_age_min"].to_numpy() == expected_age).all()
    source_minute = minutes - expected_age
    assert np.allclose(one["bid_px"].to_numpy(), 1.0 + source_minute / 100)


def test_forward_fill_unit_later_duplicate_wins_and_grid_bounds() -> None:
    o = OPEN.value
    ns = 60_000_000_000
    ts = [o + ns, o + 3 * ns, o + 2 * ns, o + 2 * ns, o - ns]
    table = pa.table(
        {
            "ts": pa.array(ts, pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
            "symbol": ["B", "B", "A", "A", "A"],
            "underlying": ["X"] * 5,
            "expiry": pa.array([DAY] * 5, pa.date32()),
            "option_type": ["C"] * 5,
            "strike": [1.0] * 5,
            "bid_px": [1.0, 2.0, 3.0, 4.0, 5.0],
            "ask_px": [1.5] * 5,
            "bid_sz": [1] * 5,
            "ask_sz": [1] * 5,
        }
    )
    out = forward_fill(table, o, o + 4 * ns).to_pandas()
    got = [(int((t - OPEN) / pd.Timedelta(minutes=1)), s, b, a) for t, s, b, a in
           zip(out["ts"], out["symbol"], out["bid_px"], out["quote_age_min"], strict=True)]  # fmt: skip
    assert got == [
        (1, "B", 1.0, 0),
        (2, "A", 4.0, 0),
        (2, "B", 1.0, 1),
        (3, "A", 4.0, 1),
        (3, "B", 2.0, 0),
        (4, "A", 4.0, 2),
        (4, "B", 2.0, 1),
    ]


def test_read_bars_regular_session_only(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    bars = catalog.read_bars("TSLA", DAY)
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert len(bars) == N_MIN
    assert bars["ts"].iloc[0] == OPEN and bars["ts"].iloc[-1] == OPEN + pd.Timedelta(minutes=N_MIN - 1)
    assert bars["low"].min() == 245.0 and bars["high"].max() == 255.0
    row = catalog.day_summary("TSLA").iloc[0]
    assert row["underlying_source"] == "bars"
    assert row["band_low"] == pytest.approx(220.5) and row["band_high"] == pytest.approx(280.5)


def test_settings_change_filters(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, settings=IngestSettings(max_dte=7, strike_band_pct=0.25), progress=False)
    q = catalog.read_quotes("TSLA", DAY)
    assert {(e - DAY).days for e in q["expiry"]} == {0, 5, 7}
    assert set(q["strike"]) == {200.0, 220.0, 221.0, 250.0, 280.0, 281.0, 300.0}


def test_atm_iv_of_expiry_nearest_30_days(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    row = catalog.day_summary("TSLA").iloc[0]
    assert row["atm_iv_expiry"] == (DAY + timedelta(days=28)).isoformat()
    assert row["atm_iv_strike"] == 250.0
    assert row["atm_iv_30d"] == pytest.approx(IV_SIGMA, abs=1e-4)


# --------------------------------------------------------------------------- OI, parity, notes


def test_open_interest_table_when_statistics_exist(tmp_path: Path, catalog: Catalog) -> None:
    data = make_data(tmp_path, statistics=True)
    catalog.ingest(data, progress=False)
    oi = catalog.read_open_interest("TSLA", DAY)
    assert oi is not None
    assert list(oi.columns) == ["symbol", "open_interest", "volume", "published"]
    # Only kept contracts (strike 300 is outside the band).
    assert list(oi["symbol"]) == [compact(DAY, "C", 221.0), compact(DAY, "C", 250.0)]
    assert list(oi["open_interest"]) == [2210.0, 2500.0] and list(oi["volume"]) == [221.0, 250.0]
    assert oi["published"].notna().all()  # each value's ts_recv: usable from then on only
    row = catalog.day_summary("TSLA").iloc[0]
    assert bool(row["oi_known"]) and bool(row["volume_known"])
    assert catalog.data_notes("TSLA", [DAY]) == []


def test_no_statistics_gives_none_and_a_note(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    assert catalog.read_open_interest("TSLA", DAY) is None
    assert not bool(catalog.day_summary("TSLA").iloc[0]["oi_known"])
    assert catalog.data_notes("TSLA", [DAY]) == [
        "TSLA: open interest/volume unavailable (no statistics files): OI/volume filters skipped"
    ]


def test_parity_fallback_without_bars(tmp_path: Path, catalog: Catalog) -> None:
    pytest.importorskip("feeds.catalog.parity")
    data = make_data(tmp_path, bars=False)
    summary = catalog.ingest(data, progress=False, strict=True)
    assert summary.ingested == 1
    row = catalog.day_summary("TSLA").iloc[0]
    assert row["underlying_source"] == "parity"
    bars = catalog.read_bars("TSLA", DAY)
    assert bars["volume"].isna().all()
    notes = catalog.data_notes("TSLA", [DAY])
    assert any("2024-01-05: underlying derived from put-call parity (no ohlcv-1m bars)" in n for n in notes)


def test_multi_day_bars_file_is_filtered_per_day(tmp_path: Path, catalog: Catalog) -> None:
    data = make_data(tmp_path, bars=False, days=(DAY, DAY2))
    open2 = pd.Timestamp("2024-01-08 14:30", tz="UTC")
    write_bars(data / "TSLA" / "ohlcv-1m" / "TSLA.ohlcv-1m.csv", OPEN, multi_days=(open2,))
    summary = catalog.ingest(data, progress=False, strict=True)
    assert summary.ingested == 2
    assert list(catalog.day_summary("TSLA")["underlying_source"]) == ["bars", "bars"]
    assert catalog.read_bars("TSLA", DAY2)["ts"].iloc[0] == open2


def test_data_notes_name_missing_days(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    notes = catalog.data_notes("TSLA", [DAY, DAY2])
    assert any(n.startswith("TSLA 2024-01-08: not in the catalog") for n in notes)


# --------------------------------------------------------------------------- incremental


def test_second_ingest_skips_unchanged_days(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    before = catalog_store.manifest_file(catalog.root, "TSLA", str(DAY)).stat().st_mtime_ns
    summary = catalog.ingest(data, progress=False)
    assert (summary.ingested, summary.skipped) == (0, 1)
    assert catalog_store.manifest_file(catalog.root, "TSLA", str(DAY)).stat().st_mtime_ns == before


def test_touching_the_source_hashes_it_once_and_keeps_the_day(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    src = data / "TSLA" / "cbbo-1m" / f"{DAY}.csv.zst"
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert catalog.ingest(data, progress=False).skipped == 1  # same content: no rebuild
    entry = catalog_store.read_manifest(catalog_store.manifest_file(catalog.root, "TSLA", str(DAY)))
    assert entry is not None and entry["sources"]["cbbo"].startswith(
        f"{st.st_size}:{st.st_mtime_ns + 1_000_000_000}:"
    )
    # Changed content under a new stat is rebuilt.
    src.write_bytes(
        zstandard.ZstdCompressor(level=9).compress(zstandard.ZstdDecompressor().decompress(src.read_bytes()))
    )
    assert catalog.ingest(data, progress=False).ingested == 1
    # Adding a statistics file is a source change too.
    write_statistics(data / "TSLA" / "statistics" / f"{DAY}.csv", DAY)
    assert catalog.ingest(data, progress=False).ingested == 1
    assert catalog.read_open_interest("TSLA", DAY) is not None


def test_unchanged_stat_reads_no_source_file(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    src = data / "TSLA" / "cbbo-1m" / f"{DAY}.csv.zst"
    st = src.stat()
    src.write_bytes(b"\0" * st.st_size)  # would fail to parse or hash differently if it were read
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert catalog.ingest(data, progress=False).skipped == 1


def test_damaged_catalog_parquet_of_same_size_is_rebuilt(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    quotes = catalog_store.day_file(catalog.root, "TSLA", "quotes", str(DAY))
    raw = bytearray(quotes.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 64] = b"\xff" * 64
    quotes.write_bytes(bytes(raw))  # same size, new mtime
    with pytest.raises(CatalogError, match="missing or damaged"):
        catalog.read_quotes("TSLA", DAY)
    assert catalog.ingest(data, progress=False).ingested == 1
    assert len(catalog.read_quotes("TSLA", DAY)) > 0


def test_source_turned_corrupt_removes_the_old_day_visibly(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    src = data / "TSLA" / "cbbo-1m" / f"{DAY}.csv.zst"
    src.write_bytes(src.read_bytes()[:-40])  # truncated
    summary = catalog.ingest(data, progress=False)
    assert summary.failed == 1 and summary.failures[0].message.endswith(
        "; the catalog's old copy of the day was removed"
    )
    assert catalog.days("TSLA") == []


def test_changing_settings_reingests(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    summary = catalog.ingest(data, settings=IngestSettings(max_dte=7), progress=False)
    assert summary.ingested == 1
    assert catalog.ingest(data, settings=IngestSettings(max_dte=7), progress=False).skipped == 1


def test_start_end_and_symbols_select_days(tmp_path: Path, catalog: Catalog) -> None:
    data = make_data(tmp_path, days=(DAY, DAY2))
    assert catalog.ingest(data, start=DAY2, progress=False).ingested == 1
    assert catalog.days("TSLA") == [DAY2]
    assert catalog.ingest(data, end=DAY, symbols=["tsla"], progress=False).ingested == 1
    with pytest.raises(CatalogError, match="no cbbo-1m data for NVDA"):
        catalog.ingest(data, symbols=["NVDA"], progress=False)


# --------------------------------------------------------------------------- atomicity


def test_crash_mid_write_leaves_no_whole_day_and_next_ingest_redoes_it(
    data: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog.ingest(data, progress=False)
    changed = IngestSettings(max_dte=6)  # forces a rebuild of the day
    real = catalog_store.write_parquet
    calls = {"n": 0}

    def crash_on_bars(path: Path, table: pa.Table) -> dict:
        calls["n"] += 1
        if calls["n"] == 2:  # quotes written, bars half-written
            path.with_name(f".{path.name}{catalog_store.TMP_MARK}{os.getpid()}").write_bytes(b"PAR1 half")
            raise OSError("disk full (simulated)")
        return real(path, table)

    monkeypatch.setattr(catalog_store, "write_parquet", crash_on_bars)
    with pytest.raises(
        CatalogError, match=rf"cannot write .*bars.*TSLA {DAY} \(disk full \(simulated\)\); free"
    ):
        catalog.ingest(data, settings=changed, progress=False)
    monkeypatch.undo()
    assert catalog.days("TSLA") == []  # the old day is gone, the new one incomplete: nothing reads as whole
    with pytest.raises(CatalogError, match="not in the catalog"):
        catalog.read_quotes("TSLA", DAY)
    summary = catalog.ingest(data, settings=changed, progress=False)
    assert summary.ingested == 1
    assert len(catalog.read_quotes("TSLA", DAY)) == summary.rows_out
    assert not list((catalog.root / "TSLA").rglob(f"*{catalog_store.TMP_MARK}*"))


def test_killed_process_mid_write_leaves_no_whole_day(data: Path, tmp_path: Path) -> None:
    root = tmp_path / "killed"
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        import pyarrow.parquet as pq
        from feeds.catalog import Catalog

        real = pq.write_table
        def dying(table, where, **kw):
            if "bars" in str(where):
                Path(where).write_bytes(b"PAR1 partial")
                os._exit(9)
            real(table, where, **kw)
        pq.write_table = dying
        Catalog(Path({str(root)!r})).ingest(Path({str(data)!r}), progress=False)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[3], timeout=60)
    assert done.returncode == 9
    catalog = Catalog(root)
    assert catalog.days("TSLA") == []
    assert (root / "TSLA" / "quotes" / f"{DAY}.parquet").exists()  # written, but not committed
    assert catalog.ingest(data, progress=False).ingested == 1
    assert catalog.days("TSLA") == [DAY]


def test_damaged_catalog_file_is_reported_and_rebuilt(data: Path, catalog: Catalog) -> None:
    catalog.ingest(data, progress=False)
    path = catalog_store.day_file(catalog.root, "TSLA", "quotes", str(DAY))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CatalogError, match="re-run ingest"):
        catalog.read_quotes("TSLA", DAY)
    assert catalog.ingest(data, progress=False).ingested == 1  # size check forces a rebuild
    assert len(catalog.read_quotes("TSLA", DAY)) > 0


# --------------------------------------------------------------------------- bad input


def _truncate(path: Path) -> None:
    raw = zstandard.ZstdDecompressor().decompress(path.read_bytes(), max_output_size=1 << 28)
    path.write_bytes(zstandard.ZstdCompressor().compress(raw)[: len(raw) // 40])


def test_truncated_day_is_skipped_with_its_name(tmp_path: Path, catalog: Catalog) -> None:
    data = make_data(tmp_path, days=(DAY, DAY2))
    bad = data / "TSLA" / "cbbo-1m" / f"{DAY2}.csv.zst"
    _truncate(bad)
    summary = catalog.ingest(data, progress=False)
    assert (summary.ingested, summary.failed) == (1, 1)
    assert summary.failures[0].path == str(bad)
    assert str(bad) in summary.failures[0].message
    assert catalog.days("TSLA") == [DAY]
    assert "1 failed" in summary.summary_line()


def test_truncated_day_in_strict_mode_raises(tmp_path: Path, catalog: Catalog) -> None:
    data = make_data(tmp_path)
    bad = data / "TSLA" / "cbbo-1m" / f"{DAY}.csv.zst"
    _truncate(bad)
    with pytest.raises(DataFileError, match=str(bad.name)):
        catalog.ingest(data, progress=False, strict=True)
    assert catalog.days("TSLA") == []


def test_corrupt_bars_file_is_reported_with_its_name(data: Path, catalog: Catalog) -> None:
    bars = data / "TSLA" / "ohlcv-1m" / f"{DAY}.csv"
    bars.write_text("garbage,header\n1,2\n")
    summary = catalog.ingest(data, progress=False)
    assert summary.failed == 1 and summary.failures[0].path == str(bars)


def test_non_session_day_is_skipped(tmp_path: Path, catalog: Catalog) -> None:
    data = make_data(tmp_path)
    saturday = data / "TSLA" / "cbbo-1m" / "2024-01-06.csv.zst"
    saturday.write_bytes((data / "TSLA" / "cbbo-1m" / f"{DAY}.csv.zst").read_bytes())
    summary = catalog.ingest(data, progress=False)
    assert summary.failed == 1 and "not an NYSE trading session" in summary.failures[0].message


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_dte": -1}, "max_dte"),
        ({"max_dte": 2.5}, "max_dte"),
        ({"strike_band_pct": 0.0}, "strike_band_pct"),
        ({"strike_band_pct": 10}, "strike_band_pct"),
        ({"rate": math.nan}, "rate"),
    ],
)
def test_ingest_settings_reject_bad_values(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(CatalogError, match=match):
        IngestSettings(**kwargs)  # type: ignore[arg-type]


def test_ingest_missing_data_folder_is_one_clear_error(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        catalog.ingest(tmp_path / "nope", progress=False)


# --------------------------------------------------------------------------- CLI


def test_cli_ingest_then_info(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "cli-catalog"
    assert cli_main(["ingest", "--data", str(data), "--catalog", str(root), "--quiet", "--max-dte", "7"]) == 0
    out = capsys.readouterr().out
    assert "1 day(s) ingested" in out
    assert cli_main(["info", "--catalog", str(root)]) == 0
    out = capsys.readouterr().out
    assert "TSLA: 1 day(s) 2024-01-05..2024-01-05" in out and "open interest/volume unavailable" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["ingest", "--data", "/no/such/dir", "--catalog", "/tmp/x"],
        ["ingest", "--data", ".", "--catalog", "/tmp/x", "--start", "2024-13-01"],
        ["ingest", "--data", ".", "--catalog", "/tmp/x", "--strike-band", "5"],
        ["info", "--catalog", "/no/such/catalog"],
        ["frobnicate"],
    ],
)
def test_cli_bad_input_exits_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = cli_main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err and "Traceback" not in err
    assert len(err.splitlines()) <= 3  # argparse prints usage + one error line


def test_cli_failed_day_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = make_data(tmp_path)
    _truncate(data / "TSLA" / "cbbo-1m" / f"{DAY}.csv.zst")
    code = cli_main(["ingest", "--data", str(data), "--catalog", str(tmp_path / "c"), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    assert f"{DAY}.csv.zst" in err and "Traceback" not in err
    assert (
        cli_main(["ingest", "--data", str(data), "--catalog", str(tmp_path / "c"), "--quiet", "--strict"])
        == 1
    )


def test_deleted_source_day_removed_from_the_catalog_visibly(tmp_path: Path, catalog: Catalog) -> None:
    data = make_data(tmp_path, days=(DAY, DAY2))
    catalog.ingest(data, progress=False)
    gone = data / "TSLA" / "cbbo-1m" / f"{DAY2}.csv.zst"
    gone.unlink()
    summary = catalog.ingest(data, progress=False)
    assert catalog.days("TSLA") == [DAY]
    assert [f.line() for f in summary.failures] == [
        f"TSLA {DAY2}: {gone}: source file is gone; the catalog's copy of the day was removed"
    ]


def test_info_piped_into_a_closed_reader_exits_quietly(data: Path, catalog: Catalog) -> None:
    import subprocess
    import sys

    catalog.ingest(data, progress=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "feeds.catalog", "info", "--catalog", str(catalog.root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head` that has already gone
    err = proc.stderr.read().decode()
    assert proc.wait() == 0
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_statistics_published_after_the_close_are_invisible_that_day(
    tmp_path: Path, catalog: Catalog
) -> None:
    """06:30 ET: yesterday's OI (2210); 17:30 ET: today's final OI and volume. A 10:00 decision sees 2210."""
    from feeds.catalog.chain import ChainProvider

    data = make_data(tmp_path, statistics=True)
    sym = osi(DAY, "C", 221.0)
    morning = _iso(pd.Timestamp(DAY, tz="UTC") + pd.Timedelta(hours=11, minutes=30))  # 06:30 ET
    evening = _iso(pd.Timestamp(DAY, tz="UTC") + pd.Timedelta(hours=22, minutes=30))  # 17:30 ET
    lines = [
        STATS_HEADER,
        f"{morning},{morning},24,30,1,{morning},,2210,1,0,9,0,1,0,{sym}",
        f"{evening},{evening},24,30,1,{evening},,9999,2,0,9,0,1,0,{sym}",
        f"{evening},{evening},24,30,1,{evening},,777,3,0,6,0,1,0,{sym}",
    ]
    _write(data / "TSLA" / "statistics" / f"{DAY}.csv", "\n".join(lines) + "\n")
    catalog.ingest(data, progress=False)
    oi = catalog.read_open_interest("TSLA", DAY)
    assert oi is not None and list(oi["open_interest"]) == [2210.0]  # the 17:30 row cannot reach the day
    snap = ChainProvider(catalog, "TSLA").snapshot(
        pd.Timestamp(DAY, tz="UTC").to_pydatetime() + pd.Timedelta(hours=15), SPOT
    )
    row = next(i for i, s in enumerate(snap.symbol) if s == compact(DAY, "C", 221.0))
    assert snap.open_interest[row] == 2210.0 and np.isnan(snap.volume[row]) and not snap.volume_known
