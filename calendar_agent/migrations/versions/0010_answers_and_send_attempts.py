"""Every message answered once, every notice sent once: a reply records the newest message it answers
(`conversation_messages.answers_through`), and a notice records when a send of it began (`notices.attempted_at`),
so a send whose outcome a crash hid is known as unsure rather than sent again.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from domain.storage.models import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_messages") as table:
        table.add_column(sa.Column("answers_through", sa.Integer(), nullable=True))
    op.create_index("ix_messages_answers", "conversation_messages", ["wa_id", "answers_through"])
    with op.batch_alter_table("notices") as table:
        table.add_column(sa.Column("attempted_at", UTCDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notices") as table:
        table.drop_column("attempted_at")
    op.drop_index("ix_messages_answers", "conversation_messages")
    with op.batch_alter_table("conversation_messages") as table:
        table.drop_column("answers_through")
