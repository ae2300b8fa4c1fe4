"""EmaCloudConfig and EmaCloudScalp's params, without Cerebro."""

from __future__ import annotations

import dataclasses
import importlib
import pickle
from types import SimpleNamespace

import pytest

from options_scalper.config import ConfigError, ScalpConfig
from options_scalper.signals.ema_cloud import ConvictionWeights
from strategies.base import config_from_params, params_from_config
from strategies.ema_cloud import EmaCloudConfig, EmaCloudScalp
from strategies.ema_cloud import strategy as strategy_module

SIGNAL_DEFAULTS = {
    "ema_fast": 5,
    "ema_slow": 12,
    "macro_ema_fast": 34,
    "macro_ema_slow": 50,
    "macro_compression": 10,
    "volume_lookback": 20,
    "volume_mult": 1.5,
    "exhaustion_candles": 3,
    "atr_period": 14,
    "w_macro_alignment": 30.0,
    "w_volume": 25.0,
    "w_separation": 20.0,
    "w_extension": 15.0,
    "w_time_of_day": 10.0,
}


def strategy_params() -> dict[str, object]:
    return dict(EmaCloudScalp.params._getpairs())


def test_every_scalp_config_field_is_a_param_with_the_prd_default():
    params = strategy_params()
    for name, default in params_from_config(ScalpConfig):
        assert params[name] == default, name
    assert params["scalp_tickers"] == "SPY,QQQ,NVDA,TSLA,AAPL,MSFT,META,AMZN"
    assert params["profit_target_pct"] == 0.25 and params["max_loss_pct"] == 0.50
    assert params["min_conviction_to_scalp"] == 50 and params["require_macro_alignment"] is True
    assert params["zero_dte_cutoff"] == "14:00" and params["one_dte_cutoff"] == "15:30"


def test_signal_knobs_are_params_with_the_spec_defaults():
    params = strategy_params()
    assert {k: params[k] for k in SIGNAL_DEFAULTS} == SIGNAL_DEFAULTS


def test_params_are_flat_picklable_scalars():
    pairs = EmaCloudScalp.params._getpairs()
    assert all(isinstance(v, bool | int | float | str) for v in pairs.values())
    assert pickle.loads(pickle.dumps(tuple(pairs.items()))) == tuple(pairs.items())


def test_registry_target_imports():
    module, _, name = "strategies.ema_cloud:EmaCloudScalp".partition(":")
    assert getattr(importlib.import_module(module), name) is EmaCloudScalp
    assert EmaCloudScalp.config_cls is EmaCloudConfig


def test_config_from_params_coerces_cli_strings():
    p = SimpleNamespace(**strategy_params())
    p.volume_mult, p.ema_fast, p.scalp_tickers, p.require_macro_alignment = "2", "8", "spy, qqq", "false"
    cfg = config_from_params(EmaCloudConfig, p)
    assert cfg.volume_mult == 2.0 and cfg.ema_fast == 8
    assert cfg.scalp_tickers == ("SPY", "QQQ") and cfg.require_macro_alignment is False


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ema_fast": 12}, "ema_fast 12 must be shorter than ema_slow 12"),
        ({"macro_ema_fast": 60}, "macro_ema_fast 60 must be shorter"),
        ({"volume_lookback": 0}, r"volume_lookback: 0 is out of range; valid range is \[1, 390\]"),
        ({"volume_mult": -1.0}, "volume_mult"),
        ({"w_volume": 40.0}, "must sum to 100"),
        ({"min_conviction_to_scalp": 80}, "min_conviction_to_scalp 80 > full_conviction 75"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        EmaCloudConfig().with_overrides(**overrides)


def test_weights_changed_together_are_the_conviction_weights():
    cfg = EmaCloudConfig().with_overrides(w_volume="35", w_time_of_day="0")
    assert cfg.conviction_weights() == ConvictionWeights(30.0, 35.0, 20.0, 15.0, 0.0)


def test_exit_rules_are_prd_136s_with_the_exhaustion_count_param():
    base, cfg = ScalpConfig().exit_rules(), EmaCloudConfig(exhaustion_candles=4).exit_rules()
    assert cfg == dataclasses.replace(base, exhaustion_candles=4)
    assert cfg.profit_target_pct == 0.25 and cfg.stop_loss_pct == 0.50 and cfg.use_cloud_flip


def test_docstring_documents_the_default_conviction_weights():
    doc = strategy_module.__doc__ or ""
    for label, weight in (
        ("macro alignment", 30),
        ("volume", 25),
        ("cloud separation", 20),
        ("extension", 15),
        ("time of day", 10),
    ):
        assert f"{label:<20}{weight}" in doc, label
