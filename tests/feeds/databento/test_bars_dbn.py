"""Bars and statistics: DBN == transcoded CSV, per-venue consolidation, bad bars dropped and counted,
files without symbols, vendor headers and the naive-time rule."""

from __future__ import annotations

from datetime import date

import databento_dbn as dbn
import numpy as np
import pandas as pd
import pytest
import zstandard

from feeds.databento.bars import BarStats, read_bars, read_statistics
from feeds.databento.dbn_tables import definition_symbols
from feeds.databento.symbology import SymbolMap
from feeds.databento.textio import DataFileError
from tests.feeds.databento.dbn_files import PUBLIC, encode, metadata, to_csv, write

DAY = date(2024, 1, 3)
T0 = pd.Timestamp("2024-01-03 14:30:00", tz="UTC")


def _bar(
    iid: int, minute: int, o: float, h: float, lo: float, c: float, v: int, pub: int = 2
) -> dbn.OHLCVMsg:
    return dbn.OHLCVMsg(
        rtype=33,
        publisher_id=pub,
        instrument_id=iid,
        ts_event=(T0 + pd.Timedelta(minutes=minute)).value,
        open=round(o * 1e9),
        high=round(h * 1e9),
        low=round(lo * 1e9),
        close=round(c * 1e9),
        volume=v,
    )


def _bars_files(tmp_path, records, ids, *, mapped=True):
    data = encode(metadata(dbn.Schema.OHLCV_1M, [DAY], ids, mapped=mapped), records)
    return (
        write(tmp_path / "xnas-itch-20240103.ohlcv-1m.dbn.zst", data),
        write(tmp_path / "xnas-itch-20240103.ohlcv-1m.csv", to_csv(data, map_symbols=mapped)),
    )


def test_read_bars_dbn_equals_transcoded_csv_and_picks_the_symbol(tmp_path):
    ids = {"SPY": 1, "QQQ": 2}
    records = [_bar(1, m, 470 + m, 471 + m, 469 + m, 470.5 + m, 100 + m) for m in range(3)]
    records += [_bar(2, m, 400, 401, 399, 400.5, 50) for m in range(3)]
    records.sort(key=lambda r: r.ts_event)
    dbn_path, csv_path = _bars_files(tmp_path, records, ids)
    a, b = read_bars(dbn_path, symbol="SPY"), read_bars(csv_path, symbol="SPY")
    pd.testing.assert_frame_equal(a, b)
    assert a["close"].tolist() == [470.5, 471.5, 472.5]


def test_read_bars_multi_instrument_without_symbols_refused_not_mixed(tmp_path):
    ids = {"SPY": 1, "TSLA": 2}
    records = [_bar(1, 0, 470, 471, 469, 470, 10), _bar(2, 0, 250, 251, 249, 250, 10)]
    dbn_path, csv_path = _bars_files(tmp_path, records, ids, mapped=False)
    for path in (dbn_path, csv_path):
        with pytest.raises(DataFileError, match=r"holds bars of 2 instruments .*cannot be told apart"):
            read_bars(path, symbol="SPY")
    mapping = SymbolMap.from_metadata(metadata(dbn.Schema.OHLCV_1M, [DAY], ids))
    assert read_bars(csv_path, symbol="SPY", symbols=mapping)["close"].tolist() == [470.0]


def test_read_bars_public_opra_venues_consolidated_not_last_row():
    stats = BarStats()
    bars = read_bars(PUBLIC / "test_data.ohlcv-1m.dbn.zst", stats=stats)
    assert len(bars) == 1 and stats.consolidated_minutes == 1
    row = bars.iloc[0]
    # four venues: volume 70+19+20+80, high max, low min, open/close of the busiest venue (80)
    assert (row["volume"], row["high"], row["low"]) == (189.0, 0.38, 0.19)
    assert (row["open"], row["close"]) == (0.19, 0.35)


def test_read_bars_bad_bars_dropped_and_counted_day_trades_on(tmp_path):
    text = "datetime,open,high,low,close,volume\n" + "\n".join(
        [
            "2024-01-03 09:30:00,470,471,469,470.5,100",
            "2024-01-03 09:31:00,470,471,469,,100",  # NaN close
            "2024-01-03 09:32:00,470,471,469,-1,100",  # negative
            "2024-01-03 09:33:00,0,0,0,0,100",  # zero
            "2024-01-03 09:34:00,470,468,469,470,100",  # high < low
            "2024-01-03 09:35:00,470,471,469,470.25,100",
        ]
    )
    path = write(tmp_path / "bars.csv", text.encode())
    stats = BarStats()
    bars = read_bars(path, stats=stats)
    assert bars["close"].tolist() == [470.5, 470.25]
    assert dict(stats.dropped) == {"nan_price": 1, "non_positive": 2, "high_below_low": 1}
    assert (stats.rows_in, stats.rows_out, len(stats.dropped_at)) == (6, 2, 4)


@pytest.mark.parametrize(
    ("header", "zone", "expect"),
    [
        ("timestamp_utc", "America/New_York", "2024-01-03 14:30:00+00:00"),
        ("datetime", "America/New_York", "2024-01-03 14:30:00+00:00"),
        ("datetime", "UTC", "2024-01-03 09:30:00+00:00"),
    ],
)
def test_read_bars_vendor_time_headers_and_naive_zone(tmp_path, header, zone, expect):
    stamp = "2024-01-03 14:30:00" if header.endswith("_utc") else "2024-01-03 09:30:00"
    path = write(
        tmp_path / "v.csv", f"{header},open,high,low,close,volume\n{stamp},1,2,0.5,1.5,10\n".encode()
    )
    assert str(read_bars(path, naive_tz=zone)["ts"].iloc[0]) == expect


def test_read_statistics_public_dbn_open_interest():
    stats = read_statistics(PUBLIC / "test_data.statistics.dbn.zst")
    assert stats["symbol"].tolist() == ["AAPL250221C00250000"]
    assert stats["open_interest"].tolist() == [57924.0]  # OPRA repeats it once per publisher
    assert np.isnan(stats["volume"].iloc[0])


def test_read_statistics_dbn_equals_transcoded_csv(tmp_path):
    raw = PUBLIC.joinpath("test_data.statistics.dbn.zst").read_bytes()
    data = zstandard.ZstdDecompressor().stream_reader(raw).read()
    csv_path = write(tmp_path / "s.csv", to_csv(data))
    pd.testing.assert_frame_equal(
        read_statistics(csv_path), read_statistics(PUBLIC / "test_data.statistics.dbn.zst")
    )
    ids_only = write(tmp_path / "ids.csv", to_csv(data, map_symbols=False))
    mapping = definition_symbols(PUBLIC / "test_data.definition.dbn.zst")
    pd.testing.assert_frame_equal(read_statistics(ids_only, symbols=mapping), read_statistics(csv_path))


def test_definition_symbols_public_file_maps_its_instrument():
    mapping = definition_symbols(PUBLIC / "test_data.definition.dbn.zst")
    ts = np.array([pd.Timestamp("2025-02-20 15:00", tz="UTC").value])
    assert mapping.dictionary(np.array([16783963]), ts).to_pylist() == ["AAPL  250221C00250000"]
