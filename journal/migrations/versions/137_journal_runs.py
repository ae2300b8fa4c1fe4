"""Issue 11: a ``runs`` table and ``options_scalps.run_id``, so repeated runs into one journal stay apart.

Rows journaled before this revision keep a NULL ``run_id`` (a legacy run).

Revision ID: 137_journal_runs
Revises: 136_options_scalper
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "137_journal_runs"
down_revision: str | None = "136_options_scalper"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("strategy", sa.String(200), nullable=False),
        sa.Column("params_json", sa.Text()),
        sa.Column("symbols", sa.Text()),
        sa.Column("start_date", sa.Date()),
        sa.Column("end_date", sa.Date()),
        sa.Column("data_path", sa.Text()),
        sa.Column("catalog_path", sa.Text()),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("scalps", sa.Integer()),
    )
    # batch mode: SQLite cannot add a foreign key in place (the table is copied); PostgreSQL alters it
    with op.batch_alter_table("options_scalps") as batch:
        batch.add_column(sa.Column("run_id", sa.String(40), nullable=True))
        batch.create_index("ix_options_scalps_run_id", ["run_id"])
        batch.create_foreign_key("fk_options_scalps_run_id_runs", "runs", ["run_id"], ["run_id"])


def downgrade() -> None:
    with op.batch_alter_table("options_scalps") as batch:
        batch.drop_constraint("fk_options_scalps_run_id_runs", type_="foreignkey")
        batch.drop_index("ix_options_scalps_run_id")
        batch.drop_column("run_id")
    op.drop_table("runs")
