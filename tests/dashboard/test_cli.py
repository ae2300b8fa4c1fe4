"""``python -m dashboard``: one-line errors with exit code 2, the host warning, the streamlit command line."""

from __future__ import annotations

import pytest

from dashboard import cli


def test_a_missing_journal_is_one_line_and_exit_2(tmp_path, capsys):
    assert cli.main(["--journal", f"sqlite:///{tmp_path / 'none.sqlite'}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --journal:") and "does not exist" in err and "\n" not in err


def test_no_journal_here_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main([]) == 2
    assert "run a backtest first" in capsys.readouterr().err


def test_the_newest_out_journal_is_the_default(tmp_path, backtest_journal):
    import os
    import shutil

    for name, age in (("old", 100), ("new", 0)):
        (tmp_path / "out" / name).mkdir(parents=True)
        target = tmp_path / "out" / name / "journal.sqlite"
        shutil.copy(backtest_journal.path, target)
        os.utime(target, (1_700_000_000 - age, 1_700_000_000 - age))
    assert (
        cli.default_journal(tmp_path)
        == f"sqlite:///{(tmp_path / 'out' / 'new' / 'journal.sqlite').resolve()}"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--catalog", "/nonexistent/catalog"], "--catalog:"), (["--port", "70000"], "--port: 70000")],
)
def test_bad_catalog_or_port_is_one_line(backtest_journal, capsys, extra, message):
    assert cli.main(["--journal", backtest_journal.url, *extra]) == 2
    assert message in capsys.readouterr().err


def test_another_host_than_localhost_warns(backtest_journal, capsys):
    assert cli.main(["--journal", backtest_journal.url, "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "warning: binding to 0.0.0.0" in err and "no login" in err


def test_streamlit_runs_the_page_headless_on_the_given_address():
    argv = cli.streamlit_argv("sqlite:///j.sqlite", "/cat", "127.0.0.1", 8502)
    assert argv[:3] == ["streamlit", "run", str(cli.MAIN_SCRIPT)]
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--server.port") + 1] == "8502"
    assert argv[argv.index("--browser.gatherUsageStats") + 1] == "false"
    assert argv[argv.index("--") + 1 :] == ["--journal", "sqlite:///j.sqlite", "--catalog", "/cat"]
    assert cli.page_args(argv[argv.index("--") + 1 :]) == cli.PageArgs("sqlite:///j.sqlite", "/cat")


def test_the_data_modules_import_no_streamlit_and_nothing_imports_the_dashboard():
    import ast
    from pathlib import Path

    repo = Path(cli.__file__).resolve().parents[1]
    for path in (repo / "dashboard").glob("*.py"):
        if path.name in ("cli.py", "__main__.py"):  # the command starts streamlit; data modules never do
            continue
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not any(n.split(".")[0] == "streamlit" for n in names if n), path.name
        assert "dashboard.ui" not in names, path.name
    for package in ("options_scalper", "feeds", "brokers", "strategies", "analyzers", "journal", "app"):
        for path in (repo / package).rglob("*.py"):
            assert "import dashboard" not in path.read_text() and "from dashboard" not in path.read_text(), (
                path
            )
