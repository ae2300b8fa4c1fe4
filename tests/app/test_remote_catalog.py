"""--catalog s3://...: a real S3-compatible server (moto) holding the catalog; the sweep reads the same days."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from app.backtest_command import main
from app.remote_catalog import cache_root, materialise
from tests.support.object_store import S3Server, s3_server
from tests.support.tiny_data import tiny_spy

PROBE = "tests.support.probe:ProbeScalp"
URI = "s3://scalper-test/catalogs/tiny"
GRID = ["--strategy", PROBE, "--optimize", "fast=3,5", "--workers", "2"]
RANGE = ["--start", "2024-01-03", "--end", "2024-01-03", "--warmup-days", "1"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_spy(tmp_path_factory)


@pytest.fixture(scope="module")
def s3(data, tmp_path_factory) -> Iterator[S3Server]:
    with s3_server(tmp_path_factory.mktemp("cache")) as server:
        server.upload(data / ".catalog", URI.removeprefix("s3://"))
        yield server


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main([*argv, "--quiet"])
    except SystemExit as exc:  # argparse refused an argument
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _cached(uri: str) -> dict[str, int]:
    root = cache_root(uri)
    return {str(p.relative_to(root)): p.stat().st_ino for p in root.rglob("*.*") if p.is_file()}


def test_a_sweep_on_an_s3_catalog_writes_the_rows_of_the_local_catalog(s3, data, tmp_path, capsys):
    code, _, err = _run(capsys, "--data", str(data), "--out", str(tmp_path / "local"), *GRID, *RANGE)
    assert code == 0, err
    code, _, err = _run(capsys, "--catalog", URI, "--out", str(tmp_path / "s3"), *GRID, *RANGE)
    assert code == 0, err
    local = (tmp_path / "local" / "optimization.csv").read_text()
    assert local == (tmp_path / "s3" / "optimization.csv").read_text()
    assert "total_trades" in local and len(local.splitlines()) == 3

    # only the days the run streams (one warm-up session, one trading session), keyed by size + mtime
    cached = _cached(URI)
    days = {Path(name).name for name in cached if name.startswith("SPY/days/")}
    assert days == {"2024-01-02.json", "2024-01-03.json"}
    assert not any("2024-01-04" in name for name in cached)
    assert materialise(URI, ["SPY"], date(2024, 1, 3), date(2024, 1, 3), 1) == cache_root(URI)
    assert _cached(URI) == cached  # nothing copied again: the same files (inodes) in the cache


def test_a_backtest_on_an_s3_catalog_names_the_uri(s3, data, tmp_path, capsys):
    code, _, err = _run(capsys, "--strategy", PROBE, "--catalog", URI, "--out", str(tmp_path / "o"), *RANGE)
    assert code == 0, err
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["run"]["catalog"] == URI and report["start"] == "2024-01-03"


def test_a_changed_or_removed_remote_day_is_refreshed_in_the_cache(s3, data, tmp_path):
    uri = "s3://scalper-test/catalogs/changing"
    s3.upload(data / ".catalog", uri.removeprefix("s3://"))
    root = materialise(uri, ["SPY"], None, None, 0)
    quotes = root / "SPY" / "quotes" / "2024-01-04.parquet"
    before = quotes.stat()
    time.sleep(1.1)  # S3 keeps mtimes to the second: a re-upload must show a new one
    fs = s3.filesystem()
    fs.copy_file(f"{uri.removeprefix('s3://')}/SPY/quotes/2024-01-04.parquet", "scalper-test/tmp.parquet")
    fs.move("scalper-test/tmp.parquet", f"{uri.removeprefix('s3://')}/SPY/quotes/2024-01-04.parquet")
    fs.delete_file(f"{uri.removeprefix('s3://')}/SPY/days/2024-01-02.json")
    assert materialise(uri, ["SPY"], None, None, 0) == root
    after = quotes.stat()
    assert after.st_ino != before.st_ino and after.st_mtime_ns > before.st_mtime_ns
    assert not (root / "SPY" / "days" / "2024-01-02.json").exists()  # gone remotely: gone from the cache
    assert not list(root.rglob(".*.part"))


@pytest.mark.parametrize(
    ("catalog", "extra", "expected"),
    [
        ("s3://no-such-bucket/cat", [], "no catalog there"),
        ("s3://scalper-test/nothing-here", [], "no catalog there"),
        ("s3://key:secret@scalper-test/cat", [], "must not carry credentials"),
        (URI, ["--data", "DATA"], "ingest into an object-store catalog is not supported"),
        (URI, ["--symbols", "QQQ"], "no QQQ there (it holds SPY)"),
    ],
)
def test_a_bad_object_store_catalog_exits_2_with_one_line(
    s3, data, tmp_path, capsys, catalog, extra, expected
):
    extra = [str(data) if a == "DATA" else a for a in extra]
    code, _, err = _run(capsys, "--catalog", catalog, "--out", str(tmp_path / "o"), *GRID, *RANGE, *extra)
    assert code == 2 and expected in err and err.count("\n") == 1, err
    assert "secret" not in err.replace("SECRET", "")
