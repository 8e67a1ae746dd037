"""Triggers that keep the Ops summaries (stats_ticket_days, stats_ticket_durations,
stats_ticket_evidence_kinds) exact in the same transaction as every ticket and evidence
change, and a backfill from the rows already there.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
from sqlalchemy.engine import Dialect

from core.store.trigger_sql import MEASURES, evidence_kinds_first_seen
from core.store.trigger_sql import bucket_of as _bucket
from core.store.trigger_sql import day_of as _day
from core.store.trigger_sql import upsert as _upsert

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _ticket_delta(dialect: Dialect, row: str, sign: int) -> list[str]:
    """Statements adding one ticket (``row`` is ``new`` or ``old``) to the summaries with
    ``sign`` +1 or -1."""
    day = _day(dialect, row)
    statements = [
        _upsert(
            "stats_ticket_days",
            "day, status, evidence_strength",
            f"SELECT {day}, {row}.status, {row}.evidence_strength, {sign} WHERE true",
        )
    ]
    for measure, column in MEASURES:
        statements.append(
            _upsert(
                "stats_ticket_durations",
                "measure, day, bucket",
                f"SELECT '{measure}', {day}, {_bucket(dialect, row, column)}, {sign} "
                f"WHERE {row}.{column} IS NOT NULL",
            )
        )
    return statements


def _kinds_delta(dialect: Dialect, row: str, sign: int) -> str:
    """Every kind of evidence the ticket carries, added to (or taken from) its day."""
    return _upsert(
        "stats_ticket_evidence_kinds",
        "day, kind",
        f"SELECT {_day(dialect, row)}, kind, {sign} FROM "
        f"(SELECT DISTINCT kind FROM evidence WHERE ticket_id = {row}.id) AS kinds WHERE true",
    )


def _evidence_delta(dialect: Dialect, row: str, sign: int) -> str:
    """A ticket counts once per kind, so only its first (or last remaining) row of a kind
    changes the count; evidence of a ticket already deleted changes nothing."""
    return _upsert(
        "stats_ticket_evidence_kinds",
        "day, kind",
        f"SELECT {_day(dialect, 't')}, {row}.kind, {sign} FROM tickets AS t "
        f"WHERE t.id = {row}.ticket_id AND NOT EXISTS (SELECT 1 FROM evidence AS e "
        f"WHERE e.ticket_id = {row}.ticket_id AND e.kind = {row}.kind AND e.id <> {row}.id)",
    )


CHANGED = (
    "old.created_at IS NOT new.created_at OR old.status IS NOT new.status "
    "OR old.evidence_strength IS NOT new.evidence_strength "
    "OR old.first_response_at IS NOT new.first_response_at "
    "OR old.decided_at IS NOT new.decided_at"
)


def _backfill(dialect: Dialect) -> list[str]:
    day = _day(dialect, "tickets")
    statements = [
        f"INSERT INTO stats_ticket_days (day, status, evidence_strength, n) "
        f"SELECT {day}, status, evidence_strength, count(*) FROM tickets "
        f"GROUP BY {day}, status, evidence_strength",
        f"INSERT INTO stats_ticket_evidence_kinds (day, kind, n) "
        f"SELECT {day}, evidence.kind, count(DISTINCT evidence.ticket_id) "
        f"FROM evidence JOIN tickets ON tickets.id = evidence.ticket_id "
        f"GROUP BY {day}, evidence.kind",
    ]
    for measure, column in MEASURES:
        bucket = _bucket(dialect, "tickets", column)
        statements.append(
            f"INSERT INTO stats_ticket_durations (measure, day, bucket, n) "
            f"SELECT '{measure}', {day}, {bucket}, count(*) FROM tickets "
            f"WHERE {column} IS NOT NULL GROUP BY {day}, {bucket}"
        )
    return statements


def _sqlite_triggers(dialect: Dialect) -> dict[str, str]:
    def body(statements: list[str]) -> str:
        return "BEGIN " + "; ".join(statements) + "; END"

    return {
        "stats_tickets_insert": "AFTER INSERT ON tickets "
        + body(_ticket_delta(dialect, "new", 1)),
        "stats_tickets_update": f"AFTER UPDATE ON tickets WHEN {CHANGED} "
        + body(_ticket_delta(dialect, "old", -1) + _ticket_delta(dialect, "new", 1)),
        "stats_tickets_moved": "AFTER UPDATE OF created_at ON tickets WHEN "
        f"{_day(dialect, 'old')} IS NOT {_day(dialect, 'new')} "
        + body([_kinds_delta(dialect, "old", -1), _kinds_delta(dialect, "new", 1)]),
        "stats_tickets_delete": "AFTER DELETE ON tickets "
        + body([*_ticket_delta(dialect, "old", -1), _kinds_delta(dialect, "old", -1)]),
        "stats_evidence_insert": "AFTER INSERT ON evidence "
        + body([_evidence_delta(dialect, "new", 1)]),
        "stats_evidence_delete": "AFTER DELETE ON evidence "
        + body([_evidence_delta(dialect, "old", -1)]),
    }


def _postgresql_functions(dialect: Dialect) -> list[str]:
    """One trigger function per table. Evidence is counted per statement (its transition
    table), since row triggers fire after the whole statement and would each see the
    statement's other rows of the same kind; locking the tickets first makes two
    transactions adding the same kind to one ticket count it once."""

    def block(statements: list[str]) -> str:
        return " ".join(f"{s};" for s in statements)

    changed = CHANGED.replace(" IS NOT ", " IS DISTINCT FROM ")
    moved = f"{_day(dialect, 'old')} IS DISTINCT FROM {_day(dialect, 'new')}"
    tickets = (
        "CREATE FUNCTION stats_tickets_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'UPDATE' AND NOT (" + changed + ") THEN RETURN NULL; END IF; "
        "IF TG_OP IN ('UPDATE', 'DELETE') THEN "
        + block(_ticket_delta(dialect, "old", -1))
        + " END IF; IF TG_OP IN ('UPDATE', 'INSERT') THEN "
        + block(_ticket_delta(dialect, "new", 1))
        + " END IF; IF TG_OP = 'DELETE' THEN "
        + block([_kinds_delta(dialect, "old", -1)])
        + f" ELSIF TG_OP = 'UPDATE' AND {moved} THEN "
        + block([_kinds_delta(dialect, "old", -1), _kinds_delta(dialect, "new", 1)])
        + " END IF; RETURN NULL; END $$"
    )
    evidence = (
        "CREATE FUNCTION stats_evidence_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END; BEGIN "
        "PERFORM 1 FROM tickets WHERE id IN (SELECT ticket_id FROM changed) "
        "ORDER BY id FOR NO KEY UPDATE; "
        + _upsert(
            "stats_ticket_evidence_kinds", "day, kind", evidence_kinds_first_seen(dialect)
        )
        + "; RETURN NULL; END $$"
    )
    return [
        tickets,
        evidence,
        "CREATE TRIGGER stats_tickets AFTER INSERT OR UPDATE OR DELETE ON tickets "
        "FOR EACH ROW EXECUTE FUNCTION stats_tickets_changed()",
        "CREATE TRIGGER stats_evidence_insert AFTER INSERT ON evidence "
        "REFERENCING NEW TABLE AS changed "
        "FOR EACH STATEMENT EXECUTE FUNCTION stats_evidence_changed()",
        "CREATE TRIGGER stats_evidence_delete AFTER DELETE ON evidence "
        "REFERENCING OLD TABLE AS changed "
        "FOR EACH STATEMENT EXECUTE FUNCTION stats_evidence_changed()",
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect
    for table in ("stats_ticket_days", "stats_ticket_durations", "stats_ticket_evidence_kinds"):
        op.execute(f"DELETE FROM {table}")
    for statement in _backfill(dialect):
        op.execute(statement)
    if dialect.name == "sqlite":
        for name, definition in _sqlite_triggers(dialect).items():
            op.execute(f"CREATE TRIGGER {name} {definition}")
    else:
        for statement in _postgresql_functions(dialect):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect
    if dialect.name == "sqlite":
        for name in _sqlite_triggers(dialect):
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER stats_evidence_insert ON evidence")
        op.execute("DROP TRIGGER stats_evidence_delete ON evidence")
        op.execute("DROP TRIGGER stats_tickets ON tickets")
        op.execute("DROP FUNCTION stats_evidence_changed()")
        op.execute("DROP FUNCTION stats_tickets_changed()")
