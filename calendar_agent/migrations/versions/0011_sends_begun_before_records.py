"""Notices left `sending` by a version that did not record when a send began may have been sent: they are
recorded as begun, so that the outbox settles them by their status or shows them unsure, never sends them again
by itself.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("UPDATE notices SET attempted_at = updated_at WHERE status = 'sending' "
                       "AND attempted_at IS NULL"))


def downgrade() -> None:
    pass  # the column stays, and 0010's downgrade drops it
