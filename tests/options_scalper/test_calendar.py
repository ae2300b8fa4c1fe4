"""NYSE sessions, half days, DST, expiry times, cutoffs, FOMC blackout, is_tradable."""

import subprocess
import sys
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from options_scalper import calendar as cal
from options_scalper.config import MomentumConfig, ScalpConfig

ET = ZoneInfo("America/New_York")


def et(y, m, d, hh, mm):
    return datetime(y, m, d, hh, mm, tzinfo=ET).astimezone(UTC)


def test_domain_modules_do_not_import_backtrader():
    code = (
        "import sys; import options_scalper.config, options_scalper.calendar, options_scalper.greeks, "
        "options_scalper.position, options_scalper.sizing, options_scalper.exits; "
        "options_scalper.calendar.is_session(__import__('datetime').date(2024, 1, 10)); "
        "sys.exit('backtrader' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


class TestTimingRules:
    def test_dst_winter_open_is_1430_utc(self):
        open_utc, close_utc = cal.session_open_close(date(2024, 1, 10))
        assert open_utc == datetime(2024, 1, 10, 14, 30, tzinfo=UTC)
        assert close_utc == datetime(2024, 1, 10, 21, 0, tzinfo=UTC)

    def test_dst_summer_open_is_1330_utc(self):
        open_utc, close_utc = cal.session_open_close(date(2024, 7, 10))
        assert open_utc == datetime(2024, 7, 10, 13, 30, tzinfo=UTC)
        assert close_utc == datetime(2024, 7, 10, 20, 0, tzinfo=UTC)

    def test_half_day_closes_at_1300_et(self):
        day = date(2024, 11, 29)
        assert cal.is_half_day(day)
        assert cal.session_open_close(day)[1].astimezone(ET).time() == time(13, 0)
        assert not cal.is_half_day(date(2024, 11, 27))

    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            (date(2024, 11, 28), False),  # Thanksgiving
            (date(2024, 7, 4), False),
            (date(2024, 3, 29), False),  # Good Friday
            (date(2024, 6, 19), False),  # Juneteenth
            (date(2024, 1, 13), False),  # Saturday
            (date(2024, 1, 10), True),
        ],
    )
    def test_is_session_knows_holidays_and_weekends(self, day, expected):
        assert cal.is_session(day) is expected

    def test_market_hours_open_inclusive_close_exclusive(self):
        assert not cal.is_market_open(et(2024, 1, 10, 9, 29))
        assert cal.is_market_open(et(2024, 1, 10, 9, 30))
        assert cal.is_market_open(et(2024, 1, 10, 15, 59))
        assert not cal.is_market_open(et(2024, 1, 10, 16, 0))
        assert not cal.is_market_open(et(2024, 11, 28, 11, 0))

    def test_is_tradable_market_closed_on_holiday(self):
        rej = cal.is_tradable(et(2024, 11, 28, 11, 0), None, ScalpConfig())
        assert rej is not None and rej.reason_code == "market_closed"

    def test_is_tradable_before_start_time(self):
        rej = cal.is_tradable(et(2024, 1, 10, 9, 34), date(2024, 1, 10), ScalpConfig())
        assert rej is not None and rej.reason_code == "before_start" and "09:35" in rej.message
        assert cal.is_tradable(et(2024, 1, 10, 9, 35), date(2024, 1, 10), ScalpConfig()) is None

    def test_zero_dte_cutoff_at_1400(self):
        cfg = ScalpConfig()
        assert cal.is_tradable(et(2024, 1, 10, 13, 59), date(2024, 1, 10), cfg) is None
        rej = cal.is_tradable(et(2024, 1, 10, 14, 0), date(2024, 1, 10), cfg)
        assert rej is not None and rej.reason_code == "zero_dte_cutoff"
        # a 1DTE contract is still fine at 14:00, until 15:30
        assert cal.is_tradable(et(2024, 1, 10, 14, 0), date(2024, 1, 11), cfg) is None
        rej = cal.is_tradable(et(2024, 1, 10, 15, 30), date(2024, 1, 11), cfg)
        assert rej is not None and rej.reason_code == "one_dte_cutoff"

    def test_half_day_cutoffs_shift_with_early_close(self):
        day = date(2024, 11, 29)
        assert cal.effective_cutoff(day, time(14, 0)) == time(11, 0)
        assert cal.effective_cutoff(day, time(15, 30)) == time(12, 30)
        assert cal.effective_cutoff(date(2024, 11, 27), time(14, 0)) == time(14, 0)
        cfg = ScalpConfig()
        assert cal.is_tradable(et(2024, 11, 29, 10, 59), day, cfg) is None
        rej = cal.is_tradable(et(2024, 11, 29, 11, 0), day, cfg)
        assert rej is not None and rej.reason_code == "zero_dte_cutoff" and "half day" in rej.message

    def test_momentum_session_exit_blocks_entries(self):
        cfg = MomentumConfig()
        assert cal.is_tradable(et(2024, 1, 10, 15, 49), date(2024, 1, 11), cfg) is None
        rej = cal.is_tradable(et(2024, 1, 10, 15, 50), date(2024, 1, 11), cfg)
        assert rej is not None and rej.reason_code == "after_session_exit"
        # momentum has no 0DTE cutoff
        assert cal.is_tradable(et(2024, 1, 10, 15, 0), date(2024, 1, 10), cfg) is None

    def test_fomc_skip_on_thursday_2024_11_07(self):
        rej = cal.is_tradable(
            et(2024, 11, 7, 14, 10), date(2024, 11, 7), ScalpConfig(zero_dte_cutoff="15:00")
        )
        assert rej is not None and rej.reason_code == "fomc_blackout"
        assert cal.in_fomc_blackout(et(2024, 11, 7, 13, 30))
        assert cal.in_fomc_blackout(et(2024, 11, 7, 14, 30))
        assert not cal.in_fomc_blackout(et(2024, 11, 7, 13, 29))
        assert not cal.in_fomc_blackout(et(2024, 11, 7, 14, 31))
        assert not cal.in_fomc_blackout(et(2024, 11, 6, 14, 0))  # not the Wednesday

    def test_fomc_avoidance_can_be_switched_off(self):
        cfg = ScalpConfig(no_scalp_around_fomc=False, zero_dte_cutoff="15:00")
        assert cal.is_tradable(et(2024, 11, 7, 14, 10), date(2024, 11, 7), cfg) is None

    def test_expired_option_is_not_tradable(self):
        rej = cal.is_tradable(et(2024, 1, 10, 10, 0), date(2024, 1, 9), ScalpConfig())
        assert rej is not None and rej.reason_code == "expired"
        rej = cal.is_tradable(et(2024, 1, 19, 10, 0), date(2024, 1, 19), ScalpConfig(), settlement="AM")
        assert rej is not None and rej.reason_code == "expired"


