"""PRD-136: create the options_scalps table and its indexes.

Revision ID: 136_options_scalper
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "136_options_scalper"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "options_scalps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("signal_id", sa.String(50)),
        sa.Column("ticker", sa.String(10), nullable=False),
        sa.Column("option_symbol", sa.String(30), nullable=False),
        sa.Column("option_type", sa.String(4), nullable=False),
        sa.Column("strike", sa.Float(), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=False),
        sa.Column("dte", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("contracts", sa.Integer(), nullable=False),
        sa.Column("entry_premium", sa.Float(), nullable=False),
        sa.Column("exit_premium", sa.Float()),
        sa.Column("entry_delta", sa.Float()),
        sa.Column("entry_theta", sa.Float()),
        sa.Column("entry_iv", sa.Float()),
        sa.Column("status", sa.String(20)),
        sa.Column("exit_reason", sa.String(50)),
        sa.Column("pnl", sa.Float()),
        sa.Column("pnl_pct", sa.Float()),
        sa.Column("broker", sa.String(20)),
        sa.Column("order_id", sa.String(100)),
        sa.Column("entry_time", sa.DateTime(), nullable=False),
        sa.Column("exit_time", sa.DateTime()),
        sa.Column("metadata_json", sa.Text()),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now()),
    )
    op.create_index("ix_options_scalps_ticker_status", "options_scalps", ["ticker", "status"])
    op.create_index("ix_options_scalps_signal_id", "options_scalps", ["signal_id"])
    op.create_index("ix_options_scalps_expiry", "options_scalps", ["expiry"])


def downgrade() -> None:
    op.drop_index("ix_options_scalps_expiry", table_name="options_scalps")
    op.drop_index("ix_options_scalps_signal_id", table_name="options_scalps")
    op.drop_index("ix_options_scalps_ticker_status", table_name="options_scalps")
    op.drop_table("options_scalps")
