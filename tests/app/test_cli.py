"""The command-line pieces run_backtest.py and run_live.py share."""

from __future__ import annotations

import pytest

from app import backtest_command, cli, live_command


def shared_options(parser) -> set[str]:  # type: ignore[no-untyped-def]
    return {o for a in parser._actions for o in a.option_strings}


def test_both_commands_take_the_same_strategy_options() -> None:
    shared = {"--strategy", "--param", "--profile", "--symbols"}
    assert shared <= shared_options(backtest_command.build_parser())
    assert shared <= shared_options(live_command.build_parser())


@pytest.mark.parametrize(
    ("values", "expected"),
    [(None, ()), (["spy", "tsla"], ("SPY", "TSLA")), (["SPY,qqq", "spy"], ("SPY", "QQQ"))],
)
def test_symbols_of_splits_upper_cases_and_dedups(values, expected) -> None:  # type: ignore[no-untyped-def]
    assert cli.symbols_of(values) == expected


def test_live_checks_params_with_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    code = live_command.main(["--broker", "alpaca", "--param", "profit_target_pctt=0.3"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_BAD_INPUT and "did you mean 'profit_target_pct'" in err
    assert len(err.strip().splitlines()) == 1


def test_live_names_missing_credentials_without_echoing_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-a-real-secret-value")
    code = live_command.main(["--broker", "alpaca", "--strategy", "momentum_burst"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_AUTH and "APCA_API_KEY_ID" in err
    assert "not-a-real-secret-value" not in err
