"""ScalpConfig / MomentumConfig: spec defaults, validation, overrides, env, profiles, criteria."""

import dataclasses
import math
from datetime import time

import pytest

from options_scalper.config import (
    PROFILES,
    ConfigError,
    EntryOrderType,
    MomentumConfig,
    ScalpConfig,
    SizingMode,
    parse_hhmm,
)
from options_scalper.model import ScalperError

PRD_136_DEFAULTS = {
    "scalp_tickers": ("SPY", "QQQ", "NVDA", "TSLA", "AAPL", "MSFT", "META", "AMZN"),
    "allow_spx": True,
    "target_delta_min": 0.30,
    "target_delta_max": 0.50,
    "max_spread_pct": 0.10,
    "min_open_interest": 1000,
    "min_volume": 500,
    "max_risk_per_scalp": 0.02,
    "max_loss_pct": 0.50,
    "profit_target_pct": 0.25,
    "max_concurrent_scalps": 3,
    "no_average_up": True,
    "max_iv_rank": 0.80,
    "max_theta_burn_pct": 0.05,
    "max_gamma": 0.15,
    "scalp_start_time": "09:35",
    "zero_dte_cutoff": "14:00",
    "one_dte_cutoff": "15:30",
    "no_scalp_around_fomc": True,
    "entry_order_type": "limit",
    "limit_offset": 0.02,
    "fill_timeout_seconds": 15,
    "min_conviction_to_scalp": 50,
    "require_macro_alignment": True,
}

SEED_003_DEFAULTS = {
    "momentum_threshold_pct": 0.005,
    "momentum_window_bars": 2,
    "volume_spike_ratio": 1.5,
    "target_delta": 0.35,
    "delta_tolerance": 0.10,
    "max_spread_pct": 0.08,
    "min_open_interest": 100,
    "max_dte": 1,
    "prefer_0dte": True,
    "take_profit_pct": 0.30,
    "stop_loss_pct": 0.15,
    "max_hold_minutes": 15,
    "max_daily_scalps": 10,
    "max_concurrent_scalps": 1,
    "scalp_position_size_pct": 0.05,
    "max_contract_price": 5.00,
    "min_signal_interval_bars": 1,
    "cooldown_after_loss_minutes": 5,
}


@pytest.mark.parametrize(("name", "expected"), PRD_136_DEFAULTS.items())
def test_scalp_config_default_matches_prd_136(name, expected):
    assert getattr(ScalpConfig(), name) == expected


@pytest.mark.parametrize(("name", "expected"), SEED_003_DEFAULTS.items())
def test_momentum_config_default_matches_seed_003_as_fraction(name, expected):
    assert getattr(MomentumConfig(), name) == expected


def test_scalp_config_additions_have_documented_defaults():
    cfg = ScalpConfig()
    assert (cfg.max_dte, cfg.max_quote_age_minutes, cfg.fomc_blackout_minutes) == (1, 2.0, 30)
    assert (cfg.risk_free_rate, cfg.dividend_yield, cfg.full_conviction) == (0.05, 0.0, 75)
    assert cfg.half_position_entry is True and cfg.min_iv_history_days == 20


def test_configs_are_frozen_and_tickers_a_tuple():
    cfg = ScalpConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.max_gamma = 1.0  # type: ignore[misc]
    assert isinstance(cfg.scalp_tickers, tuple)
    assert ScalpConfig(scalp_tickers=["spy", "qqq"]).scalp_tickers == ("SPY", "QQQ")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"max_spread_pct": -0.1}, "max_spread_pct"),
        ({"max_loss_pct": 0.0}, "max_loss_pct"),
        ({"min_open_interest": -5}, "min_open_interest"),
        ({"max_iv_rank": 1.5}, "valid range is [0, 1]"),
        ({"target_delta_min": 0.6}, "target_delta_min 0.6 > target_delta_max 0.5"),
        ({"scalp_start_time": "9:35am"}, "scalp_start_time"),
        ({"zero_dte_cutoff": "25:00"}, "zero_dte_cutoff"),
        ({"zero_dte_cutoff": "09:00"}, "must be after scalp_start_time"),
        ({"min_conviction_to_scalp": 80}, "full_conviction"),
        ({"max_concurrent_scalps": 2.5}, "whole number"),
        ({"allow_spx": "maybe"}, "allow_spx"),
        ({"entry_order_type": "market"}, "valid: limit, ask"),
    ],
)
def test_scalp_config_rejects_bad_value_naming_field(overrides, needle):
    with pytest.raises(ConfigError) as err:
        ScalpConfig().with_overrides(**overrides)
    assert needle in str(err.value)


