"""What the strategy keeps per underlying and per open scalp; the pool of contract feeds.

Everything here speaks to the ports of ``options_scalper.ports`` (a clock that
carries its chain, contract feeds that bind and release), never to a venue.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from options_scalper.calendar import expiry_time_utc
from options_scalper.constants import CONTRACT_MULTIPLIER
from options_scalper.model import ExitReason, OptionRight, Signal
from options_scalper.ports import ChainSource, ContractQuotes
from options_scalper.position import ScalpPosition
from options_scalper.quotes import ContractSpec
from options_scalper.records import ClosedScalp
from options_scalper.scalper import OrderIntent


class ContractPool:
    """Hands out free contract feeds; the feed count never grows with the chain or the days."""

    def __init__(self, feeds: Sequence[ContractQuotes]) -> None:
        self.feeds = tuple(feeds)

    def __len__(self) -> int:
        return len(self.feeds)

    def free(self) -> list[ContractQuotes]:
        return [f for f in self.feeds if not f.bound]

    def acquire(self, spec: ContractSpec, owner: Any = None) -> ContractQuotes | None:
        """Bind a free feed to ``spec`` and return it; None when every feed is in use."""
        for feed in self.feeds:
            if not feed.bound:
                feed.bind(spec, owner)
                return feed
        return None

    def release(self, feed: ContractQuotes) -> None:
        feed.release()

    def bound_symbols(self) -> tuple[str, ...]:
        return tuple(f.spec.option_symbol for f in self.feeds if f.spec is not None)


@dataclass
class SymbolBook:
    """Everything one underlying needs: clock, macro view, chain and contract pool."""

    symbol: str
    clock: Any  # the venue's ClockFeed (a Backtrader feed)
    macro: Any
    chain: ChainSource
    pool: ContractPool
    seen_len: int = 0


@dataclass
class OpenScalp:
    """One position in the making: entry context, fills so far, exit state."""

    book: SymbolBook
    feed: Any  # the bound ContractQuotes feed (a Backtrader feed)
    intent: OrderIntent
    signal: Signal
    opened_at: datetime
    entry_orders: list[Any] = field(default_factory=list)
    exit_order: Any = None
    bought: int = 0
    bought_cost: float = 0.0
    sold: int = 0
    sold_value: float = 0.0
    entry_time: datetime | None = None
    exit_time: datetime | None = None
    exit_reason: ExitReason | None = None
    added: bool = False
    depth_limited: bool = False  # some fill was cut to the displayed size (the rest kept working)
    last_bid: float = float("nan")
    last_ask: float = float("nan")
    last_quote_time: datetime | None = None
    position_cache: tuple[tuple[Any, ...], ScalpPosition] | None = None

    @property
    def option_symbol(self) -> str:
        return str(self.intent.option_symbol)

    @property
    def open_qty(self) -> int:
        return self.bought - self.sold

    @property
    def entry_premium(self) -> float:
        return self.bought_cost / self.bought if self.bought else float("nan")

    @property
    def exit_premium(self) -> float:
        return self.sold_value / self.sold if self.sold else float("nan")

    @property
    def working_entry(self) -> bool:
        return any(o.alive() for o in self.entry_orders)

    def pnl_pct_at(self, bid: float) -> float:
        e = self.entry_premium
        return (bid - e) / e if e and not math.isnan(e) else float("nan")


def scalp_position(scalp: OpenScalp) -> ScalpPosition:
    """The scalp as a domain ``ScalpPosition``, rebuilt only when its fills change."""
    key = (scalp.open_qty, scalp.bought, scalp.bought_cost, scalp.entry_time)
    if scalp.position_cache is not None and scalp.position_cache[0] == key:
        return scalp.position_cache[1]
    intent, sel = scalp.intent, scalp.intent.selection
    position = ScalpPosition.open(
        ticker=str(intent.ticker),
        option_symbol=scalp.option_symbol,
        right=intent.right,
        strike=float(intent.strike),
        expiry=intent.expiry,
        contracts=max(1, scalp.open_qty),
        entry_price=scalp.entry_premium,
        entry_time=scalp.entry_time or scalp.opened_at,
        signal_id=str(intent.signal_id),
        delta=float(sel.delta),
        theta=float(sel.theta),
        iv=float(sel.iv),
    )
    scalp.position_cache = (key, position)
    return position


def contract_spec(intent: OrderIntent) -> ContractSpec:
    """What a contract feed streams and the broker settles for ``intent``'s contract."""
    expiry = intent.expiry
    close_utc = expiry_time_utc(expiry).astimezone(UTC).replace(tzinfo=None)
    return ContractSpec(
        str(intent.option_symbol),
        intent.right is OptionRight.CALL,
        float(intent.strike),
        expiry,
        close_utc,
    )


def closed_record(
    scalp: OpenScalp, *, pnl: float, commission: float, order_id: str, exit_time: datetime
) -> ClosedScalp:
    """The ``ClosedScalp`` of a finished round trip; ``pnl`` net of every commission."""
    intent, sel = scalp.intent, scalp.intent.selection
    entry_dollars = scalp.entry_premium * scalp.bought * CONTRACT_MULTIPLIER
    reason = scalp.exit_reason or ExitReason.END_OF_DAY
    return ClosedScalp(
        signal_id=str(intent.signal_id),
        ticker=str(intent.ticker),
        option_symbol=scalp.option_symbol,
        option_type=intent.right.word,
        strike=float(intent.strike),
        expiry=intent.expiry,
        dte=int(intent.dte),
        direction=intent.direction.position_direction,
        contracts=scalp.bought,
        entry_premium=scalp.entry_premium,
        exit_premium=scalp.exit_premium,
        entry_delta=float(sel.delta),
        entry_theta=float(sel.theta),
        entry_iv=float(sel.iv),
        exit_reason=reason.value,
        pnl=pnl,
        pnl_pct=pnl / entry_dollars if entry_dollars else float("nan"),
        entry_time=scalp.entry_time or scalp.opened_at,
        exit_time=exit_time,
        commission=commission,
        conviction=int(intent.conviction),
        status="expired" if reason is ExitReason.EXPIRY else "closed",
        order_id=order_id,
        metadata={
            "trigger": scalp.signal.trigger,
            "added": scalp.added,
            "decision_ask": float(sel.ask),  # the chosen contract's ask in the decision minute
            "depth_limited": scalp.depth_limited,  # a fill was cut to the displayed size
        },
    )
