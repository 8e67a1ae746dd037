"""Server-side staff sessions: a reload or a new tab resumes a sign-in through a cookie whose
token is stored here only as its SHA-256, bound to the staff member's user, with an idle and
an absolute end and a revocation time.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", core.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", core.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", core.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_sessions_user_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
