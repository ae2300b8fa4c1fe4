"""``RejectReason``: every stage's reason codes in one enum (the values reports and journals show).

A ``Rejection`` (``options_scalper.model``) carries one of these as its
``reason_code``; a code outside this enum is a programming error and fails at
construction. Grouped by the stage that refuses; a code two stages share (a
spread too wide, a delta out of range, too many open scalps) is one member.
"""

from __future__ import annotations

from enum import StrEnum


class RejectReason(StrEnum):
    """Why a signal did not become (or stay) an order."""

    # timing (options_scalper.calendar.is_tradable and the pipeline's own timing rules)
    MARKET_CLOSED = "market_closed"
    BEFORE_START = "before_start"
    AFTER_CUTOFF = "after_cutoff"
    ZERO_DTE_CUTOFF = "zero_dte_cutoff"
    ONE_DTE_CUTOFF = "one_dte_cutoff"
    AFTER_SESSION_EXIT = "after_session_exit"
    FOMC_BLACKOUT = "fomc_blackout"
    EXPIRED = "expired"
    # the signal and the account (OptionsScalper)
    LOW_CONVICTION = "low_conviction"
    MACRO_MISALIGNED = "macro_misaligned"
    MAX_CONCURRENT = "max_concurrent"
    DAILY_LIMIT = "daily_limit"
    TICKER_NOT_ALLOWED = "ticker_not_allowed"
    # strike selection (StrikeSelector)
    EMPTY_CHAIN = "empty_chain"
    NO_UNDERLYING_PRICE = "no_underlying_price"
    NO_EXPIRY = "no_expiry"
    STALE_QUOTES = "stale_quotes"
    NO_TWO_SIDED_QUOTES = "no_two_sided_quotes"
    SPREAD_TOO_WIDE = "spread_too_wide"  # the selector's filter and the gate's check
    LOW_OPEN_INTEREST = "low_open_interest"
    LOW_VOLUME = "low_volume"
    TOO_EXPENSIVE = "too_expensive"
    IV_UNSOLVED = "iv_unsolved"
    DELTA_OUT_OF_RANGE = "delta_out_of_range"  # the selector's filter and the gate's check
    # greeks gate (GreeksGate)
    IV_RANK_HIGH = "iv_rank_high"
    THETA_BURN = "theta_burn"
    GAMMA_EXTREME = "gamma_extreme"
    GATE_REJECTED = "gate_rejected"
    # sizing (ScalpSizer)
    BAD_PREMIUM = "bad_premium"
    NO_EQUITY = "no_equity"
    MAX_CONTRACT_PRICE = "max_contract_price"
    RISK_BUDGET = "risk_budget"
    NO_SIZE = "no_size"
    # the strategy's own rules (strategies/)
    VOLUME_NOT_CONFIRMED = "volume_not_confirmed"
    SIGNAL_INTERVAL = "signal_interval"
    LOSS_COOLDOWN = "loss_cooldown"
    PUT_CALL_DISAGREES = "put_call_disagrees"
    # the engine: orders and contract feeds (strategies.base)
    NO_INTENT = "no_intent"
    UNKNOWN_SYMBOL = "unknown_symbol"
    AFTER_FLATTEN_TIME = "after_flatten_time"
    ALREADY_HOLDING = "already_holding"
    NO_FREE_CONTRACT_FEED = "no_free_contract_feed"
    ADD_NOT_ALLOWED = "add_not_allowed"
    NO_QUOTE = "no_quote"
    NO_AVERAGE_UP = "no_average_up"
    INSUFFICIENT_CASH = "insufficient_cash"
    BROKER_REJECTED = "broker_rejected"
    FILL_TIMEOUT = "fill_timeout"
    ENTRY_SLIPPAGE_CAP = "entry_slippage_cap"  # the ask stayed above decision ask + max_entry_slippage_pct


__all__ = ["RejectReason"]
