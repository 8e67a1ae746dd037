"""Data lifecycle: no schema change. Retention (``core.operations.retention``) empties
``inbound_messages.raw`` in place for mail it no longer keeps and writes an audit event per
batch, so the existing columns suffice; this revision keeps its reserved place in the chain.

Revision ID: 0010
Revises: 0009
"""

from alembic import op  # noqa: F401

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
