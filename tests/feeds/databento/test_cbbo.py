from __future__ import annotations

import gzip
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import zstandard

from feeds.databento.cbbo import (
    DATABENTO_CBBO_HEADER,
    QUOTE_ARROW_SCHEMA,
    SEED_CBBO_HEADER,
    DataFileError,
    DataQualityWarning,
    ReadStats,
    iter_cbbo_arrow,
    iter_cbbo_batches,
    read_bars,
    read_cbbo,
    read_statistics,
)
from feeds.schema import BAR_COLUMNS, DROP_REASONS, QUOTE_COLUMNS
from options_scalper.model import ScalperError

INT64_MAX = 9_223_372_036_854_775_807
T0 = pd.Timestamp("2024-01-03 14:31:00", tz="UTC")


# ---------------------------------------------------------------- fixture writers


def _ts_text(ts: pd.Timestamp | None, kind: str) -> str:
    if ts is None:
        return ""
    if kind == "int":
        return str(ts.value)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.value % 1_000_000_000:09d}Z"


def _px_text(px: float | None, kind: str) -> str:
    if px is None or (isinstance(px, float) and np.isnan(px)):
        return str(INT64_MAX) if kind == "fixed" else ""
    return str(round(px * 1e9)) if kind == "fixed" else f"{px:.9f}"


def _osi(symbol: str) -> str:
    tail = symbol[-15:]
    return symbol[:-15].ljust(6) + tail


