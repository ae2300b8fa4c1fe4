"""The options_scalps journal: migration, writer, recorder, errors (SQLite; PostgreSQL when available)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import backtrader as bt
import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select

from analyzers.journal import JournalRecorder
from journal.errors import JournalError, mask_url
from journal.migrate import HEAD, VERSION_TABLE, current_revision, upgrade
from journal.models import INDEXES, TABLE_NAME, Base, OptionsScalpRecord
from journal.writer import JournalWriter, default_url
from options_scalper.records import ClosedScalp

PRD_COLUMNS = [
    "id", "signal_id", "ticker", "option_symbol", "option_type", "strike", "expiry", "dte", "direction",
    "contracts", "entry_premium", "exit_premium", "entry_delta", "entry_theta", "entry_iv", "status",
    "exit_reason", "pnl", "pnl_pct", "broker", "order_id", "entry_time", "exit_time", "metadata_json",
    "created_at",
]  # fmt: skip


def scalp(n: int = 0, pnl: float = 47.4) -> ClosedScalp:
    t0 = datetime(2024, 1, 10, 14, 40, tzinfo=UTC) + timedelta(minutes=10 * n)
    return ClosedScalp(
        signal_id=f"sig-{n}",
        ticker="TSLA",
        option_symbol="TSLA  240110C00250000",
        option_type="call",
        strike=250.0,
        expiry=date(2024, 1, 10),
        dte=0,
        direction="long_call",
        contracts=2,
        entry_premium=1.05,
        exit_premium=1.30,
        entry_delta=0.41,
        entry_theta=-0.35,
        entry_iv=0.52,
        exit_reason="take_profit",
        pnl=pnl,
        pnl_pct=pnl / 210.0,
        entry_time=t0,
        exit_time=t0 + timedelta(minutes=7),
        commission=2.6,
        conviction=82,
        order_id=f"ord-{n}",
        metadata={"trigger": "cloud_flip", "macro_aligned": True},
    )


@pytest.fixture
def url(tmp_path) -> str:
    return default_url(tmp_path / "out")


def test_default_url_points_into_out_dir(tmp_path) -> None:
    assert default_url(tmp_path) == f"sqlite:///{tmp_path}/journal.sqlite"


def test_migration_creates_table_and_three_indexes(url: str) -> None:
    upgrade(url)
    engine = create_engine(url)
    insp = inspect(engine)
    assert TABLE_NAME in insp.get_table_names()
    assert [c["name"] for c in insp.get_columns(TABLE_NAME)] == [*PRD_COLUMNS, "run_id"]
    indexes = {ix["name"]: tuple(ix["column_names"]) for ix in insp.get_indexes(TABLE_NAME)}
    assert indexes == {
        "ix_options_scalps_ticker_status": ("ticker", "status"),
        "ix_options_scalps_signal_id": ("signal_id",),
        "ix_options_scalps_expiry": ("expiry",),
        "ix_options_scalps_run_id": ("run_id",),
    }
    assert indexes == {**INDEXES, "ix_options_scalps_run_id": ("run_id",)}
    assert current_revision(engine) == HEAD == "140_live_chains"
    nullable = {c["name"]: c["nullable"] for c in insp.get_columns(TABLE_NAME)}
    assert not nullable["ticker"] and not nullable["entry_time"] and nullable["exit_time"]


def test_migration_matches_the_model(url: str) -> None:
    upgrade(url)
    with create_engine(url).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, "compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_upgrade_is_idempotent(url: str) -> None:
    upgrade(url)
    with JournalWriter(url) as w:
        w.write(scalp())
    upgrade(url)
    JournalWriter(url).close()
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"select count(*) from {TABLE_NAME}")).scalar_one() == 1
        assert conn.execute(sa.text(f"select count(*) from {VERSION_TABLE}")).scalar_one() == 1


def test_write_then_read_back(url: str) -> None:
    s = scalp()
    with JournalWriter(url) as w:
        row_id = w.write(s)
        with w.session() as session:
            rec = session.get(OptionsScalpRecord, row_id)
            assert rec is not None
            for col in ("signal_id", "ticker", "option_symbol", "option_type", "strike", "expiry", "dte",
                        "direction", "contracts", "entry_premium", "exit_premium", "entry_delta", "entry_theta",
                        "entry_iv", "exit_reason", "pnl", "pnl_pct", "status", "broker", "order_id"):  # fmt: skip
                assert getattr(rec, col) == getattr(s, col), col
            assert rec.entry_time == datetime(2024, 1, 10, 14, 40)  # naive UTC
            assert rec.exit_time == datetime(2024, 1, 10, 14, 47)
            assert rec.created_at is not None
            meta = json.loads(rec.metadata_json or "")
            assert meta == {
                "conviction": 82,
                "commission": 2.6,
                "trigger": "cloud_flip",
                "macro_aligned": True,
            }


def test_each_write_is_committed_before_close(url: str) -> None:
    w = JournalWriter(url)
    w.write(scalp(0))
    w.write(scalp(1, pnl=-60.0))
    other = create_engine(url)  # a second connection, while the writer is still open
    with other.connect() as conn:
        rows = conn.execute(select(OptionsScalpRecord.signal_id, OptionsScalpRecord.pnl)).all()
    assert sorted(rows) == [("sig-0", 47.4), ("sig-1", -60.0)]
    assert w.rows_written == 2
    w.close()


@pytest.mark.parametrize(
    ("bad_url", "expected"),
    [
        ("nonsense://", "nonsense://"),
        ("postgresql+nodriver://u:s3cret@localhost/db", "u:***@localhost/db"),
        ("not a url at all", "not a url at all"),
    ],
)
def test_bad_url_is_one_line_with_masked_password(bad_url: str, expected: str) -> None:
    with pytest.raises(JournalError) as err:
        JournalWriter(bad_url)
    message = str(err.value)
    assert "\n" not in message
    assert expected in message and "s3cret" not in message
    assert "cannot open" in message


def test_unreachable_server_names_url_and_what_to_do() -> None:
    pytest.importorskip("psycopg", reason="needs the psycopg driver")
    with pytest.raises(JournalError, match=r"u:\*\*\*@127\.0\.0\.1:1/db.*server is running") as err:
        JournalWriter("postgresql+psycopg://u:pw@127.0.0.1:1/db?connect_timeout=2")
    assert "pw@" not in str(err.value)


def test_unwritable_sqlite_path_says_what_to_do(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(JournalError, match="folder exists and is writable"):
        JournalWriter(f"sqlite:///{blocker}/journal.sqlite")


def test_mask_url_hides_password_only() -> None:
    assert mask_url("postgresql://me:pa55@db.example/j") == "postgresql://me:***@db.example/j"
    assert mask_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"


# ----------------------------------------------------------- the Backtrader recorder


class OneScalpPerTrade(bt.Strategy):
    params = (("dummy", 0),)

    def __init__(self) -> None:
        self.closed_scalps: list[ClosedScalp] = []
        self.rejections: Counter[str] = Counter()
        self.rows_seen_at_close: list[int] = []

    def next(self) -> None:
        bar = len(self)
        if bar in (2, 8):
            self.buy(size=1)
        elif bar in (5, 11):
            self.close()

    def notify_trade(self, trade: bt.Trade) -> None:
        if trade.isclosed:
            self.closed_scalps.append(scalp(len(self.closed_scalps), pnl=trade.pnlcomm))


def test_journal_recorder_writes_each_closed_scalp(url: str) -> None:
    prices = [1.0 + 0.01 * i for i in range(15)]
    stamps = pd.date_range("2024-01-10 14:31", periods=15, freq="min")
    frame = pd.DataFrame(
        {"open": prices, "high": prices, "low": prices, "close": prices, "volume": 1.0}, index=stamps
    )
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.addstrategy(OneScalpPerTrade)
    cerebro.addanalyzer(JournalRecorder, _name="journal", url=url)
    strat = cerebro.run()[0]
    analysis = strat.analyzers.journal.get_analysis()
    assert analysis["rows_written"] == 2 and analysis["url"] == url
    with create_engine(url).connect() as conn:
        pnls = conn.execute(select(OptionsScalpRecord.pnl).order_by(OptionsScalpRecord.id)).scalars().all()
    assert pnls == pytest.approx([s.pnl for s in strat.closed_scalps])


def test_journal_recorder_needs_a_url() -> None:
    cerebro = bt.Cerebro(stdstats=False)
    stamps = pd.date_range("2024-01-10 14:31", periods=3, freq="min")
    cerebro.adddata(bt.feeds.PandasData(dataname=pd.DataFrame({"close": [1.0, 1.0, 1.0]}, index=stamps)))
    cerebro.addstrategy(OneScalpPerTrade)
    cerebro.addanalyzer(JournalRecorder)
    with pytest.raises(JournalError, match="needs a database url"):
        cerebro.run()


def test_optstrategy_workers_share_one_sqlite_journal(url: str) -> None:
    prices = [1.0 + 0.01 * i for i in range(15)]
    stamps = pd.date_range("2024-01-10 14:31", periods=15, freq="min")
    frame = pd.DataFrame(
        {"open": prices, "high": prices, "low": prices, "close": prices, "volume": 1.0}, index=stamps
    )
    cerebro = bt.Cerebro(stdstats=False, maxcpus=3)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.optstrategy(OneScalpPerTrade, dummy=[1, 2, 3])
    cerebro.addanalyzer(JournalRecorder, _name="journal", url=url)
    results = [r[0] for r in cerebro.run()]  # three processes migrate and write the same file at once
    assert [r.analyzers.journal.get_analysis()["rows_written"] for r in results] == [2, 2, 2]
    with create_engine(url).connect() as conn:
        assert conn.execute(sa.text(f"select count(*) from {TABLE_NAME}")).scalar_one() == 6
