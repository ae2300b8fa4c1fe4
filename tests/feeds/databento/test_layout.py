from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import zstandard

from feeds.databento.cbbo import DataFileError
from feeds.databento.layout import DataLayoutError, SymbolFiles, dates_in_name, discover, symbol_of_cbbo

CBBO = (
    "ts_recv,ts_event,symbol,bid_px,ask_px,bid_sz,ask_sz,bid_ct,ask_ct\n"
    "2024-01-03T14:31:00Z,,SPXW  240103C04700000,1.0,1.1,1,1,1,1\n"
)


def touch(path: Path, text: str = CBBO) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    path.write_bytes(zstandard.ZstdCompressor().compress(data) if path.name.endswith(".zst") else data)
    return path


def test_discover_per_symbol_layout_finds_every_kind(tmp_path):
    a = touch(tmp_path / "TSLA" / "cbbo-1m" / "2024-01-03.csv.zst")
    b = touch(tmp_path / "TSLA" / "cbbo-1m" / "2024-01-04.csv")
    bars = touch(tmp_path / "TSLA" / "ohlcv-1m" / "2024-01-03.csv")
    multi = touch(tmp_path / "TSLA" / "ohlcv-1m" / "xnas-20240101-20241231.ohlcv-1m.csv.zst")
    allbars = touch(tmp_path / "TSLA" / "ohlcv-1m" / "all.csv")
    st = touch(tmp_path / "TSLA" / "statistics" / "2024-01-03.csv.zst")
    touch(tmp_path / "TSLA" / "cbbo-1m" / "metadata.json")  # ignored
    touch(tmp_path / "SPY" / "cbbo-1m" / "opra-pillar-20240105.cbbo-1m.csv.zst")
    (tmp_path / "notes").mkdir()
    found = discover(tmp_path)
    assert set(found) == {"TSLA", "SPY"}
    tsla = found["TSLA"]
    assert isinstance(tsla, SymbolFiles) and tsla.symbol == "TSLA"
    assert tsla.cbbo == {date(2024, 1, 3): a, date(2024, 1, 4): b}
    assert tsla.bars_days == {date(2024, 1, 3): bars}
    assert sorted(tsla.bars_multi) == sorted([multi, allbars])
    assert tsla.statistics == {date(2024, 1, 3): st}
    assert tsla.days == [date(2024, 1, 3), date(2024, 1, 4)]
    assert list(found["SPY"].cbbo) == [date(2024, 1, 5)]
    assert found["SPY"].bars_days == {} and found["SPY"].statistics == {}


def test_discover_symbols_filter_case_insensitive(tmp_path):
    touch(tmp_path / "TSLA" / "cbbo-1m" / "2024-01-03.csv")
    touch(tmp_path / "SPY" / "cbbo-1m" / "2024-01-03.csv")
    assert set(discover(tmp_path, ["tsla"])) == {"TSLA"}


def test_discover_missing_symbol_names_found_ones(tmp_path):
    touch(tmp_path / "TSLA" / "cbbo-1m" / "2024-01-03.csv")
    with pytest.raises(DataLayoutError, match=r"no cbbo-1m data for NVDA \(found: TSLA\)"):
        discover(tmp_path, ["NVDA"])


def test_discover_flat_folder_infers_symbol_from_occ_root(tmp_path):
    a = touch(tmp_path / "2024-01-03.csv.zst")
    touch(tmp_path / "2024-01-04.csv.zst")
    bars = touch(tmp_path / "ohlcv-1m" / "2024-01-03.csv")
    found = discover(tmp_path)
    assert list(found) == ["SPX"]  # SPXW root -> SPX underlying
    assert found["SPX"].cbbo[date(2024, 1, 3)] == a and len(found["SPX"].cbbo) == 2
    assert found["SPX"].bars_days == {date(2024, 1, 3): bars}


def test_discover_flat_folder_with_given_symbol(tmp_path):
    touch(tmp_path / "2024-01-03.csv")
    assert list(discover(tmp_path, ["tsla"])) == ["TSLA"]
    with pytest.raises(DataLayoutError, match="flat folder holds one symbol"):
        discover(tmp_path, ["TSLA", "SPY"])


def test_discover_prefers_compressed_when_day_has_both(tmp_path):
    # a truncated plain .csv must not win over the good .csv.zst (zstd frames are checked)
    packed = touch(tmp_path / "TSLA" / "cbbo-1m" / "2024-01-03.csv.zst")
    touch(tmp_path / "TSLA" / "cbbo-1m" / "2024-01-03.csv")
    assert discover(tmp_path)["TSLA"].cbbo[date(2024, 1, 3)] == packed
    dbn = touch(tmp_path / "TSLA" / "cbbo-1m" / "2024-01-03.dbn.zst")
    assert discover(tmp_path)["TSLA"].cbbo[date(2024, 1, 3)] == dbn