def write_cbbo(
    path: Path,
    rows: list[tuple],
    *,
    layout: str = "seed",
    ts_kind: str = "iso",
    px_kind: str = "decimal",
    padded: bool = False,
    compress: bool | None = None,
    frames: int = 1,
) -> Path:
    """rows: (ts, symbol, bid, ask, bid_sz, ask_sz)."""
    if layout == "seed":
        lines = [",".join(SEED_CBBO_HEADER)]
        for ts, sym, bid, ask, bsz, asz in rows:
            s = _osi(sym) if padded else sym
            lines.append(
                f"{_ts_text(ts, ts_kind)},{_ts_text(ts, ts_kind)},{s},{_px_text(bid, px_kind)},"
                f"{_px_text(ask, px_kind)},{bsz},{asz},1,1"
            )
    else:
        lines = [",".join(DATABENTO_CBBO_HEADER)]
        for i, (ts, sym, bid, ask, bsz, asz) in enumerate(rows):
            s = _osi(sym) if padded else sym
            lines.append(
                f"{_ts_text(ts, ts_kind)},,193,30,{1000 + i},N,{_px_text(None, px_kind)},0,0,"
                f"{_px_text(bid, px_kind)},{_px_text(ask, px_kind)},{bsz},{asz},30,30,{s}"
            )
    data = ("\n".join(lines) + "\n").encode()
    if compress is None:
        compress = path.name.endswith(".zst")
    if compress:
        step = max(1, len(data) // frames + 1)
        data = b"".join(
            zstandard.ZstdCompressor().compress(data[i : i + step]) for i in range(0, len(data), step)
        )
    path.write_bytes(data)
    return path


C250 = "TSLA240105C00250000"
P250 = "TSLA240105P00250000"
C255 = "TSLA240105C00255000"
C2_5 = "F240119C00002500"


def clean_rows() -> list[tuple]:
    t1 = T0 + pd.Timedelta(minutes=1)
    return [
        (T0, P250, 2.25, 2.35, 10, 20),
        (T0, C250, 1.25, 1.35, 50, 75),
        (T0, C2_5, 0.05, 0.07, 1, 2),
        (t1, C255, 1.0, 1.1, 5, 6),
        (t1, C250, 1.3, 1.4, 7, 8),
    ]


# ---------------------------------------------------------------- layouts and formats


@pytest.mark.parametrize("layout", ["seed", "databento"])
@pytest.mark.parametrize("ts_kind", ["iso", "int"])
@pytest.mark.parametrize("px_kind", ["decimal", "fixed"])
@pytest.mark.parametrize("suffix", [".csv", ".csv.zst"])
def test_read_cbbo_all_layouts_and_formats_give_same_quotes(tmp_path, layout, ts_kind, px_kind, suffix):
    path = write_cbbo(
        tmp_path / f"2024-01-03{suffix}",
        clean_rows(),
        layout=layout,
        ts_kind=ts_kind,
        px_kind=px_kind,
        padded=True,
    )
    stats = ReadStats()
    df = read_cbbo(path, stats=stats)
    assert list(df.columns) == list(QUOTE_COLUMNS)
    assert str(df["ts"].dtype) == "datetime64[ns, UTC]"
    assert df["bid_sz"].dtype == np.int64
    assert df["strike"].dtype == np.float64
    t1 = T0 + pd.Timedelta(minutes=1)
    assert df["ts"].tolist() == [T0, T0, T0, t1, t1]
    assert df["symbol"].tolist() == [C2_5, C250, P250, C250, C255]  # compact, sorted by ts then symbol
    assert df["underlying"].tolist() == ["F", "TSLA", "TSLA", "TSLA", "TSLA"]
    assert df["expiry"].tolist() == [date(2024, 1, 19)] + [date(2024, 1, 5)] * 4
    assert all(type(e) is date for e in df["expiry"])
    assert df["option_type"].tolist() == ["C", "C", "P", "C", "C"]
    assert df["strike"].tolist() == [2.5, 250.0, 250.0, 250.0, 255.0]
    np.testing.assert_allclose(df["bid_px"], [0.05, 1.25, 2.25, 1.3, 1.0])
    np.testing.assert_allclose(df["ask_px"], [0.07, 1.35, 2.35, 1.4, 1.1])
    assert df["bid_sz"].tolist() == [1, 50, 10, 7, 5]
    assert stats.rows_in == 5 and stats.rows_out == 5 and sum(stats.dropped.values()) == 0


def test_read_cbbo_keeps_nanosecond_ts_recv(tmp_path):
    ts = T0 + pd.Timedelta(nanoseconds=123_456_789)
    df = read_cbbo(write_cbbo(tmp_path / "d.csv", [(ts, C250, 1.0, 1.1, 1, 1)]))
    assert df["ts"].iloc[0] == ts


def test_read_cbbo_naive_iso_timestamps_are_utc(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(",".join(SEED_CBBO_HEADER) + f"\n2024-01-03T14:31:00,,{C250},1.0,1.1,1,1,1,1\n")
    assert read_cbbo(path)["ts"].iloc[0] == T0


def test_read_cbbo_multi_frame_zstd_reads_every_frame(tmp_path):
    rows = [(T0 + pd.Timedelta(minutes=m), C250, 1.0, 1.1, 1, 1) for m in range(300)]
    path = write_cbbo(tmp_path / "d.csv.zst", rows, frames=4)
    assert len(read_cbbo(path)) == 300


def test_iter_cbbo_arrow_small_blocks_yield_ordered_tables_matching_read_cbbo(tmp_path):
    rows = []
    for m in range(60):
        ts = T0 + pd.Timedelta(minutes=m)
        for k in range(20):
            rows.append((ts, f"TSLA240105C00{200 + k:03d}000", 1.0 + k / 100, 1.1 + k / 100, k, k + 1))
    path = write_cbbo(tmp_path / "d.csv.zst", rows, layout="databento", padded=True)
    tables = list(iter_cbbo_arrow(path, block_size=4096))
    assert len(tables) > 5
    for t in tables:
        assert t.schema == QUOTE_ARROW_SCHEMA
    whole = pa.concat_tables(tables)
    ts = whole["ts"].cast(pa.int64()).to_numpy()
    assert np.all(np.diff(ts) >= 0)
    # a minute is never split across tables
    bounds = [t["ts"][0].value for t in tables[1:]]
    lasts = [t["ts"][-1].value for t in tables[:-1]]
    assert all(b > e for b, e in zip(bounds, lasts, strict=True))
    frame = read_cbbo(path)
    assert len(frame) == whole.num_rows == 1200
    assert frame["symbol"].tolist() == whole["symbol"].to_pylist()
    batches = list(iter_cbbo_batches(path, block_size=4096))
    assert sum(len(b) for b in batches) == 1200
    assert list(batches[0].columns) == list(QUOTE_COLUMNS)


# ---------------------------------------------------------------- dirty quotes


def test_read_cbbo_dirty_rows_counted_per_kind_and_dropped(tmp_path):
    rows = [
        (T0, C250, 1.25, 1.35, 50, 75),  # clean
        (T0, "TSLA240105C00255000", None, None, 1, 1),  # nan_price
        (T0, "TSLA240105C00260000", 1.0, None, 1, 1),  # missing_side (ask)
        (T0, "TSLA240105C00265000", None, 0.5, 1, 1),  # missing_side (bid)
        (T0, "TSLA240105C00270000", 0.0, 0.05, 1, 1),  # zero bid
        (T0, "TSLA240105C00275000", -0.01, 0.05, 1, 1),  # negative bid
        (T0, "TSLA240105C00280000", 0.5, 0.4, 1, 1),  # crossed
        (T0, "TSLA240105C00285000", 0.5, 0.5, 0, 0),  # locked: kept, zero sizes kept
    ]
    stats = ReadStats()
    df = read_cbbo(write_cbbo(tmp_path / "d.csv", rows), stats=stats)
    assert df["symbol"].tolist() == [C250, "TSLA240105C00285000"]
    assert stats.dropped == {
        "nan_price": 1,
        "missing_side": 2,
        "zero_or_negative_bid": 2,
        "crossed": 1,
    }
    assert stats.locked == 1
    assert stats.rows_in == 8 and stats.rows_out == 2
    assert set(stats.dropped) <= set(DROP_REASONS)


def test_read_cbbo_fixed_point_undefined_price_is_nan_and_dropped(tmp_path):
    rows = [(T0, C250, None, 1.35, 1, 1), (T0, P250, 2.0, 2.1, 1, 1)]
    stats = ReadStats()
    df = read_cbbo(
        write_cbbo(tmp_path / "d.csv", rows, layout="databento", ts_kind="int", px_kind="fixed"), stats=stats
    )
    assert df["symbol"].tolist() == [P250]
    assert stats.dropped["missing_side"] == 1


def test_read_cbbo_bad_symbols_counted_dropped_with_one_warning(tmp_path):
    rows = [(T0, C250, 1.0, 1.1, 1, 1)] + [(T0, f"JUNK{i}", 1.0, 1.1, 1, 1) for i in range(50)]
    path = write_cbbo(tmp_path / "d.csv", rows)
    stats = ReadStats()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = read_cbbo(path, stats=stats)
    quality = [w for w in caught if issubclass(w.category, DataQualityWarning)]
    assert len(quality) == 1
    assert str(path) in str(quality[0].message) and "JUNK" in str(quality[0].message)
    assert df["symbol"].tolist() == [C250]
    assert stats.dropped["bad_symbol"] == 50
    assert 1 <= len(stats.bad_symbol_examples) <= 5


def test_read_cbbo_out_of_order_rows_counted_and_resorted(tmp_path):
    t = [T0 + pd.Timedelta(minutes=m) for m in range(4)]
    rows = [
        (t[0], C250, 1.0, 1.1, 1, 1),
        (t[2], C250, 1.2, 1.3, 1, 1),
        (t[1], C250, 1.1, 1.2, 1, 1),  # late
        (t[3], C250, 1.3, 1.4, 1, 1),
        (t[0], P250, 2.0, 2.1, 1, 1),  # late
    ]
    stats = ReadStats()
    df = read_cbbo(write_cbbo(tmp_path / "d.csv", rows), stats=stats)
    assert df["ts"].tolist() == [t[0], t[0], t[1], t[2], t[3]]
    assert df["symbol"].tolist() == [C250, P250, C250, C250, C250]
    assert stats.out_of_order == 2
    assert stats.rows_out == 5
    assert "out_of_order" not in stats.dropped


def test_read_cbbo_out_of_order_across_small_blocks_is_resorted(tmp_path):
    rows = [(T0 + pd.Timedelta(minutes=m), C250, 1.0, 1.1, 1, 1) for m in range(200)]
    rows.append((T0, P250, 2.0, 2.1, 1, 1))  # far back in time, in the last block
    rows.append((T0 + pd.Timedelta(minutes=5), C250, 9.0, 9.1, 1, 1))  # late duplicate replaces
    stats = ReadStats()
    df = read_cbbo(write_cbbo(tmp_path / "d.csv", rows), stats=stats, block_size=2048)
    assert df["ts"].is_monotonic_increasing
    assert len(df) == 201
    assert df.loc[df["ts"] == T0 + pd.Timedelta(minutes=5), "bid_px"].tolist() == [9.0]
    assert stats.out_of_order == 2 and stats.duplicates == 1
    assert stats.rows_out == len(df)


def test_read_cbbo_duplicates_counted_and_last_kept(tmp_path):
    rows = [
        (T0, C250, 1.0, 1.1, 1, 1),
        (T0, C250, 1.0, 1.1, 1, 1),
        (T0, C250, 1.05, 1.15, 2, 2),
        (T0, P250, 2.0, 2.1, 1, 1),
    ]
    stats = ReadStats()
    df = read_cbbo(write_cbbo(tmp_path / "d.csv", rows, padded=True), stats=stats)
    assert df["symbol"].tolist() == [C250, P250]
    assert df["bid_px"].tolist() == [1.05, 2.0]
    assert stats.dropped["duplicate"] == 2 and stats.duplicates == 2


def test_read_cbbo_padded_and_compact_same_contract_are_duplicates(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        ",".join(SEED_CBBO_HEADER) + "\n"
        f"2024-01-03T14:31:00Z,,{C250},1.0,1.1,1,1,1,1\n"
        f"2024-01-03T14:31:00Z,,{_osi(C250)},1.2,1.3,1,1,1,1\n"
    )
    stats = ReadStats()
    df = read_cbbo(path, stats=stats)
    assert df["symbol"].tolist() == [C250] and df["bid_px"].tolist() == [1.2]
    assert stats.duplicates == 1


def test_read_cbbo_row_with_wrong_field_count_counted_as_bad_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        ",".join(SEED_CBBO_HEADER) + "\n"
        f"2024-01-03T14:31:00Z,,{C250},1.0,1.1,1,1,1,1\n"
        f"2024-01-03T14:31:00Z,,{P250},1.0,1.1,1,1,1,1,EXTRA\n"
        "garbage\n"
    )
    stats = ReadStats()
    df = read_cbbo(path, stats=stats)
    assert df["symbol"].tolist() == [C250]
    assert stats.dropped["bad_row"] == 2 and stats.rows_in == 3


# ---------------------------------------------------------------- bad input


def test_read_cbbo_empty_file_raises(tmp_path):
    path = tmp_path / "2024-01-03.csv"
    path.write_bytes(b"")
    with pytest.raises(DataFileError, match="empty file") as info:
        read_cbbo(path)
    assert str(path) in str(info.value) and isinstance(info.value, ScalperError)


def test_read_cbbo_empty_zstd_raises(tmp_path):
    path = tmp_path / "2024-01-03.csv.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(b""))
    with pytest.raises(DataFileError, match="empty file"):
        read_cbbo(path)


@pytest.mark.parametrize("suffix", [".csv", ".csv.zst"])
def test_read_cbbo_header_only_gives_empty_frame(tmp_path, suffix):
    path = write_cbbo(tmp_path / f"d{suffix}", [], layout="databento")
    stats = ReadStats()
    df = read_cbbo(path, stats=stats)
    assert len(df) == 0 and list(df.columns) == list(QUOTE_COLUMNS)
    assert stats.rows_in == 0 and stats.files == 1


def test_read_cbbo_unknown_header_lists_expected_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("time,sym,bid,ask\n2024-01-03T14:31:00Z,X,1,2\n")
    with pytest.raises(DataFileError) as info:
        read_cbbo(path)
    msg = str(info.value)
    assert str(path) in msg and "ts_recv,ts_event,symbol,bid_px" in msg and "bid_px_00" in msg
    assert "\n" not in msg


def test_read_cbbo_gzip_named_zst_says_gzip_not_zstd(tmp_path):
    path = tmp_path / "2024-01-03.csv.zst"
    path.write_bytes(gzip.compress(b"ts_recv,symbol\n"))
    with pytest.raises(DataFileError, match="gzip, not zstd: decompress or rename"):
        read_cbbo(path)


def test_read_cbbo_plain_text_named_zst_raises(tmp_path):
    path = tmp_path / "2024-01-03.csv.zst"
    path.write_text("ts_recv,symbol\n")
    with pytest.raises(DataFileError, match="not a zstd file"):
        read_cbbo(path)


def test_read_cbbo_truncated_zstd_raises(tmp_path):
    rows = [(T0 + pd.Timedelta(minutes=m), C250, 1.0, 1.1, 1, 1) for m in range(2000)]
    full = write_cbbo(tmp_path / "full.csv.zst", rows)
    cut = tmp_path / "cut.csv.zst"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(DataFileError, match="truncated zstd") as info:
        read_cbbo(cut)
    assert str(cut) in str(info.value)


def test_read_cbbo_missing_file_raises(tmp_path):
    with pytest.raises(DataFileError, match="cannot open"):
        read_cbbo(tmp_path / "nope.csv")


def test_read_cbbo_non_numeric_price_names_file_and_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        ",".join(SEED_CBBO_HEADER) + "\n"
        f"2024-01-03T14:31:00Z,,{C250},1.0,1.1,1,1,1,1\n"
        f"2024-01-03T14:31:00Z,,{P250},abc,1.1,1,1,1,1\n"
    )
    with pytest.raises(DataFileError) as info:
        read_cbbo(path)
    assert str(path) in str(info.value) and "line 3" in str(info.value) and "abc" in str(info.value)


