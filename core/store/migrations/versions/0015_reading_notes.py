"""Reading notes per ticket message: where a bound made the reading of an inbound message
simpler than the full one (HTML read by a plain tag strip, nested messages not opened),
kept so staff know the text they see may differ from what the sender's client showed.
NULL when the reading was complete, for our own mail and for older messages.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ticket_messages", sa.Column("reading_notes", sa.JSON(none_as_null=True)))


def downgrade() -> None:
    # In place, as 0014: evidence references ticket_messages, so SQLite's batch mode
    # (copy the table, drop the old one) would trip that foreign key.
    op.drop_column("ticket_messages", "reading_notes")
