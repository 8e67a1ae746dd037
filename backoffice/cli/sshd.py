"""``backoffice sshd``: recovery codes over SSH for users who hold a registered key and know
the password (``ssh -p 2222 recovery@HOST``)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from backoffice.cli.common import DbOption, console, domain_errors
from core.recovery.ssh_server import RecoveryServer
from core.store.engine import get_engine


@domain_errors
def sshd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 2222,
    db: DbOption = None,
) -> None:
    """Serve recovery over SSH until Ctrl-C or SIGTERM: a registered public key, then the
    account password; with 2FA on, a fresh set of recovery codes (the old ones die)."""
    # SIGTERM and Ctrl-C are caught before the server listens, so a supervisor that stops
    # it as soon as it is up still gets a clean exit 0.
    stopping = threading.Event()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: stopping.set())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    server = RecoveryServer(get_engine(db), host=host, port=port).start()
    bound_host, bound_port = server.address
    console.print(
        f"SSH recovery on {bound_host}:{bound_port} (host key {server.host_key_fingerprint}); "
        f"users run: ssh -p {bound_port} recovery@HOST  (Ctrl-C to stop)",
        highlight=False,
        soft_wrap=True,
    )
    try:
        stopping.wait()
    finally:
        server.stop()