def test_read_cbbo_non_numeric_price_in_later_block_raises_and_closes(tmp_path):
    rows = [(T0 + pd.Timedelta(minutes=m), C250, 1.0, 1.1, 1, 1) for m in range(3000)]
    path = write_cbbo(tmp_path / "d.csv.zst", rows)
    text = zstandard.ZstdDecompressor().decompress(path.read_bytes()).decode()
    text = text.rstrip("\n") + f"\n2024-01-05T14:31:00Z,,{C250},oops,1.1,1,1,1,1\n"
    path.write_bytes(zstandard.ZstdCompressor().compress(text.encode()))
    with pytest.raises(DataFileError, match="oops") as info:
        for _ in iter_cbbo_arrow(path, block_size=8192):
            pass
    assert "after line" in str(info.value)


def test_read_stats_merge_and_summary_line():
    a = ReadStats(rows_in=10, rows_out=7, files=1, bad_symbol_examples=["X"])
    a.dropped.update({"crossed": 2, "duplicate": 1})
    b = ReadStats(rows_in=5, rows_out=5, files=1, out_of_order=3, locked=1)
    b.dropped.update({"crossed": 1})
    a.merge(b)
    assert (a.rows_in, a.rows_out, a.files, a.out_of_order, a.locked) == (15, 12, 2, 3, 1)
    assert a.dropped["crossed"] == 3 and a.duplicates == 1
    line = a.summary_line()
    assert "\n" not in line and "crossed 3" in line and "out of order 3" in line


