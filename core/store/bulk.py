"""Many rows into one table in as few statements, and as little statement text, as the
database allows.

SQLite: one prepared INSERT that sqlite3 runs for every row (``executemany``, in C: a
quarter of the writer's time went to SQLAlchemy building multi-row statements); new ids
follow the table's largest, which no other writer can take meanwhile (writers begin
IMMEDIATE, see ``engine``).

PostgreSQL: ``COPY ... FROM STDIN``, with ids reserved from the table's sequence
in one query when the caller needs them. Multi-row INSERTs cost most of a batch there:
psycopg re-tokenises every statement over 4 KB or 50 parameters in Python on each
execution (~25% of an ingest), and plain executemany fires the statement-level Ops
triggers once per row. COPY fires them once per COPY, with its rows as the transition
table. ``insert_ignoring_conflicts`` (for ``ON CONFLICT``, which COPY cannot do) sends one
array per column through ``unnest``: a short statement psycopg caches, its arrays in
binary (psycopg writes a text array element by element in Python, quoting each one, and
a raw message's bytes as hex; the server then parses it all back)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import closing as _closing
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, ColumnElement, String, Table, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import NullType
from sqlmodel import Session

from core.store.types import UTCDateTime


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in the caller's transaction."""
    if not rows:
        return
    columns = list(rows[0])
    values = [list(row) for row in map(_picker(columns), rows)]
    if _is_postgresql(session):
        _copy(session, table, columns, values)
    else:
        _executemany(session, table, columns, values)


def insert_rows_returning_ids(
    session: Session, table: Table, rows: list[dict[str, Any]]
) -> list[int]:
    """``insert_rows``, and the new ids in the rows' order."""
    if not rows:
        return []
    columns = list(rows[0])
    if _is_postgresql(session):
        ids = _reserve_ids(session, table, len(rows))
    else:
        first = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1
        ids = list(range(first, first + len(rows)))
    values = [[i, *row] for i, row in zip(ids, map(_picker(columns), rows), strict=True)]
    if _is_postgresql(session):
        _copy(session, table, ["id", *columns], values)
        return ids
    _executemany(session, table, ["id", *columns], values)
    return ids


def _picker(columns: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row dict's values in ``columns`` order (``itemgetter``: one C call a row)."""
    if len(columns) == 1:
        return lambda row: (row[columns[0]],)
    return itemgetter(*columns)


def insert_ignoring_conflicts(
    session: Session, table: Table, rows: list[dict[str, Any]], returning: list[str]
) -> list[tuple]:
    """``INSERT ... ON CONFLICT DO NOTHING`` (any unique constraint) of ``rows``; the
    ``returning`` columns of the rows inserted."""
    if not rows:
        return []
    columns = list(rows[0])
    if not _is_postgresql(session):
        stmt = (
            sqlite.insert(table)
            .on_conflict_do_nothing()
            .returning(*(table.c[c] for c in returning))
        )
        return [tuple(r) for r in session.execute(stmt, rows)]
    dialect = postgresql.dialect()
    arrays = ", ".join(f"%b::{table.c[c].type.compile(dialect)}[]" for c in columns)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT DO NOTHING RETURNING {', '.join(returning)}"
    )
    adapt = _adapters(table, columns)
    params = [[adapt[c](r[c]) for r in rows] for c in columns]
    with _cursor(session) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def update_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Set each row's columns on the row of its ``id`` (dicts with the same keys, ``id``
    among them): one ``UPDATE ... FROM unnest(...)`` on PostgreSQL, one prepared UPDATE
    that sqlite3 runs for every row on SQLite."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != "id"]
    if not _is_postgresql(session):
        names = [*columns, "id"]
        values = [list(row) for row in map(_picker(names), rows)]
        _bind(session, table, names, values)
        sets = ", ".join(f"{c} = ?" for c in columns)
        with _closing(_cursor(session)) as cur:
            cur.executemany(f"UPDATE {table.name} SET {sets} WHERE id = ?", values)
        return
    dialect = postgresql.dialect()
    names = ["id", *columns]
    arrays = ", ".join(f"%b::{table.c[c].type.compile(dialect)}[]" for c in names)
    sets = ", ".join(f"{c} = v.{c}" for c in columns)
    sql = (
        f"UPDATE {table.name} AS t SET {sets} FROM unnest({arrays}) AS v({', '.join(names)}) "
        "WHERE t.id = v.id"
    )
    adapt = _adapters(table, names)
    with _cursor(session) as cur:
        cur.execute(sql, [[adapt[c](r[c]) for r in rows] for c in names])


