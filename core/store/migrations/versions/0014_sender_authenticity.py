"""Sender authenticity per ticket message: the SPF/DKIM/DMARC results our trusted receiver
stamped on an inbound message (``core.inbound.authenticity``); NULL for our own mail and
for messages stored before this revision.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ticket_messages", sa.Column("sender_auth", sa.JSON(none_as_null=True)))


def downgrade() -> None:
    # In place on both databases: evidence references ticket_messages, so SQLite's batch
    # mode (copy the table, drop the old one) would trip that foreign key.
    op.drop_column("ticket_messages", "sender_auth")