# ---------------------------------------------------------------- bars


def _bars_databento(rows: list[tuple], *, ts_kind: str = "iso", px_kind: str = "decimal") -> str:
    lines = ["ts_event,rtype,publisher_id,instrument_id,open,high,low,close,volume,symbol"]
    for ts, o, h, low, c, v, sym in rows:
        px = ",".join(_px_text(x, px_kind) for x in (o, h, low, c))
        lines.append(f"{_ts_text(ts, ts_kind)},33,2,15144,{px},{v},{sym}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("ts_kind", ["iso", "int"])
@pytest.mark.parametrize("px_kind", ["decimal", "fixed"])
@pytest.mark.parametrize("suffix", [".csv", ".csv.zst"])
def test_read_bars_databento_formats(tmp_path, ts_kind, px_kind, suffix):
    b0 = pd.Timestamp("2024-01-03 14:30", tz="UTC")
    rows = [
        (b0 + pd.Timedelta(minutes=1), 250.5, 251.0, 250.0, 250.75, 1200, "TSLA"),
        (b0, 250.0, 250.6, 249.9, 250.5, 1000, "TSLA"),
        (b0 + pd.Timedelta(minutes=3), 251.0, 251.0, 250.0, 250.25, 10, "TSLA"),  # gap at +2
    ]
    text = _bars_databento(rows, ts_kind=ts_kind, px_kind=px_kind).encode()
    path = tmp_path / f"bars{suffix}"
    path.write_bytes(zstandard.ZstdCompressor().compress(text) if suffix.endswith("zst") else text)
    df = read_bars(path, symbol="TSLA")
    assert list(df.columns) == list(BAR_COLUMNS)
    assert str(df["ts"].dtype) == "datetime64[ns, UTC]"
    assert df["ts"].tolist() == [b0, b0 + pd.Timedelta(minutes=1), b0 + pd.Timedelta(minutes=3)]
    np.testing.assert_allclose(df["close"], [250.5, 250.75, 250.25])
    np.testing.assert_allclose(df["volume"], [1000, 1200, 10])


def test_read_bars_multi_symbol_file_filters_by_symbol(tmp_path):
    b0 = pd.Timestamp("2024-01-03 14:30", tz="UTC")
    rows = [
        (b0, 1, 1, 1, 1, 5, "TSLA"),
        (b0, 2, 2, 2, 2, 6, "NVDA"),
        (b0 + pd.Timedelta(minutes=1), 3, 3, 3, 3, 7, "TSLA"),
    ]
    path = tmp_path / "bars.csv"
    path.write_text(_bars_databento(rows))
    df = read_bars(path, symbol="tsla")
    assert df["close"].tolist() == [1.0, 3.0]
    with pytest.raises(DataFileError, match="symbol="):
        read_bars(path)
    with pytest.raises(DataFileError, match="no bars for symbol 'SPY'"):
        read_bars(path, symbol="SPY")


def test_read_bars_duplicates_dropped_last_kept(tmp_path):
    b0 = pd.Timestamp("2024-01-03 14:30", tz="UTC")
    path = tmp_path / "bars.csv"
    path.write_text(_bars_databento([(b0, 1, 1, 1, 1, 5, "TSLA"), (b0, 2, 2, 2, 2, 6, "TSLA")]))
    df = read_bars(path)
    assert df["close"].tolist() == [2.0]


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [("2024-01-03", 14), ("2024-07-03", 13)],  # EST (UTC-5) in January, EDT (UTC-4) in July
)
def test_read_bars_plain_naive_times_are_eastern_bar_start(tmp_path, day, utc_hour):
    path = tmp_path / "plain.csv"
    path.write_text(
        f"datetime,open,high,low,close,volume\n{day} 09:30:00,10,11,9,10.5,100\n{day} 09:31:00,10.5,11,10,10.8,50\n"
    )
    df = read_bars(path, symbol="TSLA")  # no symbol column: symbol ignored
    assert df["ts"].iloc[0] == pd.Timestamp(f"{day} {utc_hour}:30", tz="UTC")
    assert df["ts"].iloc[1] == pd.Timestamp(f"{day} {utc_hour}:31", tz="UTC")
    assert list(df.columns) == list(BAR_COLUMNS)