def one_of(
    session: Session, column: ColumnElement[Any], values: Iterable[Any]
) -> ColumnElement[bool]:
    """``column IN values``, as ``= ANY(array)`` on PostgreSQL: one statement text however many
    values there are, which psycopg tokenises once and keeps (an IN list of a batch's values
    was a new statement, split in Python, for every batch)."""
    values = list(values)
    if _is_postgresql(session):
        item = column.type if not isinstance(column.type, NullType) else String()
        return column == any_(bindparam(None, values, type_=ARRAY(item)))
    return column.in_(values)


def _executemany(session: Session, table: Table, columns: list[str], rows: list[list[Any]]) -> None:
    """SQLite: one prepared INSERT run for every row by sqlite3 itself (``_bind``)."""
    _bind(session, table, columns, rows)
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
    with _closing(_cursor(session)) as cur:
        cur.executemany(sql, rows)


def _bind(session: Session, table: Table, columns: list[str], rows: list[list[Any]]) -> None:
    """Bind ``rows``' values the way their columns' types bind them (JSON dumped, UTC
    datetimes formatted), in place (lists the caller no longer needs), only in the columns
    whose type binds."""
    dialect = session.get_bind().dialect
    for at, column in enumerate(columns):
        bind = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
        if bind is not None and isinstance(table.c[column].type, JSON):
            bind = _empty_kept(bind)
        if bind is not None:
            for row in rows:
                row[at] = bind(row[at])


def _cursor(session: Session):
    """A cursor on the session's connection, in its transaction."""
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]


def _adapters(table: Table, columns: list[str]) -> dict[str, Any]:
    """How each column's Python value goes into a binary array parameter: JSON as its text
    (``json.dumps``, as psycopg would dump it), the rest as it is."""
    return {c: _json_text if isinstance(table.c[c].type, JSON) else (lambda v: v) for c in columns}


def _empty_kept(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process`` for a JSON column's values, with an empty list's and dict's result made
    once: most rows' attachments and audit details are empty."""
    empty = {list: process([]), dict: process({})}

    def bind(value: Any) -> Any:
        if type(value) in empty and not value:
            return empty[type(value)]
        return process(value)

    return bind


_json_text = _empty_kept(lambda v: None if v is None else json.dumps(v))
"""A JSON value as psycopg would dump it (``json.dumps``); None stays NULL."""


def _as_text(table: Table, column: str) -> Any:
    """For a JSON or datetime column, a function giving a value's text as psycopg would dump
    it (``json.dumps``; ``str`` of an aware datetime, its ISO form), None for the rest.
    psycopg dumps those two kinds in Python, value by value; a batch's rows share a few
    instants (``created_at``...), so each instant is formatted once per statement. A
    timestamp with time zone means the same instant whatever offset its text has, so equal
    datetimes may share a text (a naive one is sent as psycopg sends it, too)."""
    kind = table.c[column].type
    if isinstance(kind, JSON):
        return _json_text
    if isinstance(kind, UTCDateTime):
        texts: dict[datetime, str] = {}

        def text(v: datetime | None) -> str | None:
            if v is None:
                return None
            found = texts.get(v)
            if found is None:
                found = texts[v] = str(v)
            return found

        return text
    return None


def _copy(session: Session, table: Table, columns: list[str], rows: list[list[Any]]) -> None:
    """``rows`` (lists the caller no longer needs: JSON and datetime values are replaced by
    their text in place) into ``table`` with one text ``COPY``."""
    for at, as_text in [(i, f) for i, c in enumerate(columns) if (f := _as_text(table, c))]:
        for row in rows:
            row[at] = as_text(row[at])
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with _cursor(session) as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _reserve_ids(session: Session, table: Table, n: int) -> list[int]:
    """``n`` new ids from ``table``'s id sequence (one query)."""
    with _cursor(session) as cur:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            (table.name, n),
        )
        return [r[0] for r in cur.fetchall()]
