"""Less work for the database per ingested message (``benchmarks/ingest_throughput.py``).

- Three indexes that repeat the first column of a wider one go: ``ix_evidence_ticket_id``
  (``ix_evidence_ticket_kind`` starts with ``ticket_id``), ``ix_inbound_messages_message_id``
  (``uq_inbound_message_id_sha256``) and ``ix_verification_reports_ticket_id``
  (``ix_verification_reports_ticket_latest``). Every lookup they served is a prefix of
  the wider index; each cost an index entry for every row written.
- PostgreSQL's evidence trigger leaves out the statement's own rows through a hashed
  ``NOT IN`` instead of comparing every probed row with an array of all of them, and locks
  only the tickets this transaction did not write itself: a ticket whose row version is
  ours is one no other transaction can see (it is new) or already holds locked (we
  updated it), so nothing can race its first-seen count.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

from core.store.trigger_sql import evidence_function, evidence_kinds_by_index

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

REDUNDANT = (
    ("ix_evidence_ticket_id", "evidence", ["ticket_id"]),
    ("ix_inbound_messages_message_id", "inbound_messages", ["message_id"]),
    ("ix_verification_reports_ticket_id", "verification_reports", ["ticket_id"]),
)


def upgrade() -> None:
    for name, table, _columns in REDUNDANT:
        op.drop_index(name, table_name=table)
    dialect = op.get_bind().dialect
    if dialect.name == "postgresql":
        op.execute(
            evidence_function(
                "id = ANY (ARRAY(SELECT ticket_id FROM changed)) "
                "AND xmin <> pg_current_xact_id()::xid",
                evidence_kinds_by_index(dialect, "e.id NOT IN (SELECT id FROM changed)"),
            )
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect
    if dialect.name == "postgresql":
        op.execute(
            evidence_function(
                "id = ANY (ARRAY(SELECT ticket_id FROM changed))",
                evidence_kinds_by_index(dialect, "e.id <> ALL (ARRAY(SELECT id FROM changed))"),
            )
        )
    for name, table, columns in REDUNDANT:
        op.create_index(name, table, columns)
