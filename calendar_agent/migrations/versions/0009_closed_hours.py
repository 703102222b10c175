"""Closures of some hours: a vacation may close only the slots from `start_time` to before `end_time`.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vacations") as table:
        table.add_column(sa.Column("start_time", sa.String(5), nullable=True))
        table.add_column(sa.Column("end_time", sa.String(5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vacations") as table:
        table.drop_column("end_time")
        table.drop_column("start_time")
