"""Worker heartbeats: every long-running process (``backoffice worker``, ``outbox send
--watch``, ``smtpd``, ``ingest imap --watch``) upserts one row every few seconds, so health
and stats pages can tell running, degraded, stopped and silent workers apart. Outbox leases
need no new column: ``claimed_until`` becomes a short lease renewed while the sender lives.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", core.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", core.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id"),
    )
    op.create_index("ix_worker_heartbeats_kind", "worker_heartbeats", ["kind"])


def downgrade() -> None:
    op.drop_index("ix_worker_heartbeats_kind", table_name="worker_heartbeats")
    op.drop_table("worker_heartbeats")
