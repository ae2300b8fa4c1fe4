"""DBN quotes: DataBento's public files and files written by databento_dbn's own encoder read into
the same columns as the CSV the official Transcoder renders from the very same records."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import databento_dbn as dbn
import pyarrow as pa
import pytest

from feeds.databento.cbbo import DataFileError, ReadStats, read_cbbo, read_cbbo_arrow
from feeds.databento.symbology import SymbolMap
from tests.feeds.databento.dbn_files import (
    PUBLIC,
    Quote,
    cbbo_records,
    encode,
    instrument_ids,
    metadata,
    to_csv,
    write,
)

DAY = date(2024, 1, 3)
SPY_C = "SPY   240103C00470000"
SPY_P = "SPY   240105P00465000"
QQQ_C = "QQQ   240103C00400000"
QUOTES = [
    Quote(SPY_C, "2024-01-03T14:31:00Z", 1.10, 1.12, 5, 7),
    Quote(SPY_P, "2024-01-03T14:31:00Z", 2.00, 2.05),
    Quote(QQQ_C, "2024-01-03T14:31:00Z", 3.00, 3.10),
    Quote(SPY_C, "2024-01-03T14:32:00Z", None, None),  # nan_price
    Quote(SPY_P, "2024-01-03T14:32:00Z", 2.10, 2.00),  # crossed
    Quote(SPY_C, "2024-01-03T14:33:00Z", 1.20, 1.20),  # locked, kept
    Quote(SPY_P, "2024-01-03T14:33:00Z", 0.0, 0.05),  # zero bid
    Quote(QQQ_C, "2024-01-03T14:33:00Z", 3.05, None),  # missing side
]


def _pair(tmp_path: Path, quotes: list[Quote] = QUOTES, version: int = 3) -> tuple[Path, Path]:
    ids = instrument_ids(q.symbol for q in quotes)
    data = encode(metadata(dbn.Schema.CBBO_1M, [DAY], ids, version=version), cbbo_records(quotes, ids))
    dbn_path = write(tmp_path / "opra-pillar-20240103.cbbo-1m.dbn.zst", data)
    csv_path = write(tmp_path / "opra-pillar-20240103.cbbo-1m.csv", to_csv(data))
    return dbn_path, csv_path


@pytest.mark.parametrize("version", [1, 2, 3])
def test_read_cbbo_dbn_equals_transcoded_csv_every_version(tmp_path, version):
    dbn_path, csv_path = _pair(tmp_path, version=version)
    st_dbn, st_csv = ReadStats(), ReadStats()
    from_dbn = read_cbbo_arrow(dbn_path, stats=st_dbn)
    from_csv = read_cbbo_arrow(csv_path, stats=st_csv)
    assert from_dbn.num_rows == 4
    assert from_dbn.equals(from_csv)
    assert st_dbn.summary_line() == st_csv.summary_line()
    assert dict(st_dbn.dropped) == {
        "nan_price": 1,
        "crossed": 1,
        "zero_or_negative_bid": 1,
        "missing_side": 1,
    }


def test_read_cbbo_dbn_uncompressed_and_pretty_csv_agree(tmp_path):
    ids = instrument_ids(q.symbol for q in QUOTES)
    data = encode(metadata(dbn.Schema.CBBO_1M, [DAY], ids), cbbo_records(QUOTES, ids))
    plain = write(tmp_path / "a.dbn", data)
    pretty = write(tmp_path / "a.csv", to_csv(data, pretty=True))
    assert read_cbbo_arrow(plain).equals(read_cbbo_arrow(pretty))


def test_read_cbbo_public_databento_file_matches_its_records():
    stats = ReadStats()
    frame = read_cbbo(PUBLIC / "test_data.cbbo-1m.dbn.zst", stats=stats)
    assert list(frame["symbol"].unique()) == ["AAPL250221C00250000"]
    assert stats.rows_in == 4 and stats.dropped["nan_price"] == 1  # the pre-market row has no quote
    assert str(frame["ts"].iloc[0]) == "2025-02-20 14:31:00+00:00"


def test_read_cbbo_public_cbbo_1s_file_refused_naming_the_schema():
    with pytest.raises(
        DataFileError, match=r"holds cbbo-1s records, not cbbo-1m; download the cbbo-1m schema"
    ):
        read_cbbo(PUBLIC / "test_data.cbbo-1s.dbn.zst")


def test_read_cbbo_csv_with_cbbo_1s_rtype_refused(tmp_path):
    ids = instrument_ids(q.symbol for q in QUOTES)
    data = encode(metadata(dbn.Schema.CBBO_1S, [DAY], ids), cbbo_records(QUOTES, ids, rtype=192))
    path = write(tmp_path / "x.csv", to_csv(data))
    with pytest.raises(DataFileError, match=r"rtype 192 \(cbbo-1s\), not 193 \(cbbo-1m\)"):
        read_cbbo(path)


def test_read_cbbo_dbn_truncated_file_one_line(tmp_path):
    ids = instrument_ids(q.symbol for q in QUOTES)
    data = encode(metadata(dbn.Schema.CBBO_1M, [DAY], ids), cbbo_records(QUOTES, ids))
    path = write(tmp_path / "cut.dbn", data[:-30])
    with pytest.raises(
        DataFileError, match=r"cut.dbn: truncated DBN file: the last record is 50 of 80 bytes"
    ):
        read_cbbo(path)


def test_read_cbbo_dbn_truncated_zstd_one_line(tmp_path):
    dbn_path, _ = _pair(tmp_path)
    cut = write(tmp_path / "cut.dbn.zst", b"")
    cut.write_bytes(dbn_path.read_bytes()[:-12])
    with pytest.raises(DataFileError, match=r"truncated zstd frame \(file is incomplete\); re-download it"):
        read_cbbo(cut)


def test_read_cbbo_dbn_of_another_schema_refused(tmp_path):
    with pytest.raises(DataFileError, match=r"holds ohlcv-1m records, not cbbo-1m"):
        read_cbbo(PUBLIC / "test_data.ohlcv-1m.dbn.zst")


def test_read_cbbo_not_dbn_bytes_under_dbn_name_one_line(tmp_path):
    path = write(tmp_path / "x.dbn", b"ts_recv,ts_event\n")
    with pytest.raises(DataFileError, match=r"not a DBN file"):
        read_cbbo(path)


def test_read_cbbo_merged_file_keeps_asked_underlying_counts_others(tmp_path):
    dbn_path, csv_path = _pair(tmp_path)
    for path in (dbn_path, csv_path):
        stats = ReadStats()
        table = read_cbbo_arrow(path, stats=stats, underlyings=["SPY"])
        assert set(table.column("underlying").to_pylist()) == {"SPY"}
        assert dict(stats.other_underlyings) == {"QQQ": 2}
        assert stats.rows_in == 6  # QQQ's rows are not SPY's input
        assert "missing_side" not in stats.dropped  # QQQ's dirty row is not SPY's drop
        assert "other underlyings not kept: QQQ 2" in stats.summary_line()


def test_read_cbbo_dbn_without_mappings_uses_symbol_map(tmp_path):
    ids = instrument_ids(q.symbol for q in QUOTES)
    data = encode(metadata(dbn.Schema.CBBO_1M, [DAY], ids, mapped=False), cbbo_records(QUOTES, ids))
    path = write(tmp_path / "nomap.dbn.zst", data)
    with pytest.raises(DataFileError, match=r"no symbology.json or definition file"):
        read_cbbo(path)
    mapping = SymbolMap.from_metadata(metadata(dbn.Schema.CBBO_1M, [DAY], ids))
    mapped = read_cbbo_arrow(path, symbols=mapping)
    assert mapped.equals(read_cbbo_arrow(_pair(tmp_path)[0]))


def test_read_cbbo_csv_without_symbol_column_mapped_by_symbology(tmp_path):
    ids = instrument_ids(q.symbol for q in QUOTES)
    data = encode(metadata(dbn.Schema.CBBO_1M, [DAY], ids), cbbo_records(QUOTES, ids))
    path = write(tmp_path / "ids.csv", to_csv(data, map_symbols=False))
    assert b"symbol" not in path.read_bytes().splitlines()[0]
    with pytest.raises(DataFileError, match=r"map_symbols=False\) and no symbology.json"):
        read_cbbo(path)
    mapping = SymbolMap.from_metadata(metadata(dbn.Schema.CBBO_1M, [DAY], ids))
    assert read_cbbo_arrow(path, symbols=mapping).equals(read_cbbo_arrow(_pair(tmp_path)[1]))


def test_read_cbbo_unmapped_instrument_counted_as_bad_symbol(tmp_path):
    ids = instrument_ids(q.symbol for q in QUOTES)
    partial = {k: v for k, v in ids.items() if k != QQQ_C}
    data = encode(metadata(dbn.Schema.CBBO_1M, [DAY], partial), cbbo_records(QUOTES, ids))
    path = write(tmp_path / "partial.dbn", data)
    stats = ReadStats()
    with pytest.warns(UserWarning, match=r"instrument_id 1000"):
        read_cbbo(path, stats=stats)
    assert stats.dropped["bad_symbol"] == 2


def test_read_cbbo_very_long_line_one_line_no_arrow_internals(tmp_path):
    header = "ts_recv,ts_event,symbol,bid_px,ask_px,bid_sz,ask_sz,bid_ct,ask_ct\n"
    row = "2024-01-03T14:31:00Z,,SPY   240103C00470000,1.0,1.1,1,1,1,1\n"
    path = write(tmp_path / "long.csv", (header + row * 50 + "x" * 20_000 + "\n" + row * 50).encode())
    with pytest.raises(DataFileError) as info:
        read_cbbo(path, block_size=4096)
    assert str(info.value) == (
        f"{path}: after line 51: a line is longer than the read block (not a CBBO row: a binary or garbled "
        f"file?); fix or re-download the file"
    )
    assert "straddl" not in str(info.value)


@pytest.mark.parametrize("encoding", ["dbn.zst", "csv"])
def test_iter_cbbo_days_one_pass_equals_reading_each_day(tmp_path, encoding):
    from feeds.databento.cbbo_days import iter_cbbo_days

    days = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    quotes = [
        Quote(sym, f"{d}T{hh}:31:00Z", bid, ask)
        for d in days
        for hh in ("14", "15")
        for sym, bid, ask in ((SPY_C, 1.0, 1.1), (SPY_P, 2.1, 2.0), (QQQ_C, 3.0, 3.2))  # SPY_P crossed
    ]
    ids = instrument_ids(q.symbol for q in quotes)
    data = encode(metadata(dbn.Schema.CBBO_1M, days, ids), cbbo_records(quotes, ids))
    path = tmp_path / f"opra-pillar-20240102-20240104.cbbo-1m.{encoding}"
    write(path, data if encoding.startswith("dbn") else to_csv(data))
    seen = []
    for day, tables, stats in iter_cbbo_days(path, block_size=256, underlyings=["SPY"]):
        one = list(tables)
        alone = ReadStats()
        expect = list(
            read_cbbo_arrow(path, stats=alone, underlyings=["SPY"], day=day, block_size=256).to_batches()
        )
        got = [b for t in one for b in t.to_batches()]
        assert pa.Table.from_batches(got).equals(pa.Table.from_batches(expect))
        assert (stats.rows_in, dict(stats.dropped), dict(stats.other_underlyings)) == (
            alone.rows_in,
            dict(alone.dropped),
            dict(alone.other_underlyings),
        )
        assert (stats.rows_in, stats.dropped["crossed"], stats.other_underlyings["QQQ"]) == (4, 2, 2)
        seen.append(day)
    assert seen == days
