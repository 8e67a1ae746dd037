"""A read-only look at the database through its own driver (sqlite3, psycopg), for a cron
command that usually finds nothing to do: it answers without importing SQLAlchemy, most of
such a command's start-up. It only answers about a database whose schema is at this code's
head; for anything else (another URL form, a missing file, a schema to upgrade, any error)
it gives None and the caller takes its one real path, which creates, upgrades or reports."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from core.store.revisions import CURRENT, state_of

SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg")


@dataclass
class Probe:
    """A driver connection to a database at head. SQL takes ``?`` placeholders; datetime
    parameters are bound as ``UTCDateTime`` columns store them."""

    connection: Any
    dialect: str

    def first(self, sql: str, *params: object) -> tuple[Any, ...] | None:
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        else:  # SQLite: the naive UTC text SQLAlchemy's DateTime writes
            params = tuple(
                p.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
                if isinstance(p, datetime)
                else p
                for p in params
            )
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchone()
        finally:
            cursor.close()


def _connect(url: str) -> tuple[Any, str, type[Exception]] | None:
    """A driver connection, its dialect and its driver's error class, for the URL forms
    whose meaning is plain: a SQLite file that exists, a PostgreSQL URL for psycopg."""
    scheme, sep, rest = url.partition("://")
    if scheme in SQLITE_SCHEMES and sep and rest.startswith("/") and "?" not in rest:
        path = Path(unquote(rest[1:]))
        if not path.is_file():
            return None  # the real path creates it
        import sqlite3

        uri = f"file:{quote(str(path.resolve()))}?mode=rw"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=5, isolation_level=None)
            conn.execute("PRAGMA query_only = ON")
        except sqlite3.Error:
            return None
        return conn, "sqlite", sqlite3.Error
    if scheme in POSTGRES_SCHEMES and sep:
        try:
            import psycopg
        except ImportError:
            return None
        try:
            conn = psycopg.connect(f"postgresql://{rest}", autocommit=True)
        except psycopg.Error:
            return None
        return conn, "postgresql", psycopg.Error
    return None  # in memory, SQLAlchemy options, another database


@contextlib.contextmanager
def probe(url: str) -> Iterator[Probe | None]:
    """A ``Probe`` on ``url`` when its schema is current, else None. A failure to connect,
    and a driver error inside the block, end it quietly: the caller's answer stays what it
    was before the block, which should mean "cannot tell"."""
    opened = _connect(url)
    if opened is None:
        yield None
        return
    conn, dialect, error = opened
    try:
        try:
            versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
        except error:
            versions = None
        yield Probe(conn, dialect) if state_of(versions) == CURRENT else None
    except error:
        return
    finally:
        conn.close()
