"""A person confirms by effect, not by call: every applied batch records what it did that a person may have to
confirm (`batches.effects`), in which turn (`batches.turn`), and whether a person confirmed it (`batches.asked`),
so the limits count what an agent applied without asking across its calls.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as table:
        table.add_column(sa.Column("turn", sa.String(64), nullable=True))
        table.add_column(sa.Column("effects", sa.JSON(), nullable=True))
        table.add_column(sa.Column("asked", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_batches_effects", "batches", ["actor", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_batches_effects", "batches")
    with op.batch_alter_table("batches") as table:
        table.drop_column("asked")
        table.drop_column("effects")
        table.drop_column("turn")
