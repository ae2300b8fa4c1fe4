"""The bundled sample: SPY and TSLA over ten sessions, built once into ``<repo>/data/sample``.

The sessions cover 0DTE days, the end of daylight saving time (2024-11-03) and the
2024-11-29 half day. SPY gets statistics files (open interest known), TSLA does not.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import date
from pathlib import Path

from feeds.synthetic.generate import GENERATOR_VERSION, generate_dataset
from feeds.synthetic.spec import SPY_SPEC, TSLA_SPEC, SymbolSpec

SAMPLE_SESSIONS: tuple[date, ...] = (
    date(2024, 10, 28),
    date(2024, 10, 29),
    date(2024, 10, 30),
    date(2024, 10, 31),
    date(2024, 11, 1),
    date(2024, 11, 4),
    date(2024, 11, 5),
    date(2024, 11, 26),
    date(2024, 11, 27),
    date(2024, 11, 29),
)
SAMPLE_SPECS: tuple[SymbolSpec, ...] = (SPY_SPEC, TSLA_SPEC)
SAMPLE_SEED = 20241028
MARKER = ".sample-complete.json"
_SAMPLE_VERSION = f"{GENERATOR_VERSION}/seed={SAMPLE_SEED}"


def default_sample_dir() -> Path:
    """``<repo>/data/sample`` (git-ignored)."""
    return Path(__file__).resolve().parents[2] / "data" / "sample"


def sample_is_complete(dest: Path) -> bool:
    """True when ``dest`` holds a finished sample built by this generator version."""
    try:
        info = json.loads((dest / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and info.get("version") == _SAMPLE_VERSION


def ensure_sample(dest: Path | None = None, *, progress: bool = True) -> Path:
    """Build the sample into ``dest`` unless it is already there; return its path.

    The build goes into a temporary folder beside ``dest`` and is renamed into place
    only when complete, so an interrupted build never looks finished.
    """
    target = Path(dest) if dest is not None else default_sample_dir()
    if sample_is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.building-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.monotonic()
    try:
        files = generate_dataset(tmp, SAMPLE_SPECS, SAMPLE_SESSIONS, seed=SAMPLE_SEED, progress=progress)
        manifest = {
            "version": _SAMPLE_VERSION,
            "seed": SAMPLE_SEED,
            "symbols": [s.symbol for s in SAMPLE_SPECS],
            "sessions": [d.isoformat() for d in SAMPLE_SESSIONS],
            "statistics": [s.symbol for s in SAMPLE_SPECS if s.has_statistics],
            "cbbo_rows": sum(f.cbbo_rows for f in files),
            "build_seconds": round(time.monotonic() - started, 2),
        }
        (tmp / MARKER).write_text(json.dumps(manifest, indent=2) + "\n")
        _swap_into_place(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _swap_into_place(tmp: Path, target: Path) -> None:
    if target.exists():
        if sample_is_complete(target):  # another process finished first
            return
        stale = target.parent / f".{target.name}.stale-{os.getpid()}"
        os.replace(target, stale)
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.replace(tmp, target)
    except OSError:
        if not sample_is_complete(target):
            raise
