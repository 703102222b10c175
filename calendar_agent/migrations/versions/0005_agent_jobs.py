"""The durable conversation work queue: one row per agent turn asked for, claimed by any instance.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from domain.storage.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("wa_id", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("message_id", sa.Integer),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("available_at", UTCDateTime, nullable=False),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("worker", sa.String(64)),
        sa.Column("error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
    )
    op.create_index("ix_agent_jobs_open", "agent_jobs", ["status", "wa_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_agent_jobs_open", "agent_jobs")
    op.drop_table("agent_jobs")
