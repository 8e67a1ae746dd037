"""Cooling-off of approved 2FA resets: a pending reset per approval, applied by a worker once
due or cancelled by the owner's single-use link (keyed hash only). Two-person approval needs
no schema: the first approval is an audit event.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.store.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("approved_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_at", core.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", core.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("cancel_token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("applied_at", core.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", core.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cancel_token_hash"),
    )
    op.create_index("ix_pending_resets_user_id", "pending_resets", ["user_id"])
    op.create_index("ix_pending_resets_ticket_id", "pending_resets", ["ticket_id"])
    op.create_index("ix_pending_resets_status_due", "pending_resets", ["status", "due_at"])


def downgrade() -> None:
    op.drop_table("pending_resets")
