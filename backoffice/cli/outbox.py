"""``backoffice outbox``: deliver queued email and see what is waiting or failed."""

from __future__ import annotations

from typing import Annotated

import typer

from backoffice.cli.common import DbOption, JsonOption, console, open_session, print_json
from backoffice.cli.running import LogFormatOption, supervise

app = typer.Typer(help="The outgoing mail queue.", no_args_is_help=True)


@app.command("send")
def send(
    watch: Annotated[
        float | None,
        typer.Option(
            help="Keep running, looking for due mail every SECONDS when the queue is empty; "
            "SIGTERM or Ctrl-C finishes the emails in flight, puts claimed ones back and "
            "exits 0.",
            min=0.1,
        ),
    ] = None,
    log_format: LogFormatOption = None,
    db: DbOption = None,
) -> None:
    """Deliver every email due now over SMTP (settings BACKOFFICE_SMTP_*); with --watch,
    keep delivering and ride out database and SMTP outages."""
    if watch is not None:
        from core.workers.services import OutboxService

        supervise(
            lambda engine: [OutboxService(engine, poll_seconds=watch)],
            db=db,
            log_format=log_format,
        )
        return
    from core.mail.outbox_due import nothing_due
    from core.settings import get_settings

    if nothing_due(db or get_settings().resolved_database_url()):
        _report(0, 0, 0)  # the usual cron run: the sender's imports are not needed
        return
    from core.mail.sender import OutboxSender
    from core.store.engine import get_engine

    result = OutboxSender(get_engine(db)).deliver_due()
    _report(result.sent, result.retrying, result.failed)


def _report(sent: int, retrying: int, failed: int) -> None:
    console.print(f"sent {sent}, retrying later {retrying}, failed {failed}", highlight=False)


@app.command("status")
def status(as_json: JsonOption = False, db: DbOption = None) -> None:
    """How many emails are queued, sending, sent and failed."""
    from core.stats.queues import outbox_queue

    with open_session(db, readonly=True) as session:
        queue = outbox_queue(session)
    if as_json:
        print_json({name: n for name, n in queue.counts.items() if n})
        return
    for name, count in queue.counts.items():
        console.print(f"{name}: {count}", highlight=False)
