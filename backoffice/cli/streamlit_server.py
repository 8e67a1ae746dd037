"""Launching a Streamlit app of ours as a locked-down server (shared by ``serve``, ``portal``
and ``demo``). Settings, the database URL included, travel in the environment, never in
argv, so a PostgreSQL password never shows up in ``ps``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from backoffice.cli.common import require_free_port

DEFAULT_HOST = "127.0.0.1"
HostOption = Annotated[
    str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every interface).")
]
PortOption = Annotated[int, typer.Option("--port", help="Port to serve on.")]
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def streamlit_command(app_path: Path, port: int, *, host: str = DEFAULT_HOST) -> list[str]:
    """``streamlit run`` argv: headless, XSRF-protected, no telemetry, no tracebacks and no
    developer menu shown in the browser."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
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


def streamlit_env(db_url: str | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's environment: ``base`` (default: ours) with the database URL, if given, as
    ``BACKOFFICE_DATABASE_URL``, and the folder holding this ``backoffice`` package first on
    ``PYTHONPATH``, so the script's imports load the same code as the script itself."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    if db_url:
        env["BACKOFFICE_DATABASE_URL"] = db_url
    return env


def start_streamlit(
    app_path: Path, *, port: int, host: str = DEFAULT_HOST, db_url: str | None = None, **popen
) -> subprocess.Popen:
    """Start the app as a child process (the caller stops it)."""
    return subprocess.Popen(
        streamlit_command(app_path, port, host=host), env=streamlit_env(db_url), **popen
    )


def serve_app(app_path: Path, *, title: str, port: int, host: str, db_url: str | None) -> None:
    """Check the settings, create or upgrade the schema, then become the Streamlit server
    (exec), so Ctrl-C and SIGTERM reach it directly; a bad setting stops it here, in one
    line, not at the first sign-in."""
    from core.settings import get_settings
    from core.store.engine import get_engine

    require_free_port(host, port, title.lower())
    get_settings()
    get_engine(db_url)
    typer.echo(f"{title} on http://{host}:{port}/ (Ctrl+C stops it)")
    sys.stdout.flush()
    argv = streamlit_command(app_path, port, host=host)
    os.execve(argv[0], argv, streamlit_env(db_url))
