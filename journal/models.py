"""SQLAlchemy 2 models of the journal: PRD-136's ``options_scalps`` and the ``runs`` table.

Times are stored as naive UTC ``DateTime`` values. The three PRD indexes are
``(ticker, status)``, ``(signal_id)``, ``(expiry)``; revision 137 adds
``options_scalps.run_id`` (NULL on rows journaled before runs existed), its
index and the ``runs`` table (one row per backtest run); revision 138 adds
``runs.split`` and the ``split_ledger`` table (which run touched which
dataset split, with which params: the out-of-sample ledger); revision 139 adds
``runs.mode/broker/account`` and the live session's tables ``live_orders`` (every
order event as it happens) and ``live_heartbeats`` (the runtime's status each minute);
revision 140 adds ``live_chains`` (the chain snapshot the live strategy decided on, per minute).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TABLE_NAME = "options_scalps"
RUNS_TABLE = "runs"
LEDGER_TABLE = "split_ledger"
LEDGER_INDEX = "ix_split_ledger_strategy_split"
LIVE_ORDERS_TABLE = "live_orders"
HEARTBEATS_TABLE = "live_heartbeats"
LIVE_CHAINS_TABLE = "live_chains"
RUN_MODES = ("backtest", "paper", "live", "dry_run")
RUN_ID_LENGTH = 40
INDEXES: dict[str, tuple[str, ...]] = {
    "ix_options_scalps_ticker_status": ("ticker", "status"),
    "ix_options_scalps_signal_id": ("signal_id",),
    "ix_options_scalps_expiry": ("expiry",),
}
RUN_ID_INDEX = "ix_options_scalps_run_id"
RUN_ID_FOREIGN_KEY = "fk_options_scalps_run_id_runs"


def utc_now_naive() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class OptionsScalpRecord(Base):
    """One scalp position (PRD-136 ``options_scalps``)."""

    __tablename__ = TABLE_NAME
    __table_args__ = (
        *(Index(name, *cols) for name, cols in INDEXES.items()),
        Index(RUN_ID_INDEX, "run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal_id: Mapped[str | None] = mapped_column(String(50))
    ticker: Mapped[str] = mapped_column(String(10), nullable=False)
    option_symbol: Mapped[str] = mapped_column(String(30), nullable=False)
    option_type: Mapped[str] = mapped_column(String(4), nullable=False)  # call, put
    strike: Mapped[float] = mapped_column(Float, nullable=False)
    expiry: Mapped[date] = mapped_column(Date, nullable=False)
    dte: Mapped[int] = mapped_column(Integer, nullable=False)
    direction: Mapped[str] = mapped_column(String(20), nullable=False)  # long_call, long_put
    contracts: Mapped[int] = mapped_column(Integer, nullable=False)
    entry_premium: Mapped[float] = mapped_column(Float, nullable=False)
    exit_premium: Mapped[float | None] = mapped_column(Float)
    entry_delta: Mapped[float | None] = mapped_column(Float)
    entry_theta: Mapped[float | None] = mapped_column(Float)
    entry_iv: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str | None] = mapped_column(String(20), default="open")  # open, closed, expired
    exit_reason: Mapped[str | None] = mapped_column(String(50))
    pnl: Mapped[float | None] = mapped_column(Float)
    pnl_pct: Mapped[float | None] = mapped_column(Float)
    broker: Mapped[str | None] = mapped_column(String(20))
    order_id: Mapped[str | None] = mapped_column(String(100))
    entry_time: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    exit_time: Mapped[datetime | None] = mapped_column(DateTime)
    metadata_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(
        DateTime, default=utc_now_naive, server_default=func.now()
    )
    run_id: Mapped[str | None] = mapped_column(
        String(RUN_ID_LENGTH), ForeignKey(f"{RUNS_TABLE}.run_id", name=RUN_ID_FOREIGN_KEY)
    )

    def __repr__(self) -> str:
        return f"OptionsScalpRecord(id={self.id}, {self.option_symbol} x{self.contracts}, {self.status}, pnl={self.pnl})"


class RunRecord(Base):
    """One backtest run: what ran, on what, when, and how it ended (``running``/``finished``/``failed``).

    ``params_json`` is the strategy's effective params as sorted JSON; ``symbols``
    is comma-separated; ``start_date``/``end_date`` are the first and last trading
    sessions. A row still ``running`` with no ``finished_at`` is a run that was
    killed or crashed before its end.
    """

    __tablename__ = RUNS_TABLE

    run_id: Mapped[str] = mapped_column(String(RUN_ID_LENGTH), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(200), nullable=False)
    params_json: Mapped[str | None] = mapped_column(Text)
    symbols: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    data_path: Mapped[str | None] = mapped_column(Text)
    catalog_path: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    scalps: Mapped[int | None] = mapped_column(Integer)
    split: Mapped[str | None] = mapped_column(String(20))  # dev, validation, oos (None: not asked)
    mode: Mapped[str | None] = mapped_column(String(10))  # RUN_MODES (None: a backtest before 139)
    broker: Mapped[str | None] = mapped_column(String(20))  # alpaca, ibkr (None: backtest)
    account: Mapped[str | None] = mapped_column(String(40))  # the broker account number (live runs)

    def __repr__(self) -> str:
        return f"RunRecord({self.run_id}, {self.strategy}, {self.status})"


class LedgerRecord(Base):
    """One run (or sweep combination) touching one dataset split: the out-of-sample ledger.

    ``split`` is the split whose sessions the run touched (``start_date``..``end_date``:
    the part of the run inside it); ``requested_split`` is what ``--split`` asked for
    (None: plain dates); ``kind`` is ``run`` or ``sweep``; the figures are those of the
    run's trades inside the split (None until the run finishes, or for a sweep that
    spans several splits).
    """

    __tablename__ = LEDGER_TABLE
    __table_args__ = (Index(LEDGER_INDEX, "strategy", "split"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(RUN_ID_LENGTH))
    strategy: Mapped[str] = mapped_column(String(200), nullable=False)
    params_json: Mapped[str] = mapped_column(Text, nullable=False)
    split: Mapped[str] = mapped_column(String(20), nullable=False)
    requested_split: Mapped[str | None] = mapped_column(String(20))
    symbols: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    touched_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    trades: Mapped[int | None] = mapped_column(Integer)
    avg_pnl_pct: Mapped[float | None] = mapped_column(Float)
    total_pnl: Mapped[float | None] = mapped_column(Float)


class LiveOrderRecord(Base):
    """One order event of a live or dry-run session, written as it happens.

    ``event`` is ``submitted``, ``accepted``, ``partial_fill``, ``fill``, ``canceled``,
    ``expired``, ``rejected`` (``message``: the broker's text) or ``lost`` (no reply to the
    submit; found again by ``client_order_id``). Fill rows carry that execution's
    ``fill_qty`` / ``fill_price`` (never cumulative figures) and its ``execution_id``,
    unique per run, so a replayed event is never booked twice. ``role`` is ``entry`` or
    ``exit``; ``commission`` is the broker's when it reported one, else our model's.
    """

    __tablename__ = LIVE_ORDERS_TABLE
    __table_args__ = (
        UniqueConstraint("run_id", "execution_id", name="uq_live_orders_run_execution"),
        Index("ix_live_orders_client_order_id", "client_order_id"),
        Index("ix_live_orders_run_id_ts", "run_id", "ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(RUN_ID_LENGTH), nullable=False)
    ts: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    broker: Mapped[str] = mapped_column(String(20), nullable=False)
    client_order_id: Mapped[str] = mapped_column(String(64), nullable=False)
    venue_order_id: Mapped[str | None] = mapped_column(String(64))
    ticker: Mapped[str | None] = mapped_column(String(10))
    option_symbol: Mapped[str] = mapped_column(String(30), nullable=False)
    side: Mapped[str] = mapped_column(String(4), nullable=False)  # buy, sell
    qty: Mapped[int] = mapped_column(Integer, nullable=False)
    limit_price: Mapped[float | None] = mapped_column(Float)
    role: Mapped[str | None] = mapped_column(String(10))
    event: Mapped[str] = mapped_column(String(20), nullable=False)
    execution_id: Mapped[str | None] = mapped_column(String(64))
    fill_qty: Mapped[int | None] = mapped_column(Integer)
    fill_price: Mapped[float | None] = mapped_column(Float)
    commission: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text)


class HeartbeatRecord(Base):
    """The live runtime's status, once a minute (what the dashboard's Live Scalps tab shows).

    ``ts`` is when it was written (naive UTC), ``bar_time`` the clock's last closed bar;
    ``state`` is ``ACTIVE`` / ``REDUCING`` / ``HALTED``; ``data_state`` the clock feed's
    Backtrader data status (``LIVE``, ``DELAYED``, ``CONNBROKEN``, ``DISCONNECTED``);
    ``underlying`` the traded symbols (comma-separated) and ``underlying_price`` the first
    one's last close. ``open_scalps_json`` is a JSON list, one object per open scalp:
    ``ticker, option_symbol, option_type, strike, expiry (YYYY-MM-DD), contracts,
    entry_premium, entry_time (ISO UTC), bid, ask, pnl, pnl_pct, delta_entry, theta_entry,
    iv_entry, delta_now, theta_now, iv_now, cutoff (ISO UTC: when the runtime flattens it)``.
    """

    __tablename__ = HEARTBEATS_TABLE
    __table_args__ = (Index("ix_live_heartbeats_run_id_ts", "run_id", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(RUN_ID_LENGTH), nullable=False)
    ts: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    bar_time: Mapped[datetime | None] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(10), nullable=False)
    data_state: Mapped[str | None] = mapped_column(String(20))
    underlying: Mapped[str | None] = mapped_column(String(40))
    underlying_price: Mapped[float | None] = mapped_column(Float)
    day_pnl: Mapped[float | None] = mapped_column(Float)
    open_scalps: Mapped[int | None] = mapped_column(Integer)
    open_scalps_json: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)


class LiveChainRecord(Base):
    """The chain snapshot a live run's strategy was served at one minute (what the Strike Picker replays).

    One row per ``(run_id, underlying, minute)``; ``minute`` is the decision bar's close
    (naive UTC), ``contracts`` the number of quotes. ``payload_json`` is one JSON object
    (``journal.live.chain_payload``): ``underlying_by_age`` (the underlying k minutes before
    ``minute`` at index k), ``iv_history``, ``half_day``, ``oi_known``, ``volume_known`` and
    parallel lists ``symbol, expiry (YYYY-MM-DD), strike, is_call, bid, ask, bid_size,
    ask_size, quote_age_min, quote_time (ISO UTC or null), open_interest, volume`` (null: unknown).
    """

    __tablename__ = LIVE_CHAINS_TABLE
    __table_args__ = (
        UniqueConstraint("run_id", "underlying", "minute", name="uq_live_chains_run_underlying_minute"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(RUN_ID_LENGTH), nullable=False)
    underlying: Mapped[str] = mapped_column(String(10), nullable=False)
    minute: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    underlying_price: Mapped[float] = mapped_column(Float, nullable=False)
    contracts: Mapped[int] = mapped_column(Integer, nullable=False)
    payload_json: Mapped[str] = mapped_column(Text, nullable=False)
