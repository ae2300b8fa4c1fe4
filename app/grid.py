"""``--optimize`` grids: parse ``key=start:stop:step`` / ``key=a,b,c`` axes, check every combination."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.backtest import BadInput, one_line
from strategies import registry

MAX_COMBINATIONS = 10_000
# a sweep above either limit waits for --yes (issue 13: a 9,901-run grid used to start without a word)
CONFIRM_RUNS = 200
CONFIRM_SECONDS = 30 * 60
# one run over one session of one underlying: issue 13's 40-90 s per 1,000 sessions (the upper end,
# so the estimate errs long); README "Benchmarks": the probe strategy runs 12-13 sessions/s
SECONDS_PER_SESSION = 0.09
# params that shape the feeds or the broker, fixed for the whole Cerebro
NOT_SWEEPABLE = {
    "pool_size": "it sets how many contract feeds exist",
    "cap_to_size": "it is a broker setting",
    "macro_compression": "it sets the resampled macro feed, built once for all runs",
}


@dataclass(frozen=True)
class GridAxis:
    """One swept parameter and its values, in order; ``step``: a range's step (None: a list of values)."""

    name: str
    values: tuple[Any, ...]
    step: float | None = None


def _decimals(text: str) -> int:
    text = text.strip().lower()
    if "e" in text:
        return 12
    return len(text.split(".", 1)[1]) if "." in text else 0


def _range_values(name: str, text: str, default: Any) -> tuple[Any, ...]:
    parts = text.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise BadInput(f"--optimize {name}={text}: expected start:stop:step, e.g. {name}=0.2:0.4:0.1")
    if isinstance(default, bool) or not isinstance(default, int | float):
        raise BadInput(
            f"--optimize {name}={text}: {name} is not numeric (default {default!r}); list values: {name}=a,b"
        )
    try:
        start, stop, step = (float(p) for p in parts)
    except ValueError:
        raise BadInput(f"--optimize {name}={text}: start, stop and step must be numbers") from None
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise BadInput(f"--optimize {name}={text}: start, stop and step must be finite")
    if step <= 0:
        raise BadInput(f"--optimize {name}={text}: step must be > 0")
    if start > stop:
        raise BadInput(f"--optimize {name}={text}: start {start:g} is above stop {stop:g}; swap them")
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_COMBINATIONS:
        raise BadInput(f"--optimize {name}={text}: {count} values; use a coarser step")
    if isinstance(default, int):
        if not all(v.is_integer() for v in (start, stop, step)):
            raise BadInput(f"--optimize {name}={text}: {name} takes whole numbers (default {default})")
        return tuple(int(start) + i * int(step) for i in range(count))
    digits = max(_decimals(p) for p in parts)
    return tuple(round(start + i * step, digits) for i in range(count))


def parse_axis(text: str, valid: Mapping[str, Any], strategy: str) -> GridAxis:
    """Parse one ``--optimize`` text against the strategy's settable params."""
    try:
        name, values_text = registry.parse_assignment(text, "--optimize")
        name = registry.canonical_param(strategy, name)
        registry.check_param_name(name, valid, strategy, "--optimize")
    except registry.StrategyError as exc:
        raise BadInput(one_line(exc)) from exc
    if name in NOT_SWEEPABLE:
        raise BadInput(f"--optimize {name}: cannot be swept ({NOT_SWEEPABLE[name]}); set it with --param")
    default = valid[name]
    step: float | None = None
    if ":" in values_text:
        values = _range_values(name, values_text, default)
        step = float(values_text.split(":")[2])
        step = int(step) if isinstance(default, int) else step
    else:
        items = [v for v in values_text.split(",") if v.strip()]
        if not items:
            raise BadInput(f"--optimize {name}=: no values; use start:stop:step or a,b,c")
        try:
            values = tuple(registry.coerce_value(name, v, default, "--optimize") for v in items)
        except registry.StrategyError as exc:
            raise BadInput(one_line(exc)) from exc
    return GridAxis(name, tuple(dict.fromkeys(values)), step)


def parse_grid(
    texts: Sequence[str],
    strategy: str,
    strategy_cls: type,
    fixed: Mapping[str, Any],
    max_total: int | None = MAX_COMBINATIONS,
) -> list[GridAxis]:
    """Parse every ``--optimize`` text; check names are unique and not also fixed by ``--param``."""
    valid = registry.settable_params(strategy_cls)
    axes: list[GridAxis] = []
    for text in texts:
        axis = parse_axis(text, valid, strategy)
        if any(a.name == axis.name for a in axes):
            raise BadInput(f"--optimize {axis.name}: given twice; give each key once")
        if axis.name in fixed and axis.name != "profile":
            raise BadInput(f"--optimize {axis.name}: also set with --param/--profile; drop one of them")
        axes.append(axis)
    total = math.prod(len(a.values) for a in axes)
    if max_total is not None and total > max_total:
        raise BadInput(
            f"--optimize: {total} combinations (limit {max_total}); use coarser steps or --search random"
        )
    return axes


def combinations(axes: Sequence[GridAxis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, in ``itertools.product`` order."""
    names = [a.name for a in axes]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(a.values for a in axes))]


def random_combinations(axes: Sequence[GridAxis], trials: int, seed: int) -> list[dict[str, Any]]:
    """``trials`` distinct combinations drawn with ``random.Random(seed)`` (all of them when fewer), in grid order."""
    sizes = [len(a.values) for a in axes]
    total = math.prod(sizes)
    picks = sorted(random.Random(seed).sample(range(total), min(trials, total)))
    out = []
    for index in picks:
        combo: dict[str, Any] = {}
        for axis, size in zip(reversed(axes), reversed(sizes), strict=True):  # last axis varies fastest
            index, digit = divmod(index, size)
            combo[axis.name] = axis.values[digit]
        out.append({a.name: combo[a.name] for a in axes})
    return out


def validate_grid(strategy: str, fixed: Mapping[str, Any], axes: Sequence[GridAxis]) -> int:
    """Build the config of every combination; raise ``BadInput`` on the first invalid one."""
    return validate_combinations(strategy, fixed, combinations(axes))


def validate_combinations(
    strategy: str, fixed: Mapping[str, Any], combos: Sequence[Mapping[str, Any]]
) -> int:
    """Build the config of each combination; raise ``BadInput`` on the first invalid one."""
    for combo in combos:
        try:
            registry.validate_config(strategy, {**fixed, **combo})
        except registry.StrategyError as exc:
            shown = " ".join(f"{k}={v}" for k, v in combo.items())
            raise BadInput(f"--optimize: combination {shown} is invalid: {one_line(exc)}") from exc
    return len(combos)


def estimate_seconds(n_runs: int, sessions: int, symbols: int, workers: int) -> float:
    """Wall time of a sweep: runs x sessions x underlyings x ``SECONDS_PER_SESSION``, shared by the workers."""
    return n_runs * sessions * max(1, symbols) * SECONDS_PER_SESSION / max(1, workers)


def duration_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def check_grid_size(n_runs: int, seconds: float, yes: bool) -> None:
    """Refuse a sweep of more than ``CONFIRM_RUNS`` runs or ``CONFIRM_SECONDS`` unless ``yes``."""
    if yes or (n_runs <= CONFIRM_RUNS and seconds <= CONFIRM_SECONDS):
        return
    raise BadInput(
        f"--optimize: {n_runs} runs, about {duration_text(seconds)} estimated (more than {CONFIRM_RUNS} runs "
        f"or {CONFIRM_SECONDS // 60} min asks for confirmation); pass --yes to start it, or use coarser "
        "steps, fewer keys or a shorter --start/--end"
    )
