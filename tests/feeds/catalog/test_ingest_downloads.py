"""Catalog ingest of downloads as DataBento delivers them: job folders, DBN, merged underlyings,
range files, files without symbols; and the data problems that used to pass silently."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import databento_dbn as dbn
import pandas as pd
import pytest

from feeds.catalog import Catalog
from tests.feeds.databento.dbn_files import (
    Quote,
    cbbo_records,
    encode,
    instrument_ids,
    metadata,
    to_csv,
    write,
)

DAY = date(2024, 1, 3)
OPEN = pd.Timestamp("2024-01-03 14:30", tz="UTC")
SPOT = {"SPY": 470.0, "QQQ": 400.0, "TSLA": 250.0}


def osi(root: str, day: date, right: str, strike: float) -> str:
    return f"{root:<6}{day:%y%m%d}{right}{round(strike * 1000):08d}"


def quotes(day: date, roots: tuple[str, ...] = ("SPY", "QQQ"), minutes: int = 30) -> list[Quote]:
    open_ts = pd.Timestamp(day, tz="UTC") + (OPEN - pd.Timestamp(DAY, tz="UTC"))
    out = []
    for m in range(1, minutes + 1):
        ts = (open_ts + pd.Timedelta(minutes=m)).isoformat()
        for root in roots:
            for right in "CP":
                for k in (SPOT[root] - 1, SPOT[root] + 1):
                    bid = 1.0 + 0.01 * m
                    out.append(Quote(osi(root, day, right, k), ts, bid, bid + 0.05))
    return out


def bars_records(days: list[date], ids: dict[str, int]) -> list[dbn.OHLCVMsg]:
    out = []
    for day in days:
        start = pd.Timestamp(day, tz="UTC") + (OPEN - pd.Timestamp(DAY, tz="UTC"))
        for m in range(390):
            for sym, iid in ids.items():
                px = round(SPOT[sym] * 1e9)
                out.append(
                    dbn.OHLCVMsg(
                        rtype=33,
                        publisher_id=2,
                        instrument_id=iid,
                        ts_event=(start + pd.Timedelta(minutes=m)).value,
                        open=px,
                        high=px + 10**8,
                        low=px - 10**8,
                        close=px,
                        volume=1000,
                    )
                )
    return out


def job(root: Path, name: str, symbols: list[str]) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metadata.json").write_text(json.dumps({"query": {"symbols": symbols, "stype_in": "parent"}}))
    return folder


def write_quotes(
    path: Path, rows: list[Quote], days: list[date], *, map_symbols: bool = True
) -> dict[str, int]:
    ids = instrument_ids(q.symbol for q in rows)
    data = encode(metadata(dbn.Schema.CBBO_1M, days, ids), cbbo_records(rows, ids))
    write(path, data if ".dbn" in path.name else to_csv(data, map_symbols=map_symbols))
    return ids


def write_bars(folder: Path, days: list[date]) -> None:
    ids = {"SPY": 1, "QQQ": 2}
    data = encode(metadata(dbn.Schema.OHLCV_1M, days, ids), bars_records(days, ids))
    write(folder / f"xnas-itch-{days[0]:%Y%m%d}.ohlcv-1m.dbn.zst", data)


def symbology(folder: Path, ids: dict[str, int], days: list[date]) -> None:
    result = {
        raw: [{"d0": d.isoformat(), "d1": (d + timedelta(days=1)).isoformat(), "s": str(i)} for d in days]
        for raw, i in ids.items()
    }
    doc = {"result": result, "symbols": ["SPY.OPT"], "stype_in": "parent", "stype_out": "instrument_id",
           "start_date": days[0].isoformat(), "end_date": days[-1].isoformat(), "partial": [],
           "not_found": [], "message": "OK", "status": 0}  # fmt: skip
    (folder / "symbology.json").write_text(json.dumps(doc))


def test_ingest_job_folders_merged_dbn_feed_each_underlying_its_own(tmp_path):
    data = tmp_path / "data"
    opra = job(data, "OPRA-20240103-4APD3MDYPJ", ["SPY.OPT", "QQQ.OPT"])
    write_quotes(opra / "opra-pillar-20240103.cbbo-1m.dbn.zst", quotes(DAY), [DAY])
    write_bars(job(data, "XNAS-20240103-X7Q2", ["SPY", "QQQ"]), [DAY])
    catalog = Catalog(tmp_path / "cat")
    summary = catalog.ingest(data, progress=False)
    assert (summary.ingested, summary.failed) == (2, 0), summary.failures
    for sym in ("SPY", "QQQ"):
        q = catalog.read_quotes(sym, DAY)
        assert set(q["underlying"]) == {sym}
        assert len(catalog.read_bars(sym, DAY)) == 390
        row = catalog.day_summary(sym).iloc[0]
        assert row["underlying_source"] == "bars"
        assert row["rows_in"] == 30 * 4 and row["rows_other_underlyings"] == 30 * 4
    assert float(catalog.read_bars("QQQ", DAY)["close"].iloc[0]) == SPOT["QQQ"]


def test_ingest_range_file_split_into_days_missing_day_skipped_alone(tmp_path):
    data = tmp_path / "data"
    opra = job(data, "OPRA-20240102-RANGE", ["SPY.OPT"])
    days = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 5)]
    rows = [q for d in days[:3] for q in quotes(d, ("SPY",))]  # no rows for 2024-01-05
    write_quotes(opra / "opra-pillar-20240101-20240107.cbbo-1m.dbn.zst", rows, days)
    catalog = Catalog(tmp_path / "cat")
    summary = catalog.ingest(data, progress=False)
    assert catalog.days("SPY") == days[:3]
    assert summary.not_sessions == 1  # 2024-01-01 is New Year's Day: no session, no error
    assert [f.day for f in summary.failures] == ["2024-01-05"]
    assert "the range file holds no rows of 2024-01-05; re-download that day" in summary.failures[0].message
    for day in days[:3]:
        row = catalog.day_summary("SPY").set_index("date").loc[day]
        assert row["rows_in"] == 30 * 2 * 2


def test_ingest_csv_without_symbols_mapped_by_symbology_json(tmp_path):
    data = tmp_path / "data"
    opra = job(data, "OPRA-20240103-NOSYM", ["SPY.OPT"])
    ids = write_quotes(
        opra / "opra-pillar-20240103.cbbo-1m.csv.zst", quotes(DAY, ("SPY",)), [DAY], map_symbols=False
    )
    catalog = Catalog(tmp_path / "cat")
    summary = catalog.ingest(data, progress=False)
    assert summary.failed == 1
    assert "no symbology.json or definition file was found beside it" in summary.failures[0].message
    symbology(opra, ids, [DAY])
    summary = catalog.ingest(data, progress=False)
    assert (summary.ingested, summary.failed) == (1, 0)
    assert catalog.day_summary("SPY").iloc[0]["rows_in"] == 120


def test_ingest_other_underlyings_file_in_symbol_folder_refused(tmp_path):
    data = tmp_path / "data"
    write_quotes(data / "SPY" / "cbbo-1m" / "2024-01-03.csv", quotes(DAY, ("TSLA",)), [DAY])
    summary = Catalog(tmp_path / "cat").ingest(data, progress=False)
    assert summary.failed == 1
    assert summary.failures[0].message.endswith(
        "2024-01-03.csv: holds no SPY contracts (it has TSLA 120 rows); move it to that symbol's folder or "
        "ingest that symbol"
    )


def test_ingest_file_named_for_another_day_refused(tmp_path):
    data = tmp_path / "data"
    write_quotes(data / "SPY" / "cbbo-1m" / "2024-01-04.csv", quotes(DAY, ("SPY",)), [DAY])
    summary = Catalog(tmp_path / "cat").ingest(data, progress=False)
    assert summary.failed == 1
    assert summary.failures[0].message.endswith(
        "2024-01-04.csv: holds no rows of 2024-01-04 (120 rows of other days): the name's date differs from "
        "its rows; rename or re-download it"
    )


def test_ingest_bad_statistics_skips_statistics_not_the_day(tmp_path):
    data = tmp_path / "data"
    write_quotes(data / "SPY" / "cbbo-1m" / "2024-01-03.csv", quotes(DAY, ("SPY",)), [DAY])
    stats = data / "SPY" / "statistics" / "2024-01-03.csv"
    write(stats, b"junk,header\n1,2\n")
    catalog = Catalog(tmp_path / "cat")
    summary = catalog.ingest(data, progress=False)
    assert (summary.ingested, summary.failed) == (1, 0)
    notes = catalog.data_notes("SPY", [DAY])
    assert any(
        n.startswith("SPY 2024-01-03: statistics file unreadable, open interest skipped (") for n in notes
    )


def test_ingest_bad_bar_dropped_counted_and_noted_day_trades_on(tmp_path):
    data = tmp_path / "data"
    write_quotes(data / "SPY" / "cbbo-1m" / "2024-01-03.csv", quotes(DAY, ("SPY",)), [DAY])
    lines = ["datetime,open,high,low,close,volume"]
    start = pd.Timestamp("2024-01-03 09:30")
    for m in range(390):
        close = "" if m == 10 else "470"
        lines.append(f"{start + pd.Timedelta(minutes=m)},470,470.1,469.9,{close},100")
    write(data / "SPY" / "ohlcv-1m" / "2024-01-03.csv", "\n".join(lines).encode())
    catalog = Catalog(tmp_path / "cat")
    catalog.ingest(data, progress=False)
    assert len(catalog.read_bars("SPY", DAY)) == 389
    row = catalog.day_summary("SPY").iloc[0]
    assert row["bars_dropped_nan_price"] == 1 and row["underlying_source"] == "bars"
    assert (
        "SPY 2024-01-03: 1 bad underlying bar(s) dropped (NaN, zero/negative or high < low): those days trade on "
        "without them"
    ) in catalog.data_notes("SPY", [DAY])


def test_ingest_cbbo_1s_job_refused_with_one_line(tmp_path):
    data = tmp_path / "data"
    opra = job(data, "OPRA-20240103-SECS", ["SPY.OPT"])
    rows = quotes(DAY, ("SPY",), minutes=2)
    ids = instrument_ids(q.symbol for q in rows)
    write(opra / "opra-pillar-20240103.cbbo-1s.dbn.zst", encode(metadata(dbn.Schema.CBBO_1S, [DAY], ids),
                                                                  cbbo_records(rows, ids, rtype=192)))  # fmt: skip
    from feeds.catalog import CatalogError

    with pytest.raises(
        CatalogError, match=r"hold no cbbo-1m files \(found: cbbo-1s\) \(cbbo-1s is 1-second data"
    ):
        Catalog(tmp_path / "cat").ingest(data, progress=False)


def test_ingest_bad_occ_symbols_one_note_no_python_warning(tmp_path, recwarn):
    data = tmp_path / "data"
    rows = [*quotes(DAY, ("SPY",)), Quote("SPY   BADSYMBOL0000000", "2024-01-03T14:45:00Z", 1.0, 1.1)]
    write_quotes(data / "SPY" / "cbbo-1m" / "2024-01-03.csv", rows, [DAY])
    catalog = Catalog(tmp_path / "cat")
    assert catalog.ingest(data, progress=False).ingested == 1
    assert not [w for w in recwarn if "malformed option symbols" in str(w.message)]
    assert "SPY 2024-01-03: 1 rows with malformed option symbols dropped, e.g. 'SPY   BADSYMBOL0000000'" in (
        catalog.data_notes("SPY", [DAY])
    )


def test_ingest_vendor_bars_in_utc_need_bars_tz_and_say_so(tmp_path):
    from feeds.catalog import IngestSettings

    data = tmp_path / "data"
    write_quotes(data / "SPY" / "cbbo-1m" / "2024-01-03.csv", quotes(DAY, ("SPY",)), [DAY])
    lines = ["datetime,open,high,low,close,volume"]
    for m in range(390):  # naive times written in UTC, not ET
        lines.append(f"{OPEN.tz_localize(None) + pd.Timedelta(minutes=m)},470,470.1,469.9,470,100")
    write(data / "SPY" / "ohlcv-1m" / "2024-01-03.csv", "\n".join(lines).encode())
    catalog = Catalog(tmp_path / "cat")
    catalog.ingest(data, progress=False)
    assert (
        "SPY 2024-01-03: most underlying bars fall outside the 09:30-16:00 ET session after reading their "
        "times: pass --bars-tz with the bar file's time zone"
    ) in catalog.data_notes("SPY", [DAY])
    assert catalog.ingest(data, settings=IngestSettings(bars_tz="UTC"), progress=False).ingested == 1
    assert len(catalog.read_bars("SPY", DAY)) == 390
    assert not any("bars" in n for n in catalog.data_notes("SPY", [DAY]))


def test_ingest_range_file_one_pass_truncated_tail_keeps_the_days_before(tmp_path):
    data = tmp_path / "data"
    opra = job(data, "OPRA-20240102-CUT", ["SPY.OPT"])
    days = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    rows = [q for d in days for q in quotes(d, ("SPY",), minutes=200)]
    ids = instrument_ids(q.symbol for q in rows)
    raw = encode(metadata(dbn.Schema.CBBO_1M, days, ids), cbbo_records(rows, ids))
    path = opra / "opra-pillar-20240102-20240104.cbbo-1m.dbn"
    write(path, raw[: len(raw) - 80 * 300 - 7])  # cut inside the last day, mid-record
    catalog = Catalog(tmp_path / "cat")
    summary = catalog.ingest(data, progress=False)
    assert [f.day for f in summary.failures] == ["2024-01-04"], summary
    assert catalog.days("SPY") == days[:2]
    assert "truncated DBN file: the last record is 73 of 80 bytes" in summary.failures[0].message
    assert catalog.day_summary("SPY")["rows_in"].tolist() == [800, 800]


def test_ingest_truncated_plain_csv_last_line_noted(tmp_path):
    data = tmp_path / "data"
    path = data / "SPY" / "cbbo-1m" / "2024-01-03.csv"
    write_quotes(path, quotes(DAY, ("SPY",)), [DAY])
    path.write_bytes(path.read_bytes()[:-9])  # cut inside the last row
    catalog = Catalog(tmp_path / "cat")
    catalog.ingest(data, progress=False)
    assert (
        "SPY 2024-01-03: the quote file's last line is cut (no final newline): the download looks truncated, "
        "rows may be missing; re-download it"
    ) in catalog.data_notes("SPY", [DAY])


def _dbn_twin_of(csv_path: Path, out: Path) -> None:
    """Re-encode a DataBento-layout CBBO CSV day as DBN with databento_dbn's own record class."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(
        csv_path,
        convert_options=pacsv.ConvertOptions(
            column_types={
                "ts_recv": pa.timestamp("ns", tz="UTC"),
                "bid_px_00": pa.float64(),
                "ask_px_00": pa.float64(),
                "symbol": pa.string(),
            }
        ),
    )
    cols = {
        k: table.column(k).to_pylist()
        for k in ("ts_recv", "symbol", "bid_px_00", "ask_px_00", "bid_sz_00", "ask_sz_00")
    }
    rows = [
        Quote(s, pd.Timestamp(t).isoformat(), b, a, bs, az)
        for t, s, b, a, bs, az in zip(*cols.values(), strict=True)
    ]
    day = cols["ts_recv"][0].date()
    ids = instrument_ids(q.symbol for q in rows)
    write(out, encode(metadata(dbn.Schema.CBBO_1M, [day], ids), cbbo_records(rows, ids)))


