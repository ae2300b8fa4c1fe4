"""The account lock, expiry-safety times (half days included), the status line, redaction."""

from __future__ import annotations

import io
import json
import logging
import os
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from app.live.expiry import flat_by, strategy_cutoff_et
from app.live.lock import AccountLock, AccountLocked, lock_path
from app.live.logs import LiveLog, redact, secrets_of
from app.live.status import ScalpView, status_line
from options_scalper.config import ScalpConfig
from options_scalper.config_momentum import MomentumConfig
from tests.support.fake_keys import fake_keys

TEST_KEY, TEST_SECRET = fake_keys("test")


def test_a_second_lock_on_the_account_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = lock_path(f"sqlite:///{tmp_path}/j/journal.sqlite", tmp_path / "out", "alpaca", "PA123")
    assert path == tmp_path / "j" / "live-alpaca-PA123.lock"
    with AccountLock(path, holder="run-1"):
        with pytest.raises(AccountLocked) as err:
            AccountLock(path).acquire()
        assert f"pid {os.getpid()} run run-1" in str(err.value) and "one runtime per account" in str(
            err.value
        )
    AccountLock(path).acquire().release()  # released: free again
    assert (
        lock_path("postgresql+psycopg://u@h/db", tmp_path, "ibkr", "DU 1/2")
        == tmp_path / "live-ibkr-DU_1_2.lock"
    )


def test_flat_by_is_the_earlier_of_the_strategy_cutoff_and_1510_et_half_days_shifted() -> None:
    ema, mom = ScalpConfig(), MomentumConfig()
    assert strategy_cutoff_et(ema) == time(14, 0) and strategy_cutoff_et(mom) == time(15, 50)
    day = datetime(2024, 11, 5, 15, tzinfo=UTC)
    assert flat_by(day, ema) == datetime(2024, 11, 5, 19, 0, tzinfo=UTC)  # 14:00 ET (the strategy's)
    assert flat_by(day, mom) == datetime(2024, 11, 5, 20, 10, tzinfo=UTC)  # 15:50 exit -> 15:10 ET
    assert flat_by(day) == datetime(2024, 11, 5, 20, 10, tzinfo=UTC)
    half = datetime(2024, 11, 29, 15, tzinfo=UTC)  # the day after Thanksgiving closes 13:00 ET
    assert flat_by(half, mom) == datetime(2024, 11, 29, 17, 10, tzinfo=UTC)  # 12:10 ET
    assert flat_by(half, ema) == datetime(2024, 11, 29, 16, 0, tzinfo=UTC)  # 11:00 ET


def test_status_line() -> None:
    line = status_line(
        datetime(2024, 11, 5, 15, 31, tzinfo=UTC),
        {"SPY": 575.123},
        [ScalpView("SPY241105C00575000", 2, 1.2, 1.35, 30.0)],
        -12.5,
        "REDUCING",
        "CONNBROKEN",
    )
    assert line == (
        "10:31 ET  SPY 575.12  open 1: SPY241105C00575000 x2 @1.20 bid 1.35 +$30.00  day -$12.50  "
        "REDUCING (data CONNBROKEN)"
    )
    assert "open 0" in status_line(datetime(2024, 11, 5, 15, 31, tzinfo=UTC), {}, [], 0.0, "ACTIVE")


def test_secrets_never_reach_the_log_or_the_console(tmp_path: Path) -> None:
    env = {"APCA_API_KEY_ID": TEST_KEY, "APCA_API_SECRET_KEY": TEST_SECRET, "OTHER": "x"}
    secrets = secrets_of(env)
    assert redact(f"key {TEST_KEY} and {TEST_SECRET}", secrets) == "key *** and ***"
    console = io.StringIO()
    log = LiveLog(tmp_path / "live.log", secrets, console=console)
    log.capture_library_logs()
    try:
        log.say(f"connected with {TEST_KEY}")
        log.event("order", detail={"header": TEST_SECRET})
        logging.getLogger("alpaca.test").warning("auth header %s", TEST_KEY)
    finally:
        log.close()
    text = (tmp_path / "live.log").read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert [r["event"] for r in lines] == ["say", "order", "library"]
    for value in env.values():
        if value != "x":
            assert value not in text and value not in console.getvalue()