def test_config_error_is_scalper_error_and_value_error():
    with pytest.raises(ScalperError):
        ScalpConfig(max_gamma=-1.0)
    with pytest.raises(ValueError):
        ScalpConfig(max_gamma=-1.0)


def test_with_overrides_unknown_name_lists_valid_fields():
    with pytest.raises(ConfigError) as err:
        ScalpConfig().with_overrides(max_sprad_pct=0.2)
    message = str(err.value)
    assert "max_sprad_pct" in message and "max_spread_pct" in message and "min_volume" in message


def test_momentum_unknown_field_rejected_in_constructor_by_python():
    with pytest.raises(TypeError):
        MomentumConfig(foo=1)  # type: ignore[call-arg]


def test_with_overrides_coerces_cli_strings():
    cfg = ScalpConfig().with_overrides(
        max_spread_pct="0.3",
        allow_spx="false",
        scalp_start_time="09:40",
        min_volume="200",
        entry_order_type="ASK",
        scalp_tickers="spy, iwm",
        profit_target_pct="20%",
    )
    assert cfg.max_spread_pct == 0.3 and cfg.allow_spx is False and cfg.scalp_start_et == time(9, 40)
    assert cfg.min_volume == 200 and cfg.entry_order_type is EntryOrderType.ASK
    assert cfg.scalp_tickers == ("SPY", "IWM") and cfg.profit_target_pct == pytest.approx(0.20)
    assert ScalpConfig().max_spread_pct == 0.10  # the original is untouched


def test_with_overrides_bad_string_names_field():
    with pytest.raises(ConfigError, match="min_volume"):
        ScalpConfig().with_overrides(min_volume="lots")


def test_parse_hhmm_valid_and_invalid():
    assert parse_hhmm("09:35") == time(9, 35)
    assert parse_hhmm(time(14, 0)) == time(14, 0)
    for bad in ("9", "09:5", "24:00", "ab:cd", "09:35:00"):
        with pytest.raises(ConfigError):
            parse_hhmm(bad)


def test_momentum_from_env_converts_percent_and_seconds():
    env = {
        "SCALP_MOMENTUM_THRESHOLD": "0.7",
        "SCALP_MOMENTUM_WINDOW": "120",
        "SCALP_VOLUME_SPIKE_RATIO": "2.0",
        "SCALP_TARGET_DELTA": "0.40",
        "SCALP_MAX_SPREAD_PCT": "6.0",
        "SCALP_MAX_DTE": "0",
        "SCALP_MAX_CONTRACT_PRICE": "3.50",
        "SCALP_TAKE_PROFIT": "25.0",
        "SCALP_STOP_LOSS": "10.0",
        "SCALP_MAX_HOLD_MINUTES": "10",
        "SCALP_MAX_DAILY_TRADES": "5",
        "SCALP_MAX_CONCURRENT": "2",
        "SCALP_POSITION_SIZE_PCT": "2.5",
        "SCALP_MIN_SIGNAL_INTERVAL": "90",
        "SCALP_LOSS_COOLDOWN": "300",
        "UNRELATED": "x",
    }
    cfg = MomentumConfig.from_env(env)
    assert cfg.momentum_threshold_pct == 0.007
    assert cfg.momentum_window_bars == 3  # 120 s = 2 one-minute moves = 3 closes
    assert (cfg.volume_spike_ratio, cfg.target_delta, cfg.max_spread_pct) == (2.0, 0.40, 0.06)
    assert (cfg.max_dte, cfg.max_contract_price) == (0, 3.50)
    assert (cfg.take_profit_pct, cfg.stop_loss_pct, cfg.max_hold_minutes) == (0.25, 0.10, 10)
    assert (cfg.max_daily_scalps, cfg.max_concurrent_scalps, cfg.scalp_position_size_pct) == (5, 2, 0.025)
    assert (cfg.min_signal_interval_bars, cfg.cooldown_after_loss_minutes) == (2, 5)


def test_momentum_from_env_seed_defaults_equal_class_defaults():
    env = {
        "SCALP_MOMENTUM_THRESHOLD": "0.5",
        "SCALP_MOMENTUM_WINDOW": "30",
        "SCALP_MIN_SIGNAL_INTERVAL": "60",
    }
    assert MomentumConfig.from_env(env) == MomentumConfig()
    assert MomentumConfig.from_env({}) == MomentumConfig()