def test_discover_two_different_files_for_one_day_raises(tmp_path):
    touch(tmp_path / "TSLA" / "cbbo-1m" / "2024-01-03.csv")
    touch(tmp_path / "TSLA" / "cbbo-1m" / "opra-20240103.csv")
    with pytest.raises(DataLayoutError, match="two files for 2024-01-03"):
        discover(tmp_path)


@pytest.mark.parametrize("make", ["missing", "empty", "junk"])
def test_discover_bad_folder_names_folder_and_layout(tmp_path, make):
    target = tmp_path / "data"
    if make != "missing":
        target.mkdir()
    if make == "junk":
        touch(target / "readme.txt", "hi")
    with pytest.raises(DataLayoutError) as info:
        discover(target)
    msg = str(info.value)
    assert str(target) in msg and "cbbo-1m/<YYYY-MM-DD>.csv[.zst]" in msg and "\n" not in msg
    assert isinstance(info.value, DataFileError)


def test_discover_symbol_folder_without_day_files_raises(tmp_path):
    (tmp_path / "TSLA" / "cbbo-1m").mkdir(parents=True)
    with pytest.raises(DataLayoutError, match="no <YYYY-MM-DD>"):
        discover(tmp_path)


def test_discover_empty_symbol_folder_beside_others_skipped_with_note(tmp_path):
    (tmp_path / "QQQ" / "cbbo-1m").mkdir(parents=True)
    touch(tmp_path / "TSLA" / "cbbo-1m" / "2024-01-03.csv")
    found = discover(tmp_path)
    assert found["TSLA"].days == [date(2024, 1, 3)]
    assert found["QQQ"].days == []
    assert found["QQQ"].notes == (
        f"{tmp_path / 'QQQ' / 'cbbo-1m'}: no <YYYY-MM-DD>.csv[.zst] day files: QQQ skipped",
    )


def test_symbol_of_cbbo_without_occ_rows_raises(tmp_path):
    path = touch(tmp_path / "2024-01-03.csv", "ts_recv,symbol\n2024-01-03T14:31:00Z,JUNK\n")
    with pytest.raises(DataLayoutError, match="pass the symbol"):
        symbol_of_cbbo(path)


def test_dates_in_name_formats():
    assert dates_in_name("2024-01-03.csv.zst") == [date(2024, 1, 3)]
    assert dates_in_name("opra-pillar-20240103.cbbo-1m.csv.zst") == [date(2024, 1, 3)]
    assert dates_in_name("x-20240101-20241231.csv") == [date(2024, 1, 1), date(2024, 12, 31)]
    assert dates_in_name("all.csv") == [] and dates_in_name("20241399.csv") == []


def test_discover_job_folders_classify_by_schema_in_name(tmp_path):
    import json

    opra = tmp_path / "OPRA-20240103-4APD3MDYPJ"
    xnas = tmp_path / "XNAS-20240103-9QZ"
    stats = tmp_path / "OPRA-20240103-STATS"
    for job, symbols in ((opra, ["SPY.OPT", "SPXW.OPT"]), (xnas, ["SPY", "SPX"]), (stats, ["SPY.OPT"])):
        job.mkdir()
        (job / "metadata.json").write_text(json.dumps({"query": {"symbols": symbols}}))
    q3 = touch(opra / "opra-pillar-20240103.cbbo-1m.dbn.zst", "x")
    q4 = touch(opra / "opra-pillar-20240104.cbbo-1m.csv.zst")
    touch(opra / "opra-pillar-20240103.ohlcv-1m.dbn.zst", "x")  # option bars: not the underlying's
    bars = touch(xnas / "xnas-itch-20240103.ohlcv-1m.dbn.zst", "x")
    st = touch(stats / "opra-pillar-20240103.statistics.dbn.zst", "x")
    found = discover(tmp_path)
    assert sorted(found) == ["SPX", "SPY"]  # SPXW.OPT -> SPX
    spy = found["SPY"]
    assert spy.cbbo == {date(2024, 1, 3): q3, date(2024, 1, 4): q4}
    assert spy.bars_days == {date(2024, 1, 3): bars} and spy.statistics == {date(2024, 1, 3): st}
    assert found["SPX"].cbbo == spy.cbbo  # one merged file feeds both
    assert any("OPRA ohlcv-1m file(s) are option bars" in n for n in spy.notes)
    assert list(discover(tmp_path, ["spy"])) == ["SPY"]


def test_discover_job_folder_range_file_covers_its_weekdays(tmp_path):
    job = tmp_path / "OPRA-20240101-RANGE"
    job.mkdir()
    rng = touch(job / "opra-pillar-20240101-20240107.cbbo-1m.dbn.zst", "x")
    found = discover(job, ["SPY"])
    assert found["SPY"].days == [date(2024, 1, d) for d in (1, 2, 3, 4, 5)]
    assert set(found["SPY"].cbbo.values()) == {rng}
    assert found["SPY"].range_days == frozenset(found["SPY"].days)
