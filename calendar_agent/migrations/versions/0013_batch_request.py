"""A batch keeps what it was asked for, in words (`batches.request`): the operator's message the agent answered
when it ran the batch, so a listing of recent batches says on whose request each was made.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as table:
        table.add_column(sa.Column("request", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches") as table:
        table.drop_column("request")
