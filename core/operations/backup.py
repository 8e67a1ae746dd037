"""Backups and restores of the whole database, consistent while the app runs.

SQLite: ``VACUUM INTO`` writes a compacted, transactionally consistent copy (readers and
writers carry on); a restore copies a backup into the target with SQLite's online backup
API after checking the backup's integrity. PostgreSQL: ``pg_dump --format=custom`` and
``pg_restore`` into an empty database, credentials passed in the environment (never argv).
Neither copies the encryption key (``BACKOFFICE_SECRET_KEY`` or the key file): TOTP secrets
in a backup decrypt only with the key that wrote them, so the key is backed up apart."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL

from core.errors import InvalidInput
from core.store.engine import parse_database_url
from core.store.errors import DatabaseUnavailable

PG_BIN_DIRS = Path("/usr/lib/postgresql")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    kind: str
    """``sqlite`` (a database file) or ``pg_dump`` (custom-format archive)."""


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise InvalidInput("An in-memory SQLite database has nothing to back up or restore.")
    return Path(url.database)


def find_pg_tool(name: str, pg_bin: Path | None = None) -> Path:
    """``pg_dump``/``pg_restore`` from ``pg_bin``, else PATH, else the newest
    ``/usr/lib/postgresql/*/bin`` (Debian keeps versions side by side there)."""
    if pg_bin is not None:
        candidates = [pg_bin / name]
    else:
        on_path = shutil.which(name)
        versions = (
            sorted(PG_BIN_DIRS.glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]), reverse=True)
            if PG_BIN_DIRS.is_dir()
            else []
        )
        candidates = [Path(on_path)] if on_path else []
        candidates += versions
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise InvalidInput(f"{name} is not installed (or give its folder with --pg-bin).")


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without the password, and an environment carrying it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        first = next((ln for ln in result.stderr.splitlines() if ln.strip()), "")
        raise DatabaseUnavailable(f"{what} failed (exit {result.returncode}): {first.strip()}")


def backup_database(
    url_text: str, destination: Path, *, pg_bin: Path | None = None
) -> BackupResult:
    """Write a consistent copy of the database at ``url_text`` to ``destination`` (which
    must not exist yet)."""
    url = parse_database_url(url_text)
    if destination.exists():
        raise InvalidInput(f"{destination} exists already; a backup never overwrites a file.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if not source.is_file():
            raise InvalidInput(f"There is no SQLite database at {source}.")
        try:
            with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as conn:
                conn.execute("VACUUM INTO ?", (str(destination),))
        except sqlite3.DatabaseError as exc:
            raise DatabaseUnavailable(f"Cannot back up {source}: {exc}.") from None
        return BackupResult(destination, destination.stat().st_size, "sqlite")
    if url.get_backend_name() != "postgresql":
        raise InvalidInput(f"Backups support SQLite and PostgreSQL, not {url.drivername!r}.")
    target, env = _libpq(url)
    argv = [str(find_pg_tool("pg_dump", pg_bin)), "--format=custom", "--file", str(destination)]
    _run([*argv, "--dbname", target], env, "pg_dump")
    return BackupResult(destination, destination.stat().st_size, "pg_dump")


def _check_sqlite_backup(source: Path) -> None:
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as conn:
            (verdict,) = conn.execute("PRAGMA quick_check").fetchone()
            has_version = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'"
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{source} is not a SQLite backup: {exc}.") from None
    if verdict != "ok":
        raise InvalidInput(f"{source} is damaged: {verdict}.")
    if not has_version:
        raise InvalidInput(f"{source} is a SQLite file but not a backup of this application.")


def restore_database(
    source: Path, url_text: str, *, replace: bool = False, pg_bin: Path | None = None
) -> None:
    """Load the backup ``source`` into the database at ``url_text``: a SQLite file that
    does not exist yet (or, with ``replace``, one no process is using), or an empty
    PostgreSQL database."""
    if not source.is_file():
        raise InvalidInput(f"There is no backup at {source}.")
    url = parse_database_url(url_text)
    if url.get_backend_name() == "sqlite":
        target = _sqlite_path(url)
        if target.exists() and not replace:
            raise InvalidInput(
                f"{target} exists; stop every process using it and pass --replace, or restore "
                "to a new file."
            )
        _check_sqlite_backup(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src,
            sqlite3.connect(target) as dst,
        ):
            src.backup(dst)
        return
    if url.get_backend_name() != "postgresql":
        raise InvalidInput(f"Restores support SQLite and PostgreSQL, not {url.drivername!r}.")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise InvalidInput(
            f"The database {url.database!r} is not empty ({len(tables)} tables); restore into "
            "a new one (createdb NAME) and point BACKOFFICE_DATABASE_URL at it."
        )
    target, env = _libpq(url)
    argv = [
        str(find_pg_tool("pg_restore", pg_bin)),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        "--dbname",
        target,
        str(source),
    ]
    _run(argv, env, "pg_restore")
