"""``backoffice portal``: serve the account portal (Streamlit) for Hub users.

``start_portal`` (or ``portal_command`` + ``portal_env``) is public so ``backoffice demo`` can
start the same server as a child process. The database URL travels in the environment, not
in argv, so a PostgreSQL password never shows up in ``ps``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Annotated

import typer

from backoffice.cli.common import DbOption
from backoffice.portal import APP_PATH

DEFAULT_PORT = 8502
DEFAULT_HOST = "127.0.0.1"
PACKAGE_ROOT = APP_PATH.parents[2]


def portal_command(port: int = DEFAULT_PORT, *, host: str = DEFAULT_HOST) -> list[str]:
    """The ``streamlit run`` argv for the portal: headless, XSRF-protected, no telemetry, no
    tracebacks and no developer menu shown to users."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.enableXsrfProtection",
        "true",
        "--client.showErrorDetails",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def portal_env(db_url: str | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's environment: ``base`` (default: ours) with the database URL, if given, as
    ``BACKOFFICE_DATABASE_URL`` (the portal reads its settings from the environment), and
    the folder holding this ``backoffice`` package first on ``PYTHONPATH``, so the script's
    imports load the same code as the script itself, whatever else is installed."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    if db_url:
        env["BACKOFFICE_DATABASE_URL"] = db_url
    return env


def start_portal(
    *, port: int = DEFAULT_PORT, db_url: str | None = None, host: str = DEFAULT_HOST, **popen
) -> subprocess.Popen:
    """Start the portal as a child process (the caller stops it)."""
    return subprocess.Popen(portal_command(port, host=host), env=portal_env(db_url), **popen)


def portal(
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = DEFAULT_PORT,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every interface).")
    ] = DEFAULT_HOST,
    db: DbOption = None,
) -> None:
    """Serve the account portal: sign-in, Settings → Authentication, and recovery help.

    The command becomes the Streamlit server (exec), so signals reach it directly."""
    typer.echo(f"Account portal on http://{host}:{port}/ (Ctrl+C stops it)")
    sys.stdout.flush()
    argv = portal_command(port, host=host)
    os.execve(argv[0], argv, portal_env(db))
