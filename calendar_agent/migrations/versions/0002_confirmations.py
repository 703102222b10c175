"""Confirmations shared by every instance: redeemed token nonces, and the generated token secret.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from domain.storage.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "confirmation_uses",
        sa.Column("nonce", sa.String(32), primary_key=True),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("service_secrets")
    op.drop_table("confirmation_uses")
