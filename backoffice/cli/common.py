"""What every CLI command shares: the ``--db`` option, a session, one-line errors."""

from __future__ import annotations

import functools
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlmodel import Session

from core.errors import DomainError
from core.store.engine import get_engine, session_scope

console = Console()
err_console = Console(stderr=True)

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
    err_console.print(f"[bold red]Error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


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
    with session_scope(get_engine(db), readonly=readonly) as session:
        yield session


def read_secret_from_stdin(what: str) -> str:
    """One line from standard input, without the newline; refuses an empty value."""
    value = sys.stdin.readline().rstrip("\r\n")
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
