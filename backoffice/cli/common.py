"""What every CLI command shares: the ``--db`` option, a session, one-line errors.

Kept light (no database or server library at import): every subcommand module imports it,
and ``describe_failure`` is what the root group prints for any exception a command raises."""

from __future__ import annotations

import errno
import functools
import json
import re
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from core.errors import DomainError

if TYPE_CHECKING:
    from sqlmodel import Session

console = Console()
err_console = Console(stderr=True)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def literal(value: object) -> Text:
    """Mail-controlled text for the terminal: never read as Rich markup (no
    ``[link=...]``), and control characters (escape sequences: colours, hyperlinks, cursor
    moves) shown as U+FFFD. Lines and tabs are kept."""
    return Text(_CONTROL_RE.sub("\ufffd", "" if value is None else str(value)))


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="BACKOFFICE_DATABASE_URL",
        help="Database URL (default: the embedded SQLite file under data/).",
        show_envvar=True,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
PasswordStdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``Error: message`` (taken literally, never as markup) on stderr; the caller
    raises the returned exit."""
    err_console.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


DEBUG_HINT = "run again with --debug for the traceback"


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def describe_failure(exc: BaseException) -> str:
    """One line for anything a command raised: domain errors as they are, the environment's
    faults (database, settings, files, ports, undecodable input) said plainly, and anything
    else as its type and first words with a hint to use ``--debug``."""
    if isinstance(exc, DomainError):
        return _one_line(str(exc))
    if type(exc).__module__.startswith("sqlalchemy"):
        from sqlalchemy.exc import DBAPIError

        from core.store.engine import database_fault

        if isinstance(exc, DBAPIError):
            return _one_line(str(database_fault(exc)))
    if type(exc).__name__ == "ValidationError" and getattr(exc, "title", "") == "Settings":
        problems = "; ".join(
            f"BACKOFFICE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        return _one_line(f"Invalid setting: {problems}")
    if isinstance(exc, UnicodeError):
        return _one_line(f"Input is not valid text: {exc}")
    if isinstance(exc, OSError):
        if exc.errno == errno.EADDRINUSE:
            return _one_line(f"Address already in use: {exc.strerror or exc}")
        if exc.filename is not None and exc.strerror:
            return _one_line(f"{exc.strerror}: {exc.filename}")
        return _one_line(f"{exc.strerror or exc}")
    words = _one_line(str(exc))[:300]
    return f"Unexpected {type(exc).__name__}{': ' + words if words else ''} ({DEBUG_HINT})."


DURATION_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str | timedelta) -> timedelta:
    """``90s``, ``15m``, ``24h``, ``180d``, ``2w`` as a ``timedelta``; a usage error (one
    line from click) otherwise."""
    if isinstance(text, timedelta):
        return text
    value = text.strip().lower()
    number = value.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = value[len(number) :] or "s"
    try:
        amount = float(number)
    except ValueError:
        amount = -1.0
    if unit not in DURATION_UNITS or amount < 0:
        raise typer.BadParameter(f"{text!r} is not a duration like 90s, 15m, 24h or 180d.")
    return timedelta(seconds=amount * DURATION_UNITS[unit])


def require_free_port(host: str, port: int, what: str) -> None:
    """Refuse to start ``what`` on a port something else already listens on, with the
    option to change in the message (the server's own bind error says less)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise fail(
                    f"Port {port} on {host} is in use; start the {what} with --port."
                ) from None
            raise fail(f"Cannot listen on {host}:{port} for the {what}: {exc.strerror}.") from None


def domain_errors(func: F) -> F:
    """Turn a ``DomainError`` into one readable line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            raise fail(str(exc)) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def open_session(db: str | None, *, readonly: bool = False) -> Iterator[Session]:
    """A unit of work on ``db`` (schema created or upgraded first)."""
    from core.store.engine import get_engine, session_scope

    with session_scope(get_engine(db), readonly=readonly) as session:
        yield session


def read_secret_from_stdin(what: str) -> str:
    """One line from standard input, without the newline; refuses an empty value and bytes
    that are not UTF-8 (with one line, not a decoding traceback)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        value = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            value = stream.readline().decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise fail(f"The {what} on standard input is not UTF-8 text.") from None
    if not value:
        raise fail(f"No {what} on standard input.")
    return value


def wait_until_interrupted(on_stop: Callable[[], Any]) -> None:
    """Block until Ctrl-C or SIGTERM, then run ``on_stop`` (a server's clean shutdown)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        on_stop()


def read_password(from_stdin: bool, *, confirm: bool = False) -> str:
    """The password from standard input (``--password-stdin``) or a hidden prompt."""
    if from_stdin:
        return read_secret_from_stdin("password")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")