def test_fomc_file_covers_2022_2026_eight_meetings_a_year():
    times = cal.fomc_times_utc()
    assert cal.fomc_years() == (2022, 2026)
    for year in range(2022, 2027):
        assert sum(t.year == year for t in times) == 8
    local = [t.astimezone(ET) for t in times]
    assert all(t.time() == time(14, 0) for t in local)
    assert {t.date() for t in local if t.weekday() != 2} == {date(2024, 11, 7)}  # the one Thursday


def test_expiry_time_pm_am_and_half_day():
    assert cal.expiry_time_utc(date(2024, 1, 10)) == datetime(2024, 1, 10, 21, 0, tzinfo=UTC)
    assert cal.expiry_time_utc(date(2024, 7, 10)) == datetime(2024, 7, 10, 20, 0, tzinfo=UTC)
    assert cal.expiry_time_utc(date(2024, 11, 29)) == datetime(2024, 11, 29, 18, 0, tzinfo=UTC)
    assert cal.expiry_time_utc(date(2024, 1, 19), "AM") == datetime(2024, 1, 19, 14, 30, tzinfo=UTC)
    # a holiday-dated expiry resolves to the previous session (Good Friday -> Thursday)
    assert cal.expiry_time_utc(date(2024, 3, 29)) == datetime(2024, 3, 28, 20, 0, tzinfo=UTC)


def test_next_previous_and_between_sessions():
    assert cal.next_session(date(2024, 11, 27)) == date(2024, 11, 29)
    assert cal.previous_session(date(2024, 12, 2)) == date(2024, 11, 29)
    assert cal.next_session(date(2024, 1, 12)) == date(2024, 1, 16)  # weekend + MLK day
    assert cal.sessions_between(date(2024, 12, 23), date(2024, 12, 27)) == (
        date(2024, 12, 23),
        date(2024, 12, 24),
        date(2024, 12, 26),
        date(2024, 12, 27),
    )


def test_session_open_close_on_holiday_raises_calendar_error():
    with pytest.raises(cal.CalendarError, match="not an NYSE session"):
        cal.session_open_close(date(2024, 12, 25))
    with pytest.raises(cal.CalendarError, match="outside"):
        cal.is_session(date(1990, 1, 2))


def test_naive_datetime_refused():
    with pytest.raises(cal.CalendarError, match="naive"):
        cal.to_eastern(datetime(2024, 1, 10, 15, 0))


def test_to_eastern_and_session_date_across_midnight_utc():
    late = datetime(2024, 1, 11, 1, 0, tzinfo=UTC)  # 20:00 ET on the 10th
    assert cal.to_eastern(late).hour == 20
    assert cal.session_date(late) == date(2024, 1, 10)


def test_unknown_settlement_style_refused():
    with pytest.raises(cal.CalendarError, match="'PM' or 'AM'"):
        cal.expiry_time_utc(date(2024, 1, 10), "noon")
