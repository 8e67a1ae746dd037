"""Indexes that keep the queue's filters at the cost of a page with a million tickets
(measured by ``benchmarks/ui_pages.py`` on SQLite and PostgreSQL).

- ``ix_tickets_status_strength_created``: a status's count filtered by evidence strength
  is an index range; the queue no longer hides the strength from the planner, which on
  PostgreSQL misjudged it and ran parallel sequential scans.
- ``ix_verification_reports_ticket_latest`` (ticket_id, id): whether a report is its
  ticket's latest, from the index alone.
- ``ix_verification_reports_recommendation``: a rare recommendation starts from its few
  reports instead of probing every ticket of a huge status.
- ``ix_verification_reports_flagged``: partial, only reports that raise a flag, so the
  flagged-only filter probes a small index per ticket.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

REPORT_FLAGGED_SQL = "json_array_length(report -> 'flags') > 0"
"""As in ``core.store.tables.verification`` when this migration was written."""


def upgrade() -> None:
    op.create_index(
        "ix_tickets_status_strength_created",
        "tickets",
        ["status", "evidence_strength", "created_at"],
    )
    op.create_index(
        "ix_verification_reports_ticket_latest", "verification_reports", ["ticket_id", "id"]
    )
    op.create_index(
        "ix_verification_reports_recommendation",
        "verification_reports",
        ["recommendation", "ticket_id", "id"],
    )
    op.create_index(
        "ix_verification_reports_flagged",
        "verification_reports",
        ["ticket_id", "id"],
        sqlite_where=sa.text(REPORT_FLAGGED_SQL),
        postgresql_where=sa.text(REPORT_FLAGGED_SQL),
    )


def downgrade() -> None:
    op.drop_index("ix_verification_reports_flagged", table_name="verification_reports")
    op.drop_index("ix_verification_reports_recommendation", table_name="verification_reports")
    op.drop_index("ix_verification_reports_ticket_latest", table_name="verification_reports")
    op.drop_index("ix_tickets_status_strength_created", table_name="tickets")
