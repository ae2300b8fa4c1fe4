"""Live trading: ``runs.mode/broker/account``, the ``live_orders`` event log and ``live_heartbeats``.

``live_orders`` holds one row per order event of a live (or dry-run) session as it
happens (submitted, accepted, partial_fill, fill, canceled, expired, rejected), with
the broker's and our client order id, so a restart rebuilds its state and nothing
is booked twice (``execution_id`` is unique per run). ``live_heartbeats`` holds the
runtime's status once a minute (trading state, underlying price, the day's P&L and
the open scalps with their quotes and greeks now, as JSON): what the dashboard's
Live Scalps tab reads. ``runs.mode`` is ``backtest`` (NULL on older rows), ``paper``,
``live`` or ``dry_run``. An existing journal upgrades in place.

Revision ID: 139_live_runtime
Revises: 138_split_ledger
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "139_live_runtime"
down_revision: str | None = "138_split_ledger"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("mode", sa.String(10), nullable=True))
        batch.add_column(sa.Column("broker", sa.String(20), nullable=True))
        batch.add_column(sa.Column("account", sa.String(40), nullable=True))
    op.create_table(
        "live_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("broker", sa.String(20), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("venue_order_id", sa.String(64)),
        sa.Column("ticker", sa.String(10)),
        sa.Column("option_symbol", sa.String(30), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("limit_price", sa.Float()),
        sa.Column("role", sa.String(10)),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("execution_id", sa.String(64)),
        sa.Column("fill_qty", sa.Integer()),
        sa.Column("fill_price", sa.Float()),
        sa.Column("commission", sa.Float()),
        sa.Column("message", sa.Text()),
        sa.UniqueConstraint("run_id", "execution_id", name="uq_live_orders_run_execution"),
    )
    op.create_index("ix_live_orders_client_order_id", "live_orders", ["client_order_id"])
    op.create_index("ix_live_orders_run_id_ts", "live_orders", ["run_id", "ts"])
    op.create_table(
        "live_heartbeats",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("bar_time", sa.DateTime()),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("data_state", sa.String(20)),
        sa.Column("underlying", sa.String(40)),
        sa.Column("underlying_price", sa.Float()),
        sa.Column("day_pnl", sa.Float()),
        sa.Column("open_scalps", sa.Integer()),
        sa.Column("open_scalps_json", sa.Text()),
        sa.Column("message", sa.Text()),
    )
    op.create_index("ix_live_heartbeats_run_id_ts", "live_heartbeats", ["run_id", "ts"])


def downgrade() -> None:
    op.drop_index("ix_live_heartbeats_run_id_ts", table_name="live_heartbeats")
    op.drop_table("live_heartbeats")
    op.drop_index("ix_live_orders_run_id_ts", table_name="live_orders")
    op.drop_index("ix_live_orders_client_order_id", table_name="live_orders")
    op.drop_table("live_orders")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("account")
        batch.drop_column("broker")
        batch.drop_column("mode")
