"""``backoffice smtpd``: receive support mail over SMTP and turn it into tickets."""

from __future__ import annotations

from typing import Annotated

import typer

from backoffice.cli.common import DbOption, require_free_port
from backoffice.cli.running import LogFormatOption, supervise


def smtpd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 2525,
    log_format: LogFormatOption = None,
    db: DbOption = None,
) -> None:
    """Run the SMTP receiver until SIGTERM or Ctrl-C: 250 only after the commit, 451 if
    storing failed (the sender retries, also while the database is away). On SIGTERM it
    stops listening, lets messages being stored finish, and exits 0."""
    from core.workers.services import SmtpReceiverService

    require_free_port(host, port, "SMTP receiver")
    supervise(
        lambda engine: [SmtpReceiverService(engine, host=host, port=port)],
        db=db,
        log_format=log_format,
    )
