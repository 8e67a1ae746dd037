"""Queue and Ops pages at scale on PostgreSQL (placeholder, filled in by the page-benchmark work).

Revision ID: 0012
Revises: 0011
"""

from alembic import op  # noqa: F401

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
