"""Confirmations waiting for an operator's answer, shared by every instance.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from domain.storage.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_confirmations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("wa_id", sa.String(20), nullable=False),
        sa.Column("message_id", sa.Integer, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("asked_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("answered_at", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("pending_confirmations")
