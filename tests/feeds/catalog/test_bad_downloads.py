"""The bad-download corpus through ``python -m feeds.catalog ingest``: each case is one line on
stderr naming the file and what to do, the documented exit code, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import databento_dbn as dbn
import pytest

from feeds.catalog.__main__ import main
from tests.feeds.catalog.test_ingest_downloads import DAY, job, quotes, write_quotes
from tests.feeds.databento.dbn_files import cbbo_records, encode, instrument_ids, metadata, write


def _cbbo_1s(data: Path) -> None:
    opra = job(data, "OPRA-20240103-SECS", ["SPY.OPT"])
    rows = quotes(DAY, ("SPY",), minutes=2)
    ids = instrument_ids(q.symbol for q in rows)
    meta = metadata(dbn.Schema.CBBO_1S, [DAY], ids)
    write(opra / "opra-pillar-20240103.cbbo-1s.dbn.zst", encode(meta, cbbo_records(rows, ids, rtype=192)))


def _no_symbols(data: Path) -> None:
    opra = job(data, "OPRA-20240103-NOSYM", ["SPY.OPT"])
    write_quotes(opra / "opra-pillar-20240103.cbbo-1m.csv", quotes(DAY, ("SPY",)), [DAY], map_symbols=False)


def _other_underlying(data: Path) -> None:
    write_quotes(data / "SPY" / "cbbo-1m" / "2024-01-03.csv", quotes(DAY, ("TSLA",)), [DAY])


def _wrong_date(data: Path) -> None:
    write_quotes(data / "SPY" / "cbbo-1m" / "2024-01-04.dbn", quotes(DAY, ("SPY",)), [DAY])


def _truncated_dbn(data: Path) -> None:
    path = data / "SPY" / "cbbo-1m" / "2024-01-03.dbn"
    write_quotes(path, quotes(DAY, ("SPY",)), [DAY])
    path.write_bytes(path.read_bytes()[:-13])


def _weekend(data: Path) -> None:
    write_quotes(
        data / "SPY" / "cbbo-1m" / "2024-01-06.csv", quotes(date(2024, 1, 6), ("SPY",)), [date(2024, 1, 6)]
    )


CASES: list[tuple[str, Callable[[Path], None], list[str], int, str]] = [
    (
        "cbbo-1s job",
        _cbbo_1s,
        [],
        2,
        "hold no cbbo-1m files (found: cbbo-1s) (cbbo-1s is 1-second data, not 1-minute)",
    ),
    (
        "bad --bars-tz",
        _other_underlying,
        ["--bars-tz", "Mars/Olympus"],
        2,
        "bars_tz must be an IANA time zone",
    ),
    ("no symbols", _no_symbols, [], 1, "map_symbols=False) and no symbology.json or definition file"),
    ("other underlying", _other_underlying, [], 1, "holds no SPY contracts (it has TSLA 120 rows)"),
    ("name date differs", _wrong_date, [], 1, "holds no rows of 2024-01-04 (120 rows of other days)"),
    ("truncated DBN", _truncated_dbn, [], 1, "truncated DBN file: the last record is 67 of 80 bytes"),
    ("weekend file", _weekend, [], 1, "2024-01-06 is not an NYSE trading session"),
]


@pytest.mark.parametrize(("label", "make", "extra", "code", "expect"), CASES, ids=[c[0] for c in CASES])
def test_bad_download_is_one_line_with_its_exit_code(tmp_path, capsys, label, make, extra, code, expect):
    data = tmp_path / "data"
    make(data)
    argv = ["ingest", "--data", str(data), "--catalog", str(tmp_path / "cat"), "--quiet", *extra]
    assert main(argv) == code, label
    out = capsys.readouterr()
    lines = [ln for ln in out.err.splitlines() if ln.strip()]
    assert len(lines) == 1, (label, out.err)
    assert expect in lines[0], (label, lines[0])
    assert "Traceback" not in out.err
    assert "looks corrupt" not in lines[0]  # e.g. a weekend file is not "corrupt, re-download it"
