"""run_live.py's one-line refusals and their exit codes (nothing written for a refused run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app import cli, live_command
from tests.support.fake_alpaca import FakeAlpaca
from tests.support.fake_keys import fake_keys
from tests.support.replay_market import ReplayMarket
from tests.support.tiny_data import TINY_DAYS, tiny_spy

GOOD_KEY, GOOD_SECRET = fake_keys("good")


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = live_command.main(["--broker", "alpaca", *argv])
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    return code, err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--host", "127.0.0.1"], "--host: for --broker ibkr only"),
        (["--symbols", "SPX"], "Alpaca lists no index options"),
        (["--max-daily-loss", "0"], "--max-daily-loss must be a positive"),
        (["--max-orders-per-minute", "0"], "--max-orders-per-minute must be at least 1"),
        (["--data-timeout", "1"], "--data-timeout 1: must be at least 5 seconds"),
        (["--run-id", "x"], "--run-id names the live run --compare-with compares"),
        (["--journal", "nota://"], "--journal"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str],
    needle: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = refused(capsys, *argv)
    assert code == cli.EXIT_BAD_INPUT and needle in err
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeAlpaca]:
    market = ReplayMarket(tiny_spy(tmp_path_factory) / ".catalog", ["SPY"], TINY_DAYS[-1], start_et="10:00")
    with FakeAlpaca(market, key=GOOD_KEY, secret=GOOD_SECRET) as f:
        yield f


def test_keys_rejected_network_down_and_no_options_approval(
    fake: FakeAlpaca, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in fake.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("APCA_API_SECRET_KEY", "wrong-secret-value")
    code, err = refused(capsys)
    assert code == cli.EXIT_AUTH and "wrong-secret-value" not in err
    monkeypatch.setenv("APCA_API_SECRET_KEY", GOOD_SECRET)
    fake.faults.options_not_approved()
    code, err = refused(capsys)
    assert code == cli.EXIT_PERMISSION and "options" in err
    for name in ("APCA_TRADING_URL", "APCA_DATA_URL"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    code, err = refused(capsys)
    assert code == cli.EXIT_NETWORK
    assert list(tmp_path.iterdir()) == []  # a refused run writes nothing
