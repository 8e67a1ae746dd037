"""Engines, sessions and schema upgrades for SQLite (embedded default) and PostgreSQL.

Whatever the environment gets wrong on the way to a usable database (a URL that is not one,
a dialect or driver we do not have, a server that refuses, a damaged SQLite file, a folder we
cannot create) leaves here as one ``DatabaseUnavailable`` whose message is one line without
the password; ``database_fault`` translates the same faults when they happen later. Alembic
is imported only when the schema is behind (a command at head never loads it)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlmodel import Session

from core.settings import get_settings
from core.store.errors import DatabaseUnavailable
from core.store.revisions import (  # noqa: F401 (head_revisions: re-exported)
    AHEAD,
    BEHIND,
    CURRENT,
    MIGRATIONS_DIR,
    head_revisions,
    state_of,
)

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
URL_HINT = "use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
_engines: dict[str, Engine] = {}
_upgraded: set[str] = set()
_lock = threading.Lock()


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys and a busy timeout on every connection. Transactions begin
    IMMEDIATE so that two writers queue on the lock instead of failing mid-transaction with
    SQLITE_BUSY; a session opened with ``readonly=True`` begins DEFERRED."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _masked(url: str) -> str:
    """``url`` for a message: parsed and rendered without its password, or, when it does
    not parse, with anything between ``//`` and ``@`` after a colon replaced."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(//[^/:@]*):[^@/]*@", r"\1:***@", url)


def parse_database_url(url: str) -> URL:
    """``url`` parsed, or ``DatabaseUnavailable`` saying why it is not a database URL."""
    try:
        return make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(f"{_masked(url)!r} is not a database URL; {URL_HINT}.") from None


def make_engine(url: str) -> Engine:
    """A new engine for ``url``; SQLite files get their folder created."""
    parsed = parse_database_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                folder = Path(parsed.database).parent
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise DatabaseUnavailable(
                        f"Cannot create the database folder {folder}: {exc.strerror or exc}."
                    ) from None
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            _configure_sqlite(engine)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except ArgumentError:  # NoSuchModuleError: an unknown dialect or driver name
        raise DatabaseUnavailable(
            f"{_masked(url)}: unknown database {parsed.drivername!r}; {URL_HINT}."
        ) from None
    except ImportError as exc:
        raise DatabaseUnavailable(
            f"{_masked(url)}: the driver for {parsed.drivername!r} is not installed"
            f" ({exc}); {URL_HINT}."
        ) from None


def database_fault(exc: DBAPIError, url: str | URL | None = None) -> DatabaseUnavailable:
    """One line for a driver error: what failed and where, the driver's own first words,
    never the password. Statement text and parameters are left out (they may hold data)."""
    where = ""
    if url is not None:
        where = f" {_masked(str(url) if isinstance(url, str) else url.render_as_string())}"
    detail = " ".join(str(exc.orig).split()) or type(exc.orig).__name__
    lowered = detail.lower()
    if "file is not a database" in lowered or "database disk image is malformed" in lowered:
        return DatabaseUnavailable(
            f"The database{where} is not a SQLite database or is damaged "
            f"({detail}); restore it from a backup."
        )
    if "unable to open database file" in lowered:
        return DatabaseUnavailable(
            f"Cannot open the SQLite database{where} ({detail}): does its "
            "folder exist and may this user write there?"
        )
    if "readonly database" in lowered:
        return DatabaseUnavailable(
            f"The SQLite database{where} is read-only for this user ({detail})."
        )
    if exc.connection_invalidated or any(
        word in lowered for word in ("connect", "server", "host", "password", "authentication")
    ):
        return DatabaseUnavailable(f"Cannot reach the database{where}: {detail}")
    return DatabaseUnavailable(f"Database error{where}: {detail}")


def get_engine(url: str | None = None, *, upgrade: bool = True) -> Engine:
    """The process-wide engine for ``url`` (default from settings), schema upgraded once."""
    url = url or get_settings().resolved_database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        if upgrade and url not in _upgraded:
            try:
                upgrade_schema(engine)
            except DBAPIError as exc:
                raise database_fault(exc, url) from exc
            _upgraded.add(url)
    return engine


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _upgraded.clear()


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's configuration; ``%`` in the URL is doubled for configparser's interpolation
    (a password such as ``p%40ss`` would otherwise break it)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def schema_state(engine: Engine) -> str:
    """``current``, ``behind`` or ``ahead`` of this code's newest migration (see
    ``core.store.revisions.state_of``): one small query."""
    with engine.connect() as conn:
        if not conn.dialect.has_table(conn, "alembic_version"):
            return BEHIND
        return state_of(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def schema_is_current(engine: Engine) -> bool:
    return schema_state(engine) == CURRENT


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest migration; safe when several processes start at once.
    A database already at head costs one query and no Alembic import. A database migrated by
    a newer release is left as it is, so the previous release's processes keep (re)starting
    during a rolling deploy (migrations are additive for one release; see docs/deploy.md)."""
    state = schema_state(engine)
    if state == AHEAD:
        log.warning("the database schema is newer than this release; leaving it as it is")
    if state != BEHIND:
        return
    from alembic import command

    cfg = alembic_config(engine)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(727274)"))
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        finally:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(727274)"))
                conn.commit()


@contextmanager
def session_scope(engine: Engine | None = None, *, readonly: bool = False) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    engine = engine or get_engine()
    bind = engine.execution_options(sqlite_begin="DEFERRED") if readonly else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            if readonly:
                session.expunge_all()
                session.rollback()
            else:
                session.commit()
        except BaseException:
            session.rollback()
            raise
