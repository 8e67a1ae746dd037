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


def evidence_function(locked: str, counted: str) -> str:
    """The evidence trigger function: lock the statement's tickets (``locked`` is the
    condition that picks them, from ``changed``) in id order, then count each first (or
    last) kind per ticket (``counted``) into the summary."""
    upsert_kinds = upsert("stats_ticket_evidence_kinds", "day, kind", counted)
    return (
        "CREATE OR REPLACE FUNCTION stats_evidence_changed() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ "
        "DECLARE sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END; BEGIN "
        f"PERFORM 1 FROM tickets WHERE {locked} ORDER BY id FOR NO KEY UPDATE; "
        f"{upsert_kinds}; RETURN NULL; END $$"
    )


def evidence_kinds_by_index(dialect: Dialect, not_changed: str) -> str:
    """The count of first (or last) kinds per ticket, probing ``evidence`` and ``tickets``
    by index for each (ticket, kind) of the statement; ``not_changed`` is the condition
    on ``e.id`` that leaves out the statement's own rows. ``OFFSET 0`` keeps the NOT
    EXISTS a correlated index probe rather than an anti join over the whole table."""
    day = day_of(dialect, "t")
    return (
        "SELECT d.day, d.kind, sign * count(*) FROM ("
        f"SELECT (SELECT {day} FROM tickets AS t WHERE t.id = k.ticket_id) AS day, k.kind "
        "FROM (SELECT DISTINCT ticket_id, kind FROM changed) AS k "
        "WHERE NOT EXISTS (SELECT 1 FROM evidence AS e WHERE e.ticket_id = k.ticket_id "
        f"AND e.kind = k.kind AND {not_changed} OFFSET 0)"
        ") AS d WHERE d.day IS NOT NULL GROUP BY d.day, d.kind"
    )
