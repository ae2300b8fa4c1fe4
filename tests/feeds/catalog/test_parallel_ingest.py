"""``Catalog.ingest(workers=2)``: the same catalog and summary as one process, the days in worker processes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from feeds.catalog import Catalog, CatalogError
from feeds.catalog.__main__ import main as cli_main
from tests.feeds.catalog.test_catalog import DAY, DAY2, _truncate, make_data

DAY3 = date(2024, 1, 9)


def test_two_workers_build_the_same_catalog_and_summary_as_one_process(tmp_path: Path) -> None:
    data = make_data(tmp_path, statistics=True, days=(DAY, DAY2, DAY3))
    bad = data / "TSLA" / "cbbo-1m" / f"{DAY2}.csv.zst"
    _truncate(bad)
    one, two = Catalog(tmp_path / "one"), Catalog(tmp_path / "two")
    s1 = one.ingest(data, progress=False)
    s2 = two.ingest(data, progress=False, workers=2)
    assert (s2.ingested, s2.failed, s2.skipped) == (s1.ingested, s1.failed, s1.skipped) == (2, 1, 0)
    assert (s2.rows_in, s2.rows_out, s2.dropped) == (s1.rows_in, s1.rows_out, s1.dropped)
    assert [(f.day, f.path, f.message) for f in s2.failures] == [
        (f.day, f.path, f.message) for f in s1.failures
    ]
    assert two.days("TSLA") == one.days("TSLA") == [DAY, DAY3]
    for day in (DAY, DAY3):
        assert two.read_quotes("TSLA", day).equals(one.read_quotes("TSLA", day))
        assert two.read_bars("TSLA", day).equals(one.read_bars("TSLA", day))
    again = two.ingest(data, progress=False, workers=2)  # up to date: a stat per day, no worker needed
    assert (again.ingested, again.skipped, again.failed) == (0, 2, 1)


def test_workers_flag_of_the_ingest_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = make_data(tmp_path, days=(DAY, DAY2))
    cat = tmp_path / "cat"
    assert cli_main(["ingest", "--data", str(data), "--catalog", str(cat), "--quiet", "--workers", "2"]) == 0
    assert Catalog(cat).days("TSLA") == [DAY, DAY2]
    with pytest.raises(SystemExit) as exc:
        cli_main(["ingest", "--data", str(data), "--catalog", str(cat), "--workers", "0"])
    assert exc.value.code == 2 and "'0' is not a process count" in capsys.readouterr().err
    with pytest.raises(CatalogError, match="workers=0"):
        Catalog(cat).ingest(data, progress=False, workers=0)
