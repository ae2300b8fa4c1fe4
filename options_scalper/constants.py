"""Numbers several parts of the toolkit share; each is typed here once."""

from __future__ import annotations

CONTRACT_MULTIPLIER = 100.0  # shares of the underlying per equity/index option contract
DEFAULT_CASH = 100_000.0  # dollars a backtest starts with unless told otherwise
DEFAULT_COMMISSION_PER_CONTRACT = 0.65  # dollars per contract, each side
DEFAULT_MAX_QUOTE_AGE_MIN = 2.0  # a quote older than this many minutes neither selects nor fills
DEFAULT_CONTRACT_FEEDS = 3  # contract feeds per underlying: one per allowed open position
DEFAULT_CAP_TO_SIZE = True  # fill at most the displayed size each minute; the rest keeps working
