"""A wrong environment gets one readable line on stderr and a non-zero exit, never a
traceback: bad or unsupported database URLs, servers that refuse, a damaged SQLite file, a
data folder that cannot be made, ports in use, undecodable standard input, bad settings."""

from __future__ import annotations

import socket
import time
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backoffice.cli.common import describe_failure
from tests.conftest import require
from tests.support import postgres
from tests.support.cli_process import run_backoffice
from tests.support.own_postgres import own_postgres  # noqa: F401  (fixture)
from tests.support.smtp_sink import free_port


def assert_one_line_error(result, *fragments: str) -> str:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("foo://bar", "unknown database 'foo'"),
        ("not-a-url", "is not a database URL"),
        ("postgresql+nosuchdriver://u@localhost/x", "unknown database"),
    ],
)
def test_unusable_database_urls(url, expected):
    line = assert_one_line_error(run_backoffice("tickets", "list", "--db", url), expected)
    assert "sqlite:///" in line  # says what a good URL looks like


def test_the_same_error_from_the_environment_variable():
    result = run_backoffice("outbox", "status", env={"BACKOFFICE_DATABASE_URL": "not-a-url"})
    assert_one_line_error(result, "is not a database URL")


def test_a_server_that_refuses_the_connection_without_showing_the_password():
    url = f"postgresql+psycopg://bo:s3cret@127.0.0.1:{free_port()}/backoffice"
    line = assert_one_line_error(
        run_backoffice("tickets", "list", "--db", url), "Cannot reach the database"
    )
    assert "s3cret" not in line and "Connection refused" in line


def test_a_database_that_does_not_exist():
    server = postgres.server_url()
    require(server is not None, "no PostgreSQL: set BACKOFFICE_TEST_DATABASE_URL")
    url = make_url(server).set(database=f"missing_{uuid.uuid4().hex[:8]}")
    result = run_backoffice("tickets", "list", "--db", url.render_as_string(False))
    assert_one_line_error(result, "Cannot reach the database", "does not exist")


def test_a_wrong_password(own_postgres):  # noqa: F811
    """A server of the test's own that asks for passwords (the shared one trusts)."""
    admin = create_engine(own_postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE ROLE bo LOGIN PASSWORD 'the-right-one'"))
    admin.dispose()
    data = own_postgres.dir / "data"
    (data / "pg_hba.conf").write_text(
        "local all all trust\n"
        "host all postgres 127.0.0.1/32 trust\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"
    )
    own_postgres._as_postgres("pg_ctl", "-D", str(data), "reload")
    url = f"postgresql+psycopg://bo:not-the-password@127.0.0.1:{own_postgres.port}/postgres"
    deadline = time.monotonic() + 10
    while True:  # the reload is a signal: wait until the server asks for the password
        result = run_backoffice("tickets", "list", "--db", url)
        if result.returncode != 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    line = assert_one_line_error(result, "Cannot reach the database", "password authentication")
    assert "not-the-password" not in line


def test_a_damaged_sqlite_file(tmp_path):
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"this is not SQLite at all\n" * 200)
    result = run_backoffice("tickets", "list", "--db", f"sqlite:///{damaged}")
    assert_one_line_error(result, "not a SQLite database or is damaged")


def test_a_data_folder_that_cannot_be_created(tmp_path):
    """Root may write anywhere, so the folder's would-be parent is a regular file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_backoffice("outbox", "send", env={"BACKOFFICE_DATA_DIR": str(blocker / "data")})
    assert_one_line_error(result, "Cannot create the database folder", str(blocker))


@pytest.mark.parametrize(
    ("command", "what"),
    [
        (["serve", "--db", "sqlite:///x.db"], "staff back office"),
        (["portal", "--db", "sqlite:///x.db"], "account portal"),
        (["smtpd", "--db", "sqlite:///x.db"], "SMTP receiver"),
        (["mail", "capture", "--dir", "capture"], "mail capture"),
    ],
)
def test_a_port_in_use(command, what):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_backoffice(*command, "--port", str(port))
    assert_one_line_error(result, f"Port {port}", "in use", what)


def test_password_stdin_that_is_not_utf8(tmp_path):
    result = run_backoffice(
        "accounts",
        "create",
        "alice",
        "--email",
        "alice@example.com",
        "--password-stdin",
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
        input=b"caf\xe9 \xff\xfe\n",
    )
    assert_one_line_error(result, "not UTF-8")


def test_a_percent_sign_in_the_url_reaches_alembic_intact(tmp_path):
    """configparser interpolation used to choke on ``%`` (a quoted password character or
    a file name) while creating the schema."""
    sqlite_file = f"sqlite:///{tmp_path / 'odd%25name.db'}"
    created = run_backoffice("tickets", "list", "--db", sqlite_file)
    assert created.returncode == 0, created.stderr
    server = postgres.server_url()
    require(server is not None, "no PostgreSQL: set BACKOFFICE_TEST_DATABASE_URL")
    name = f"bo_pct_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(server).set(database=name, password="p@ss%word")
        rendered = url.render_as_string(hide_password=False)
        assert "%40" in rendered and "%25" in rendered
        result = run_backoffice("tickets", "list", "--db", rendered)
        assert result.returncode == 0, result.stderr
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_an_invalid_setting_is_named():
    result = run_backoffice("outbox", "status", env={"BACKOFFICE_SMTP_PORT": "twenty-five"})
    assert_one_line_error(result, "BACKOFFICE_SMTP_PORT")


def test_an_unexpected_error_is_one_line_with_a_hint():
    line = describe_failure(RuntimeError("boom\n  at the second line"))
    assert line.startswith("Unexpected RuntimeError: boom at the second line")
    assert "--debug" in line and "\n" not in line


def test_debug_shows_the_traceback():
    result = run_backoffice("--debug", "tickets", "list", "--db", "not-a-url")
    assert result.returncode != 0 and "Traceback" not in result.stderr  # a domain error
    result = run_backoffice("--debug", "outbox", "status", env={"BACKOFFICE_SMTP_PORT": "x"})
    assert result.returncode != 0 and "Traceback" in result.stderr
