"""``backoffice portal``: serve the account portal (Streamlit) for Hub users.

``start_portal`` (or ``portal_command`` + ``portal_env``) is public so ``backoffice demo`` can
start the same server as a child process. The database URL travels in the environment, not
in argv, so a PostgreSQL password never shows up in ``ps``."""

from __future__ import annotations

import subprocess

import typer

from backoffice.cli.common import DbOption
from backoffice.cli.streamlit_server import (
    DEFAULT_HOST,
    HostOption,
    PortOption,
    exec_streamlit,
    start_streamlit,
    streamlit_command,
    streamlit_env,
)
from backoffice.portal import APP_PATH

DEFAULT_PORT = 8502


def portal_command(port: int = DEFAULT_PORT, *, host: str = DEFAULT_HOST) -> list[str]:
    """The ``streamlit run`` argv for the portal."""
    return streamlit_command(APP_PATH, port, host=host)


portal_env = streamlit_env


def start_portal(
    *, port: int = DEFAULT_PORT, db_url: str | None = None, host: str = DEFAULT_HOST, **popen
) -> subprocess.Popen:
    """Start the portal as a child process (the caller stops it)."""
    return start_streamlit(APP_PATH, port=port, host=host, db_url=db_url, **popen)


def portal(
    port: PortOption = DEFAULT_PORT,
    host: HostOption = DEFAULT_HOST,
    db: DbOption = None,
) -> None:
    """Serve the account portal: sign-in, Settings → Authentication, and recovery help.

    The command becomes the Streamlit server (exec), so signals reach it directly."""
    typer.echo(f"Account portal on http://{host}:{port}/ (Ctrl+C stops it)")
    exec_streamlit(APP_PATH, port=port, host=host, db_url=db)