@pytest.mark.parametrize(
    ("env", "var"),
    [
        ({"SCALP_STOP_LOSS": "abc"}, "SCALP_STOP_LOSS"),
        ({"SCALP_STOP_LOSS": "-5"}, "SCALP_STOP_LOSS"),
        ({"SCALP_MAX_DTE": "1.5"}, "SCALP_MAX_DTE"),
        ({"SCALP_LOSS_COOLDOWN": "-1"}, "SCALP_LOSS_COOLDOWN"),
    ],
)
def test_momentum_from_env_bad_value_names_variable(env, var):
    with pytest.raises(ConfigError) as err:
        MomentumConfig.from_env(env)
    assert str(err.value).startswith(var)


def test_scalp_config_from_env_reads_prefixed_field_names():
    cfg = ScalpConfig.from_env(
        {"SCALP_MAX_SPREAD_PCT": "0.12", "SCALP_ALLOW_SPX": "no", "SCALP_ENABLED": "1"}
    )
    assert cfg.max_spread_pct == 0.12 and cfg.allow_spx is False


def test_profiles_match_seed_003_table():
    assert set(PROFILES) == {"conservative", "moderate", "aggressive"}
    cons = MomentumConfig.from_profile("conservative")
    assert (cons.momentum_threshold_pct, cons.volume_spike_ratio, cons.take_profit_pct) == (0.007, 2.0, 0.25)
    assert (cons.stop_loss_pct, cons.max_hold_minutes, cons.max_daily_scalps) == (0.10, 10, 5)
    aggr = MomentumConfig.from_profile("Aggressive", max_dte=0)
    assert (aggr.momentum_threshold_pct, aggr.volume_spike_ratio, aggr.take_profit_pct) == (0.003, 1.2, 0.40)
    assert (aggr.stop_loss_pct, aggr.max_hold_minutes, aggr.max_daily_scalps, aggr.max_dte) == (
        0.20,
        20,
        15,
        0,
    )
    assert MomentumConfig.from_profile("moderate") == MomentumConfig()


def test_unknown_profile_lists_valid_names():
    with pytest.raises(ConfigError, match="conservative, moderate, aggressive"):
        MomentumConfig.from_profile("yolo")


def test_scalp_config_derived_criteria():
    cfg = ScalpConfig()
    sel = cfg.selection_criteria()
    assert (sel.delta_min, sel.delta_max, sel.delta_target) == (0.30, 0.50, pytest.approx(0.40))
    assert sel.max_contract_price == math.inf and sel.zero_dte_cutoff == time(14, 0) and sel.min_volume == 500
    gate = cfg.gate_criteria()
    assert (gate.max_iv_rank, gate.max_theta_burn_pct, gate.max_gamma, gate.min_iv_history_days) == (
        0.80,
        0.05,
        0.15,
        20,
    )
    rule = cfg.sizing_rule()
    assert rule.mode is SizingMode.RISK_BUDGET and (rule.full_conviction, rule.min_conviction) == (75, 50)
    assert rule.max_concurrent == 3 and rule.max_risk_per_scalp == 0.02 and rule.max_loss_pct == 0.50
    ex = cfg.exit_rules()
    assert (ex.profit_target_pct, ex.stop_loss_pct, ex.exhaustion_candles, ex.use_cloud_flip) == (
        0.25,
        0.5,
        3,
        True,
    )
    assert (ex.zero_dte_cutoff, ex.one_dte_cutoff, ex.max_hold_minutes) == (time(14, 0), time(15, 30), None)


def test_momentum_config_derived_criteria():
    cfg = MomentumConfig()
    sel = cfg.selection_criteria()
    assert sel.delta_min == pytest.approx(0.25) and sel.delta_max == pytest.approx(0.45)
    assert (sel.min_volume, sel.zero_dte_cutoff, sel.max_contract_price) == (0, None, 5.0)
    gate = cfg.gate_criteria()
    assert (gate.max_iv_rank, gate.max_theta_burn_pct, gate.max_gamma) == (None, None, None)
    rule = cfg.sizing_rule()
    assert rule.mode is SizingMode.PERCENT_OF_EQUITY and rule.position_size_pct == 0.05
    ex = cfg.exit_rules()
    assert (ex.profit_target_pct, ex.stop_loss_pct, ex.max_hold_minutes) == (0.30, 0.15, 15)
    assert (ex.session_exit_time, ex.exhaustion_candles, ex.use_cloud_flip) == (time(15, 50), None, False)


def test_momentum_delta_band_outside_unit_interval_rejected():
    with pytest.raises(ConfigError, match="delta_tolerance"):
        MomentumConfig(target_delta=0.95, delta_tolerance=0.10)
