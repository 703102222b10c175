"""The clinic calendar: customers, reservations, conversation messages, vacations, batches.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from domain.storage.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("wa_id", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("is_blocked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("is_favorite", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("wa_id", sa.String(20), sa.ForeignKey("customers.wa_id"), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("time_slot", sa.String(5), nullable=False),
        sa.Column("type", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.String(10), nullable=False, server_default="active"),
        sa.Column("cancelled_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_reservations_slot", "reservations", ["date", "time_slot", "status"])
    op.create_index("ix_reservations_customer", "reservations", ["wa_id", "status"])
    op.create_table(
        "conversation_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("wa_id", sa.String(20), nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("timestamp", UTCDateTime, nullable=False),
        sa.Column("delivery_status", sa.String(12)),
        sa.Column("external_id", sa.String(128), unique=True),
        sa.Column("meta", sa.JSON),
    )
    op.create_index("ix_messages_conversation", "conversation_messages", ["wa_id", "timestamp"])
    op.create_table(
        "vacations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("arguments", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("idempotency_key", sa.String(128), unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("undone_at", UTCDateTime),
    )


def downgrade() -> None:
    for table in ("batches", "vacations", "conversation_messages", "reservations", "customers"):
        op.drop_table(table)
