"""Many rows into one table in as few statements as the database allows.

Both helpers put RETURNING on the INSERT, which is what makes SQLAlchemy's
"insertmanyvalues" send multi-row ``VALUES`` statements on every backend: without it, an
executemany on psycopg is one statement per row, so PostgreSQL's statement-level triggers
(the Ops summaries, migration 0004) would fire once per row (2.5 ms against 1.9 ms per
new ticket, measured). The price on PostgreSQL: psycopg re-parses such long statements in
Python on every execution (it caches only short ones), most of what remains of writing a
batch there; an ``unnest(arrays)`` insert tried instead was slower still.

The ids come back matched through a column that differs on every row, because asking
SQLAlchemy to keep the order (``sort_by_parameter_order``) makes it fall back to one row
per statement on SQLite, whose RETURNING order is not guaranteed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in multi-row statements."""
    if rows:
        session.execute(insert(table).returning(table.c.id), rows).all()


def insert_rows_returning_ids(
    session: Session, table: Table, rows: list[dict[str, Any]], key: str
) -> list[int]:
    """``insert_rows``, and the new ids in the rows' order, matched back through ``key``,
    a column whose value differs on every row."""
    keys = [row[key] for row in rows]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{key} must differ on every row to match ids back")
    result = session.execute(insert(table).returning(table.c.id, table.c[key]), rows)
    ids = {value: id_ for id_, value in result}
    return [ids[value] for value in keys]
