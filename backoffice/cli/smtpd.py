"""``backoffice smtpd``: receive support mail over SMTP and turn it into tickets."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from backoffice.cli.common import DbOption, console, domain_errors, wait_until_interrupted
from core.inbound.sources import start_receiver
from core.store.engine import get_engine


@domain_errors
def smtpd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 2525,
    db: DbOption = None,
) -> None:
    """Run the SMTP receiver until interrupted: 250 only after the commit, 451 if storing
    failed (the sender retries)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    controller = start_receiver(get_engine(db), host=host, port=port)
    console.print(f"Receiving mail on {host}:{port} (Ctrl-C to stop)", highlight=False)
    wait_until_interrupted(controller.stop)
