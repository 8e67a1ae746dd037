"""``backoffice portal``: serve the account portal (Streamlit) for Hub users.

``backoffice demo`` starts the same server as a child process through
``backoffice.cli.streamlit_server``."""

from __future__ import annotations

from backoffice.cli.common import DbOption
from backoffice.cli.streamlit_server import (
    DEFAULT_HOST,
    HostOption,
    PortOption,
    serve_app,
    streamlit_command,
    streamlit_env,
)
from backoffice.portal import APP_PATH

DEFAULT_PORT = 8502


def portal_command(port: int = DEFAULT_PORT, *, host: str = DEFAULT_HOST) -> list[str]:
    """The ``streamlit run`` argv for the portal."""
    return streamlit_command(APP_PATH, port, host=host)


portal_env = streamlit_env


def portal(
    port: PortOption = DEFAULT_PORT,
    host: HostOption = DEFAULT_HOST,
    db: DbOption = None,
) -> None:
    """Serve the account portal: sign-in, Settings → Authentication, and recovery help."""
    serve_app(APP_PATH, title="Account portal", port=port, host=host, db_url=db)
