"""Closing the loop with customers: a reservation's attendance (booked, confirmed, arrived; a no-show is a status of
its own so that capacity never counts it; a cancellation inside the late window is marked late), a notice's
reply buttons, and the waitlist (its entries, the places freed for it, and the offers of each wave).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from domain.storage.models import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reservations") as table:
        table.add_column(sa.Column("attendance", sa.String(10), nullable=False, server_default="booked"))
        table.add_column(sa.Column("attendance_at", UTCDateTime, nullable=True))
        table.add_column(sa.Column("late_cancel", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("notices") as table:
        table.add_column(sa.Column("buttons", sa.JSON, nullable=True))
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("wa_id", sa.String(20), sa.ForeignKey("customers.wa_id"), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("times", sa.JSON, nullable=True),
        sa.Column("type", sa.Integer, nullable=True),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reservation_id", sa.Integer, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_waitlist_entries_open", "waitlist_entries", ["status", "start_date", "end_date"])
    op.create_index("ix_waitlist_entries_customer", "waitlist_entries", ["wa_id", "status"])
    op.create_table(
        "waitlist_places",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("slot_date", sa.Date, nullable=False),
        sa.Column("slot_time", sa.String(5), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("wave", sa.Integer, nullable=False),
        sa.Column("hold_until", UTCDateTime, nullable=True),
        sa.Column("offer_id", sa.Integer, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_waitlist_places_open", "waitlist_places", ["status", "hold_until"])
    op.create_index("ix_waitlist_places_slot", "waitlist_places", ["slot_date", "slot_time", "status"])
    op.create_table(
        "waitlist_offers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("place_id", sa.Integer, sa.ForeignKey("waitlist_places.id"), nullable=False),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("waitlist_entries.id"), nullable=False),
        sa.Column("wa_id", sa.String(20), nullable=False),
        sa.Column("wave", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("offered_at", UTCDateTime, nullable=False),
        sa.Column("answered_at", UTCDateTime, nullable=True),
        sa.Column("notice_id", sa.Integer, nullable=True),
    )
    op.create_index("ix_waitlist_offers_place", "waitlist_offers", ["place_id", "status"])
    op.create_index("ix_waitlist_offers_entry", "waitlist_offers", ["entry_id"])


def downgrade() -> None:
    op.drop_table("waitlist_offers")
    op.drop_table("waitlist_places")
    op.drop_table("waitlist_entries")
    with op.batch_alter_table("notices") as table:
        table.drop_column("buttons")
    with op.batch_alter_table("reservations") as table:
        table.drop_column("late_cancel")
        table.drop_column("attendance_at")
        table.drop_column("attendance")
