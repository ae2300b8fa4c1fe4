"""--split: seed 003's dates, the project file that moves them, the intersection with --start/--end, the record."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.backtest import BadInput, RunRequest, prepare, run_once
from app.backtest_command import main
from app.splits import DEFAULT_SPLITS, find_project_file, load_splits, split_range
from tests.support.tiny_data import TINY_DAYS, tiny_spy

DAYS = TINY_DAYS
PROBE = "tests.support.probe:ProbeScalp"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_spy(tmp_path_factory)


def test_default_splits_are_seed_003_section_6_1():
    got = {s.name: (s.start, s.end) for s in DEFAULT_SPLITS.splits}
    assert got == {
        "dev": (date(2022, 1, 1), date(2023, 12, 31)),
        "validation": (date(2024, 1, 1), date(2024, 6, 30)),
        "oos": (date(2024, 7, 1), date(2025, 12, 31)),
    }


def test_split_range_intersects_with_start_and_end():
    assert split_range(DEFAULT_SPLITS, "oos", None, None) == (date(2024, 7, 1), date(2025, 12, 31))
    assert split_range(DEFAULT_SPLITS, "oos", date(2024, 1, 2), date(2024, 9, 30)) == (
        date(2024, 7, 1),
        date(2024, 9, 30),
    )
    with pytest.raises(BadInput, match=r"--split dev is 2022-01-01\.\.2023-12-31 but --start/--end") as info:
        split_range(DEFAULT_SPLITS, "dev", date(2024, 1, 2), None)
    assert "\n" not in str(info.value)


def test_touched_names_every_split_a_range_overlaps():
    touched = DEFAULT_SPLITS.touched(date(2023, 12, 1), date(2024, 7, 5))
    assert [(s.name, lo, hi) for s, lo, hi in touched] == [
        ("dev", date(2023, 12, 1), date(2023, 12, 31)),
        ("validation", date(2024, 1, 1), date(2024, 6, 30)),
        ("oos", date(2024, 7, 1), date(2024, 7, 5)),
    ]


def test_project_file_moves_a_split_and_keeps_the_others(tmp_path):
    path = tmp_path / "scalper.toml"
    path.write_text('[splits]\noos = { start = 2024-07-01, end = "2025-06-30" }\n')
    table = load_splits(path)
    assert table.get("oos").end == date(2025, 6, 30)
    assert table.get("dev") == DEFAULT_SPLITS.get("dev")
    assert table.source == path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[splits]\ntest = { start = 2024-01-01 }\n", "'test' is not a split"),
        ("[splits]\noos = { start = 2024-13-01 }\n", "not valid TOML"),
        ('[splits]\noos = { start = "July" }\n', "not a date"),
        ("[splits]\noos = { start = 2026-01-01 }\n", "after end"),
        ("[splits]\noos = { start = 2023-07-01 }\n", "overlap"),
        ("[splits]\noos = { begin = 2024-07-01 }\n", "must be { start"),
    ],
)
def test_bad_project_file_is_one_line_naming_the_file(tmp_path, text, message):
    path = tmp_path / "scalper.toml"
    path.write_text(text)
    with pytest.raises(BadInput, match=message) as info:
        load_splits(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_project_file_in_the_current_folder_wins_over_the_data_folder(tmp_path):
    (tmp_path / "cwd").mkdir()
    (tmp_path / "data").mkdir()
    assert find_project_file(tmp_path / "data", tmp_path / "cwd") is None
    (tmp_path / "data" / "scalper.toml").write_text("")
    assert find_project_file(tmp_path / "data", tmp_path / "cwd") == tmp_path / "data" / "scalper.toml"
    (tmp_path / "cwd" / "scalper.toml").write_text("")
    assert find_project_file(tmp_path / "data", tmp_path / "cwd") == tmp_path / "cwd" / "scalper.toml"


def test_split_run_narrows_to_the_project_split_and_records_it(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scalper.toml").write_text(
        "[splits]\nvalidation = { start = 2024-01-03, end = 2024-06-30 }\n"
    )
    out = tmp_path / "out"
    prep = prepare(RunRequest(strategy=PROBE, data_dir=data, out_dir=out, quiet=True, split="validation"))
    assert (prep.start, prep.end) == (DAYS[1], DAYS[2])
    run_once(prep)
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["split"] == "validation"
    assert report["run"]["splits_touched"] == ["validation"]
    assert report["run"]["splits_file"] == str(tmp_path / "scalper.toml")
    assert report["start"] == "2024-01-03"
    engine = sa.create_engine(f"sqlite:///{out / 'journal.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("select split from runs")).scalars().all() == ["validation"]
    engine.dispose()


def test_split_that_misses_the_data_or_the_dates_exits_2_in_one_line(data, tmp_path, capsys):
    base = ["--strategy", PROBE, "--data", str(data), "--quiet"]
    code = main([*base, "--out", str(tmp_path / "a"), "--split", "dev"])
    err = capsys.readouterr().err
    assert code == 2 and "no trading days between 2022-01-01 and 2023-12-31" in err
    code = main([*base, "--out", str(tmp_path / "b"), "--split", "oos", "--end", "2024-01-04"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--split oos is 2024-07-01..2025-12-31 but --start/--end ask for the start..2024-01-04" in err


def test_the_bundled_sample_is_never_refused_as_out_of_sample(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The synthetic sample (2024-10/11) lies in seed 003's OOS years, but it is nobody's real OOS data."""
    from app.backtest import RunRequest, prepare
    from app.oos import guard

    for value in ("0.3", "0.4"):
        req = RunRequest(
            strategy="momentum_burst",
            out_dir=tmp_path / value,
            quiet=True,
            params=(f"take_profit_pct={value}",),
        )
        prep = prepare(req)
        status = guard(prep, [prep.params], kind="run")
        assert status.touches_oos
