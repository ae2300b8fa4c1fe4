"""Live trading: ``live_chains``, the chain snapshot a live run's strategy decided on, per minute.

One row per (run, underlying, minute) that the live chain served (the minutes the
strategy asked the venue for its chain: a signal's minute): the underlying price
and, in ``payload_json``, the quotes as parallel lists (contract, expiry, strike,
right, bid/ask and sizes, the venue's quote time, quote age, open interest and
volume when known) plus the underlying of the last minutes and the IV history the
pipeline was given. What the dashboard's Strike Picker replays for a live run. An
existing journal upgrades in place.

Revision ID: 140_live_chains
Revises: 139_live_runtime
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "140_live_chains"
down_revision: str | None = "139_live_runtime"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "live_chains",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("underlying", sa.String(10), nullable=False),
        sa.Column("minute", sa.DateTime(), nullable=False),
        sa.Column("underlying_price", sa.Float(), nullable=False),
        sa.Column("contracts", sa.Integer(), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.UniqueConstraint("run_id", "underlying", "minute", name="uq_live_chains_run_underlying_minute"),
    )


def downgrade() -> None:
    op.drop_table("live_chains")
