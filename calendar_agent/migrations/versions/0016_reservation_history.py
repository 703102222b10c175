"""Every change signed by its author: each reservation's changes made alone (`reservation_history`; a batch's are
read from its record), and room for a staff member's signature (`operator:<username>`, `agent:<username>`) in the
batches' and the waitlist entries' columns.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

from domain.storage.models import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SIGNED = (("batches", "actor"), ("waitlist_entries", "author"))


def upgrade() -> None:
    op.create_table(
        "reservation_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reservation_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
    )
    op.create_index("ix_reservation_history_reservation", "reservation_history", ["reservation_id", "at"])
    # SQLite keeps a VARCHAR's text whatever its length: only PostgreSQL needs the wider column (a longer VARCHAR
    # is a change of the catalogue there, no table rewrite).
    if op.get_bind().dialect.name != "sqlite":
        for table, column in SIGNED:
            op.alter_column(table, column, type_=sa.String(100), existing_type=sa.String(64), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for table, column in SIGNED:
            op.alter_column(table, column, type_=sa.String(64), existing_type=sa.String(100), existing_nullable=False)
    op.drop_table("reservation_history")
