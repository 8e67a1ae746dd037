"""What the long-running commands share (``worker``, ``smtpd``, ``outbox send --watch``,
``ingest imap --watch``): the ``--log-format`` option and running services under the
supervisor (signals, heartbeats, back-off, a clean exit status)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from backoffice.cli.common import fail

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from core.workers.supervisor import Service

LogFormatOption = Annotated[
    str | None,
    typer.Option(
        "--log-format",
        help="Log lines as 'text' or 'json' (one object per line); default BACKOFFICE_LOG_FORMAT "
        "or text. Addresses and tokens are masked either way.",
        show_default=False,
    ),
]


def supervise(
    build: Callable[[Engine], Sequence[Service]],
    *,
    db: str | None,
    log_format: str | None,
    process_kind: str | None = None,
) -> None:
    """Configure logging, build the services on the database's engine and run them until
    SIGTERM/SIGINT; returns after a clean stop, else exits with status 1."""
    from core.errors import DomainError
    from core.settings import get_settings
    from core.store.engine import get_engine
    from core.workers.log_format import FORMATS, configure_logging
    from core.workers.supervisor import Supervisor

    settings = get_settings()
    fmt = log_format or settings.log_format
    if fmt not in FORMATS:
        raise fail(f"--log-format is one of {', '.join(FORMATS)}, not {fmt!r}.")
    configure_logging(fmt, level=settings.log_level)
    engine = get_engine(db)
    try:
        services = build(engine)
        supervisor = Supervisor(services, engine, settings=settings, process_kind=process_kind)
        code = supervisor.run()
    except DomainError as exc:
        raise fail(str(exc)) from None
    if code:
        raise typer.Exit(code)
