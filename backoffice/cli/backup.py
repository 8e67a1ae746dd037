"""``backoffice backup`` and ``backoffice restore``: a consistent copy of the database while
the app runs, and loading one into a new database. The encryption key is not in it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backoffice.cli.common import DbOption, console, err_console

PgBinOption = Annotated[
    Path | None,
    typer.Option(
        "--pg-bin",
        help="Folder holding pg_dump/pg_restore (default: PATH, then the newest "
        "/usr/lib/postgresql/*/bin).",
    ),
]
KEY_REMINDER = (
    "The encryption key (BACKOFFICE_SECRET_KEY or data/secret.key) is not in the backup; "
    "keep a copy of it apart, or the TOTP secrets cannot be read after a restore."
)


def backup(
    destination: Annotated[Path, typer.Argument(help="The file to write (must not exist).")],
    pg_bin: PgBinOption = None,
    db: DbOption = None,
) -> None:
    """Write a consistent copy of the database: SQLite via VACUUM INTO (compacted), PostgreSQL
    via pg_dump --format=custom. Safe while the app runs."""
    from core.operations.backup import backup_database
    from core.settings import get_settings

    result = backup_database(
        db or get_settings().resolved_database_url(), destination, pg_bin=pg_bin
    )
    console.print(f"Backed up to {result.path} ({result.kind}, {result.size:,} bytes).")
    err_console.print(KEY_REMINDER, style="yellow", highlight=False)


def restore(
    source: Annotated[Path, typer.Argument(help="A file written by `backoffice backup`.")],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="SQLite: overwrite an existing file (stop every process first)."
        ),
    ] = False,
    pg_bin: PgBinOption = None,
    db: DbOption = None,
) -> None:
    """Load a backup into the database named by --db: a new SQLite file, or an empty
    PostgreSQL database (createdb it first). The schema is then upgraded if the backup is
    older than this version."""
    from core.operations.backup import restore_database
    from core.settings import get_settings
    from core.store.engine import get_engine

    target = db or get_settings().resolved_database_url()
    restore_database(source, target, replace=replace, pg_bin=pg_bin)
    get_engine(target)
    console.print(f"Restored {source}; the database is ready.")
    err_console.print(
        "Start the app with the same encryption key as the backed-up system.",
        style="yellow",
        highlight=False,
    )
