"""SQL text for the triggers that keep the Ops summaries exact (migrations 0003 and 0004):
the same day and histogram-bucket expressions the Ops queries use (``tables.stats``),
compiled for the migration's dialect, and the summary tables' additive upsert."""

from __future__ import annotations

from sqlalchemy import literal_column
from sqlalchemy.engine import Dialect

from core.store.tables.stats import duration_bucket, received_day

MEASURES = (("first_response", "first_response_at"), ("decision", "decided_at"))
"""Each duration histogram's name and the ticket column it measures from ``created_at``."""


def compiled(dialect: Dialect, expression) -> str:
    return str(expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def day_of(dialect: Dialect, row: str) -> str:
    """The UTC day ticket ``row`` (a row or table alias) was received."""
    return compiled(dialect, received_day(dialect.name, literal_column(f"{row}.created_at")))


def bucket_of(dialect: Dialect, row: str, column: str) -> str:
    """The histogram bucket of ``row.column - row.created_at``."""
    later, earlier = literal_column(f"{row}.{column}"), literal_column(f"{row}.created_at")
    return compiled(dialect, duration_bucket(dialect.name, later, earlier))


def upsert(table: str, keys: str, select: str) -> str:
    """Add the ``n`` of each row ``select`` yields to ``table``'s row of the same ``keys``."""
    return (
        f"INSERT INTO {table} ({keys}, n) {select} "
        f"ON CONFLICT ({keys}) DO UPDATE SET n = {table}.n + excluded.n"
    )


def evidence_kinds_first_seen(dialect: Dialect) -> str:
    """Migration 0003's PostgreSQL count of the (ticket, kind) pairs a statement's evidence
    rows (``changed``) add or remove, by join; 0004 replaces it and restores it on
    downgrade."""
    day = day_of(dialect, "t")
    return (
        f"SELECT {day}, k.kind, sign * count(*) "
        "FROM (SELECT DISTINCT ticket_id, kind FROM changed) AS k "
        "JOIN tickets AS t ON t.id = k.ticket_id WHERE NOT EXISTS (SELECT 1 FROM evidence "
        "AS e WHERE e.ticket_id = k.ticket_id AND e.kind = k.kind "
        "AND e.id NOT IN (SELECT id FROM changed)) "
        f"GROUP BY {day}, k.kind"
    )
