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