def test_read_bars_plain_zoned_times_are_kept(tmp_path):
    path = tmp_path / "plain.csv.zst"
    text = "Datetime,Open,High,Low,Close,Volume\n2024-07-03T09:30:00-04:00,1,1,1,1,1\n2024-01-03T09:30:00-05:00,1,1,1,1,1\n"
    path.write_bytes(zstandard.ZstdCompressor().compress(text.encode()))
    df = read_bars(path)
    assert df["ts"].tolist() == [
        pd.Timestamp("2024-01-03 14:30", tz="UTC"),
        pd.Timestamp("2024-07-03 13:30", tz="UTC"),
    ]


def test_read_bars_header_only_and_bad_header(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text("datetime,open,high,low,close,volume\n")
    empty = read_bars(path)
    assert len(empty) == 0 and list(empty.columns) == list(BAR_COLUMNS)
    path.write_text("when,price\n1,2\n")
    with pytest.raises(DataFileError, match="datetime,open,high,low,close,volume"):
        read_bars(path)
    path.write_bytes(b"")
    with pytest.raises(DataFileError, match="empty file"):
        read_bars(path)


def test_read_bars_non_numeric_price_names_line(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text(
        "datetime,open,high,low,close,volume\n2024-01-03 09:30,1,1,1,1,1\n2024-01-03 09:31,1,x,1,1,1\n"
    )
    with pytest.raises(DataFileError, match="line 3"):
        read_bars(path)


def test_read_bars_wrong_rtype_rejected(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text(_bars_databento([(T0, 1, 1, 1, 1, 1, "TSLA")]).replace(",33,", ",35,"))
    with pytest.raises(DataFileError, match="ohlcv-1m"):
        read_bars(path)


# ---------------------------------------------------------------- statistics


def test_read_statistics_last_oi_and_volume_per_symbol(tmp_path):
    header = "ts_recv,ts_event,rtype,publisher_id,instrument_id,ts_ref,price,quantity,sequence,ts_in_delta,stat_type,channel_id,update_action,stat_flags,symbol"

    def row(sym: str, qty: str, stat: int, action: int = 1) -> str:
        return f"2024-01-03T11:00:00Z,2024-01-03T11:00:00Z,24,30,1,,,{qty},1,0,{stat},0,{action},0,{sym}"

    lines = [
        header,
        row(_osi(C250), "1000", 9),
        row(_osi(C250), "1500", 9),  # later OI wins
        row(_osi(C250), "700", 6),
        row(_osi(P250), "300", 9),
        row(_osi(P250), "2147483647", 6),  # undefined quantity
        row(_osi(C255), "10", 9),
        row(_osi(C255), "99", 9, action=2),  # delete: ignored
        row("JUNK", "5", 9),
        row(_osi(C2_5), "42", 1),  # another stat type
    ]
    path = tmp_path / "2024-01-03.csv.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(("\n".join(lines) + "\n").encode()))
    df = read_statistics(path)
    assert list(df.columns) == ["symbol", "open_interest", "volume", "published"]
    assert (df["published"] == pd.Timestamp("2024-01-03T11:00:00Z")).all()  # one publication: its ts_recv
    got = df.set_index("symbol")
    assert got.loc[C250, "open_interest"] == 1500 and got.loc[C250, "volume"] == 700
    assert got.loc[P250, "open_interest"] == 300 and np.isnan(
        got["volume"].to_numpy()[list(got.index).index(P250)]
    )
    assert got.loc[C255, "open_interest"] == 10
    assert set(got.index) == {C250, P250, C255}


def test_read_statistics_bad_header_and_header_only(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataFileError, match="stat_type"):
        read_statistics(path)
    path.write_text("ts_recv,quantity,stat_type,symbol\n")
    assert len(read_statistics(path)) == 0
