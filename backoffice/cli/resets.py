"""``backoffice resets``: approved 2FA resets waiting out their cooling-off."""

from __future__ import annotations

from typing import Annotated

import typer

from backoffice.cli.common import DbOption, console, domain_errors
from backoffice.cli.running import LogFormatOption, supervise

app = typer.Typer(help="Approved 2FA resets waiting out their cooling-off.", no_args_is_help=True)


@app.command("run")
@domain_errors
def run(
    watch: Annotated[
        float | None,
        typer.Option(
            help="Keep running, looking for due resets every SECONDS; SIGTERM or Ctrl-C "
            "finishes the reset in hand and exits 0.",
            min=0.1,
        ),
    ] = None,
    log_format: LogFormatOption = None,
    db: DbOption = None,
) -> None:
    """Apply every approved 2FA reset whose cooling-off has ended (a cancelled one never
    applies). Safe to run from several machines at once: each reset applies once."""
    if watch is not None:
        from core.workers.services import ResetsService

        supervise(
            lambda engine: [ResetsService(engine, interval=watch)], db=db, log_format=log_format
        )
        return
    from core.decisions.pending_resets import apply_due_resets
    from core.store.engine import get_engine

    engine = get_engine(db)
    total = 0
    while (applied := apply_due_resets(engine)) > 0:
        total += applied
    console.print(f"applied {total} 2FA reset(s)", highlight=False)
