"""Domain value types shared by every stage of the scalping pipeline.

Pure data: no backtrader, no I/O. Times are timezone-aware ``datetime`` in UTC
unless a name says otherwise; prices are dollars per share of premium (one
contract = 100 x premium); percentages are fractions (0.10 = 10%) unless the
name ends in ``_pct100``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from options_scalper.eastern import session_date
from options_scalper.reasons import RejectReason


class ScalperError(Exception):
    """Base of every error raised by this project."""


class OptionRight(StrEnum):
    """Call or put; the value is the OCC letter."""

    CALL = "C"
    PUT = "P"

    @property
    def word(self) -> str:
        return "call" if self is OptionRight.CALL else "put"


class Direction(StrEnum):
    """Bias of a signal; bullish buys calls, bearish buys puts."""

    BULLISH = "bullish"
    BEARISH = "bearish"

    @property
    def right(self) -> OptionRight:
        return OptionRight.CALL if self is Direction.BULLISH else OptionRight.PUT

    @property
    def position_direction(self) -> str:
        """PRD-136 ``direction`` column value: ``long_call`` or ``long_put``."""
        return "long_call" if self is Direction.BULLISH else "long_put"


class ExitReason(StrEnum):
    """Why a scalp was closed; the value is what reports and the journal show."""

    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    MOMENTUM_EXHAUSTION = "momentum_exhaustion"
    CLOUD_FLIP = "cloud_flip"
    ZERO_DTE_CUTOFF = "zero_dte_cutoff"
    ONE_DTE_CUTOFF = "one_dte_cutoff"
    TIME_EXIT = "time_exit"  # max hold minutes reached
    END_OF_DAY = "end_of_day"
    EXPIRY = "expiry"  # settled at intrinsic value


@dataclass(frozen=True)
class Rejection:
    """A pipeline stage said no: a machine-readable code and a sentence for humans."""

    reason_code: str  # a ``RejectReason`` value
    message: str

    def __post_init__(self) -> None:
        try:
            code = RejectReason(str(self.reason_code))
        except ValueError:
            raise ValueError(
                f"Rejection code {self.reason_code!r} is not a RejectReason; add it to options_scalper.reasons"
            ) from None
        object.__setattr__(self, "reason_code", code.value)  # a plain str: Counter keys, JSON

    def __bool__(self) -> bool:  # a Rejection is never a truthy "result"
        return False


FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]


@dataclass(frozen=True, eq=False)
class ChainSnapshot:
    """One minute of one underlying's option chain, as parallel arrays.

    ``ts`` is the minute the quotes stand for (DataBento ``ts_recv``, the end of
    the interval), UTC. Each array has one entry per contract. Quotes are the last
    known good quote at ``ts``; ``quote_age_min`` is how many minutes old it is
    (0 = updated in this minute). ``open_interest`` / ``volume`` are NaN when
    unknown (CBBO carries neither); ``oi_known`` / ``volume_known`` say whether the
    source had them at all for this day.
    """

    underlying: str
    ts: datetime
    underlying_price: float
    symbol: ObjArray  # compact OCC symbols, str
    expiry: npt.NDArray[np.datetime64]  # datetime64[D]
    is_call: npt.NDArray[np.bool_]
    strike: FloatArray
    bid: FloatArray
    ask: FloatArray
    bid_size: FloatArray
    ask_size: FloatArray
    quote_age_min: FloatArray
    open_interest: FloatArray
    volume: FloatArray
    oi_known: bool = False
    volume_known: bool = False
    half_day: bool = False  # the session closes at 13:00 ET
    # the underlying k minutes before ``ts`` at index k (k = 0: ``underlying_price``), so a quote
    # carried forward k minutes is priced with the underlying of its own minute; None: ts only
    underlying_by_age: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.strike.shape[0])

    @property
    def mid(self) -> FloatArray:
        return (self.bid + self.ask) / 2.0

    @property
    def session_date(self) -> date:
        """Trading date of this snapshot in US/Eastern."""
        return session_date(self.ts)


@dataclass(frozen=True)
class Signal:
    """A directional trade idea from a strategy's signal logic.

    ``conviction`` is 0-100; ``macro_aligned`` says whether the higher-timeframe
    trend agrees. ``trigger`` names the rule that fired (``cloud_flip``,
    ``momentum_burst``, ``vwap_bounce``, ...).
    """

    signal_id: str
    ticker: str
    ts: datetime
    direction: Direction
    conviction: int
    trigger: str
    macro_aligned: bool = True
    underlying_price: float = float("nan")
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountState:
    """What the pipeline needs to know about the account when a signal arrives."""

    equity: float
    cash: float
    open_scalps: int = 0
    scalps_today: int = 0
    open_symbols: tuple[str, ...] = ()
