"""``backoffice sshd``: recovery codes over SSH for users who hold a registered key and know
the password (``ssh -p 2222 recovery@HOST``)."""

from __future__ import annotations

from typing import Annotated

import typer

from backoffice.cli.common import DbOption, require_free_port
from backoffice.cli.running import LogFormatOption, supervise


def sshd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 2222,
    log_format: LogFormatOption = None,
    db: DbOption = None,
) -> None:
    """Serve recovery over SSH until SIGTERM or Ctrl-C: a registered public key, then the
    account password; with 2FA on, a fresh set of recovery codes (the old ones die). One log
    line per connection, without secrets; on SIGTERM it closes every session and exits 0."""
    from core.recovery.ssh_server import SshRecoveryService

    require_free_port(host, port, "SSH recovery server")
    supervise(
        lambda engine: [SshRecoveryService(engine, host=host, port=port)],
        db=db,
        log_format=log_format,
    )
