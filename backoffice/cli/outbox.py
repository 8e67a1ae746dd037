"""``backoffice outbox``: deliver queued email and see what is waiting or failed."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from sqlalchemy import func, select

from backoffice.cli.common import DbOption, JsonOption, console, open_session, print_json
from core.mail.sender import OutboxSender
from core.store.engine import get_engine
from core.store.tables import OutboxEmail

app = typer.Typer(help="The outgoing mail queue.", no_args_is_help=True)


@app.command("send")
def send(
    watch: Annotated[
        float | None,
        typer.Option(help="Keep running, looking for due mail every SECONDS.", min=0.1),
    ] = None,
    db: DbOption = None,
) -> None:
    """Deliver every email due now over SMTP (settings BACKOFFICE_SMTP_*)."""
    sender = OutboxSender(get_engine(db))
    try:
        while True:
            result = sender.deliver_due()
            if result.attempted or watch is None:
                console.print(
                    f"sent {result.sent}, retrying later {result.retrying}, failed {result.failed}",
                    highlight=False,
                )
            if watch is None:
                return
            time.sleep(watch)
    except KeyboardInterrupt:
        pass


@app.command("status")
def status(as_json: JsonOption = False, db: DbOption = None) -> None:
    """How many emails are queued, sending, sent and failed."""
    with open_session(db, readonly=True) as session:
        counts = dict(
            session.execute(
                select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)
            ).all()
        )
    if as_json:
        print_json(counts)
        return
    for name in ("queued", "sending", "sent", "failed"):
        console.print(f"{name}: {counts.get(name, 0)}", highlight=False)