def test_ingest_dbn_job_folders_equal_the_csv_layout_day_for_day(tmp_path):
    import shutil

    from feeds.synthetic.generate import generate_dataset
    from feeds.synthetic.spec import SPY_SPEC

    src = tmp_path / "src"
    days = [DAY]
    generate_dataset(src, [SPY_SPEC], days, progress=False)
    jobs = tmp_path / "jobs"
    opra, xnas = job(jobs, "OPRA-20240103-A1", ["SPY.OPT"]), job(jobs, "XNAS-20240103-B2", ["SPY"])
    for day in days:
        stamp = f"{day:%Y%m%d}"
        _dbn_twin_of(
            src / "SPY" / "cbbo-1m" / f"{day}.csv.zst", opra / f"opra-pillar-{stamp}.cbbo-1m.dbn.zst"
        )
        shutil.copy(src / "SPY" / "ohlcv-1m" / f"{day}.csv.zst", xnas / f"xnas-itch-{stamp}.ohlcv-1m.csv.zst")
    from_csv, from_dbn = Catalog(tmp_path / "c1"), Catalog(tmp_path / "c2")
    assert from_csv.ingest(src, progress=False).ingested == 1
    assert from_dbn.ingest(jobs, progress=False).ingested == 1
    for day in days:
        pd.testing.assert_frame_equal(from_csv.read_quotes("SPY", day), from_dbn.read_quotes("SPY", day))
        pd.testing.assert_frame_equal(from_csv.read_bars("SPY", day), from_dbn.read_bars("SPY", day))
    keep = ["rows_in", "rows_out", "dropped_crossed", "dropped_nan_price", "atm_iv_30d", "underlying_source"]
    pd.testing.assert_frame_equal(from_csv.day_summary("SPY")[keep], from_dbn.day_summary("SPY")[keep])
