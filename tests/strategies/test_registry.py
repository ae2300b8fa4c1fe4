"""The strategy registry: shipped names, and module:Class strategies of the user's own."""

from __future__ import annotations

import pytest

from strategies import registry
from tests.support.probe import ProbeScalp


def test_shipped_registry_holds_only_the_trading_strategies() -> None:
    assert set(registry.STRATEGIES) == {"ema_cloud", "momentum_burst"}


def test_module_colon_class_loads_a_user_strategy_and_its_config() -> None:
    name = "tests.support.probe:ProbeScalp"
    assert registry.load_strategy(name) is ProbeScalp
    assert registry.load_config_class(name) is ProbeScalp.config_cls
    typed = registry.resolve_params(name, ProbeScalp, ["fast=4", "profit_target_pct=0.3"])
    assert typed == {"fast": 4, "profit_target_pct": 0.3}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nosuchmodule_xyz:Strat", "cannot import it (ModuleNotFoundError"),
        ("tests.support.probe:NoSuchClass", "cannot import it (AttributeError"),
        ("options_scalper.config:ScalpConfig", "not a scalping strategy class with a config_cls"),
        (":Strat", "expected module:Class"),
        ("ema_clod", "did you mean 'ema_cloud'"),
    ],
)
def test_bad_strategy_names_give_one_line(name: str, message: str) -> None:
    with pytest.raises(registry.StrategyError, match=None) as info:
        registry.load_strategy(name)
    text = str(info.value)
    assert message in text and "\n" not in text


@pytest.mark.parametrize("strategy", ["ema_cloud", "momentum_burst"])
@pytest.mark.parametrize(
    ("target", "stop"), [("take_profit_pct", "stop_loss_pct"), ("profit_target_pct", "max_loss_pct")]
)
def test_both_seeds_names_of_target_and_stop_work_on_both_strategies(
    strategy: str, target: str, stop: str
) -> None:
    cls = registry.load_strategy(strategy)
    typed = registry.resolve_params(strategy, cls, [f"{target}=0.4", f"{stop}=0.2"])
    config = registry.load_config_class(strategy)().with_overrides(**typed)
    rules = config.exit_rules()
    assert (rules.profit_target_pct, rules.stop_loss_pct) == (0.4, 0.2)


def test_a_setting_given_under_both_names_is_refused() -> None:
    cls = registry.load_strategy("ema_cloud")
    with pytest.raises(registry.StrategyError, match="same setting"):
        registry.resolve_params("ema_cloud", cls, ["take_profit_pct=0.3", "profit_target_pct=0.4"])


def test_optimize_takes_the_other_seeds_name() -> None:
    from app.sweep import parse_axis

    cls = registry.load_strategy("momentum_burst")
    axis = parse_axis("profit_target_pct=0.2:0.3:0.1", registry.settable_params(cls), "momentum_burst")
    assert axis.name == "take_profit_pct" and axis.values == (0.2, 0.3)
