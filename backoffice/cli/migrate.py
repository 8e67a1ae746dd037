"""``backoffice migrate``: bring the schema to the newest migration as its own deployment
step (every command also does it on start), or with ``--check`` only say whether it is."""

from __future__ import annotations

from typing import Annotated

import typer

from backoffice.cli.common import DbOption, console, fail


def migrate(
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 when migrations are pending.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Upgrade the schema (safe while other processes run: one takes an advisory lock on
    PostgreSQL, the rest wait); with --check, report whether it is current."""
    from core.store.engine import AHEAD, CURRENT, get_engine, head_revisions, schema_state

    head = ", ".join(sorted(head_revisions()))
    state = schema_state(get_engine(db, upgrade=False))
    if state == CURRENT:
        console.print(f"Schema is at the newest migration ({head}).", highlight=False)
        return
    if state == AHEAD:
        console.print(f"Schema is newer than this release ({head}); nothing to do.")
        return
    if check:
        raise fail(f"Migrations are pending: the code expects {head}.")
    get_engine(db)
    console.print(f"Schema upgraded to {head}.", highlight=False)
