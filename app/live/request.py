"""What ``run_live.py`` was asked for (``LiveRequest``) and the checks made before any connection."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.live.limits import LiveLimits
from app.request import DEFAULT_WARMUP_DAYS, BadInput, RunRequest, check_request

BROKERS = ("alpaca", "ibkr")
INTERRUPT_EXITS = ("flatten", "keep")
DEFAULT_DATA_TIMEOUT = 120.0  # wall seconds a connected 1-minute bar stream may stay silent
INDEX_UNDERLYINGS = frozenset({"SPX", "SPXW", "NDX", "RUT", "XSP"})


@dataclass(frozen=True)
class LiveRequest:
    broker: str
    strategy: str
    params: tuple[str, ...] = ()
    profile: str | None = None
    symbols: tuple[str, ...] = ("SPY",)
    journal_url: str | None = None  # None: sqlite:///<out>/journal.sqlite
    out_dir: Path | None = None  # None: out/live-<broker>-<strategy>
    dry_run: bool = False
    live: bool = False
    catalog_dir: Path | None = None  # IV history for the greeks gate, as the backtest's catalog
    wait_for_open: bool = True
    exits_on_interrupt: str = "flatten"
    limits: LiveLimits = field(default_factory=LiveLimits)
    data_timeout: float = DEFAULT_DATA_TIMEOUT
    compare_with: Path | None = None
    run_id: str | None = None  # with --compare-with: compare that run instead of trading
    host: str | None = None
    port: int | None = None
    client_id: int | None = None
    allow_delayed: bool = False
    warmup_days: int = DEFAULT_WARMUP_DAYS

    def venue_options(self) -> dict[str, Any]:
        """The options ``venue_from_environment`` takes (None values left out)."""
        opts: dict[str, Any] = {
            "live": self.live,
            "allow_delayed": self.allow_delayed,
            "data_timeout": self.data_timeout,
            "host": self.host,
            "port": self.port,
            "client_id": self.client_id,
        }
        return {k: v for k, v in opts.items() if v is not None}


def default_live_out(broker: str, strategy: str) -> Path:
    name = strategy.rpartition(":")[2] or strategy
    return Path("out") / f"live-{broker}-{name}"


def check_live_request(req: LiveRequest, params: dict[str, Any]) -> None:
    """One ``BadInput`` line for what makes no sense before connecting."""
    if req.broker not in BROKERS:
        raise BadInput(f"--broker {req.broker!r}: use one of {', '.join(BROKERS)}")
    problems = req.limits.problems()
    if problems:
        raise BadInput(problems[0])
    if not (math.isfinite(req.data_timeout) and req.data_timeout >= 5):
        raise BadInput(f"--data-timeout {req.data_timeout:g}: must be at least 5 seconds")
    if req.exits_on_interrupt not in INTERRUPT_EXITS:
        raise BadInput(f"--exits-on-interrupt {req.exits_on_interrupt!r}: use flatten or keep")
    if req.broker != "ibkr":
        given = [
            n
            for n, v in (("--host", req.host), ("--port", req.port), ("--client-id", req.client_id))
            if v is not None
        ]
        if req.allow_delayed:
            given.append("--allow-delayed")
        if given:
            raise BadInput(
                f"{', '.join(given)}: for --broker ibkr only (Alpaca endpoints come from APCA_* variables)"
            )
    index = [s for s in req.symbols if s in INDEX_UNDERLYINGS]
    if index and req.broker == "alpaca":
        raise BadInput(
            f"--symbols {', '.join(index)}: Alpaca lists no index options; trade them with --broker ibkr"
        )
    if index and not params.get("allow_spx", True):
        raise BadInput(
            f"--symbols {', '.join(index)}: the strategy has allow_spx off; pass --param allow_spx=true"
        )
    if req.port is not None and not 0 < req.port < 65536:
        raise BadInput(f"--port {req.port}: not a TCP port (TWS paper 7497, IB Gateway paper 4002)")
    if req.warmup_days < 0:
        raise BadInput(f"--warmup-days {req.warmup_days}: must be >= 0 sessions")
    if req.run_id is not None and req.compare_with is None:
        raise BadInput("--run-id names the live run --compare-with compares; add --compare-with BACKTEST_OUT")
    check_request(RunRequest(strategy=req.strategy, journal_url=req.journal_url))


__all__ = [
    "BROKERS",
    "DEFAULT_DATA_TIMEOUT",
    "INTERRUPT_EXITS",
    "LiveRequest",
    "check_live_request",
    "default_live_out",
]
