"""Password-reset links (one live link per account, keyed hash only) and revocable SSH keys,
which SSH self-service refuses.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.store.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "password_reset_links",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("password_marker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", core.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", core.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("ssh_keys") as batch:
        batch.add_column(
            sa.Column("revoked_at", core.store.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("ssh_keys") as batch:
        batch.drop_column("revoked_at")
    op.drop_table("password_reset_links")
