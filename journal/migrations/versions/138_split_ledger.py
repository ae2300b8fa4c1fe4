"""Issue 13: ``runs.split`` (the dataset split a run was asked for) and the ``split_ledger`` table.

``split_ledger`` holds one row per run (or sweep combination) and per seed-003
split its sessions touch (``dev``, ``validation``, ``oos``), with the strategy and
its params as sorted JSON, so out-of-sample touches can be counted and a second
parameter set refused. An existing journal upgrades in place (old runs keep a
NULL ``split``).

Revision ID: 138_split_ledger
Revises: 137_journal_runs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "138_split_ledger"
down_revision: str | None = "137_journal_runs"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("split", sa.String(20), nullable=True))
    op.create_table(
        "split_ledger",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(40)),
        sa.Column("strategy", sa.String(200), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("split", sa.String(20), nullable=False),
        sa.Column("requested_split", sa.String(20)),
        sa.Column("symbols", sa.Text()),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("touched_at", sa.DateTime(), nullable=False),
        sa.Column("trades", sa.Integer()),
        sa.Column("avg_pnl_pct", sa.Float()),
        sa.Column("total_pnl", sa.Float()),
    )
    op.create_index("ix_split_ledger_strategy_split", "split_ledger", ["strategy", "split"])


def downgrade() -> None:
    op.drop_index("ix_split_ledger_strategy_split", table_name="split_ledger")
    op.drop_table("split_ledger")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("split")
