"""The notices' durable outbox, customers' opt-out, and the record of daily tasks run.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from domain.storage.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as table:
        table.add_column(sa.Column("notices_opt_out", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("batch_id", sa.String(36)),
        sa.Column("wa_id", sa.String(20), nullable=False),
        sa.Column("purpose", sa.String(12), nullable=False),
        sa.Column("reservation_id", sa.Integer),
        sa.Column("slot_date", sa.Date),
        sa.Column("slot_time", sa.String(5)),
        sa.Column("template", sa.String(512)),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("dedupe_key", sa.String(128), unique=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("available_at", UTCDateTime, nullable=False),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("worker", sa.String(64)),
        sa.Column("external_id", sa.String(128), unique=True),
        sa.Column("message_id", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("error_code", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_notices_open", "notices", ["status", "available_at"])
    op.create_index("ix_notices_batch", "notices", ["batch_id"])
    op.create_index("ix_notices_customer", "notices", ["wa_id", "id"])
    op.create_table(
        "scheduler_runs",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("ran_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scheduler_runs")
    op.drop_table("notices")
    with op.batch_alter_table("customers") as table:
        table.drop_column("notices_opt_out")
