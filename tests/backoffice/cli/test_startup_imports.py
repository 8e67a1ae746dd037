"""Start-up stays cheap: a command imports what it needs when it runs. Listed here are the
heavy libraries a cron-driven call must not load; a new top-level import of one of them in a
CLI module (or in a core module those commands use) fails these tests. Wall time is measured
by ``benchmarks/cli_startup.py``, not here."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from backoffice.cli import app
from backoffice.cli.root import LazyRootGroup
from tests.core.mail.conftest import queue_many
from tests.support.cli_process import run_backoffice
from tests.support.smtp_sink import free_port

SERVER_AND_UI = {"streamlit", "paramiko", "sshsig", "segno", "html2text", "jinja2", "aiosmtpd"}
SCHEMA_MACHINERY = {"alembic", "alembic.command", "alembic.config"}
DATABASE = {"sqlalchemy", "sqlmodel", "pydantic", "psycopg"}
SENDING = {
    "aiosmtplib",
    "core.mail.sender",
    "core.mail.message",
    "core.mail.render",
    "email.mime.text",
    "cryptography",
    "argon2",
}
"""What delivering one email needs; ``outbox send`` with nothing due loads none of it."""


def run_importtime(*args: str, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """The command's standard output and every module it imported."""
    result = run_backoffice(*args, env=env, python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)$", result.stderr, re.M)
    return result.stdout, set(loaded)


def imported_modules(*args: str, env: dict[str, str] | None = None) -> set[str]:
    return run_importtime(*args, env=env)[1]


def test_help_imports_no_command_and_no_database_library():
    loaded = imported_modules("--help")
    assert "typer" in loaded  # the parsing worked
    assert not loaded & (SERVER_AND_UI | SCHEMA_MACHINERY | DATABASE | SENDING)
    assert not {"pydantic_settings", "core.settings"} & loaded
    assert not {
        m for m in loaded if m.startswith("backoffice.cli.") and m not in ("backoffice.cli.root",)
    }


@pytest.mark.parametrize("command", [("outbox", "status"), ("tickets", "list")])
def test_cron_commands_on_a_database_at_head_skip_alembic_and_the_servers(sqlite_url, command):
    env = {"BACKOFFICE_DATABASE_URL": sqlite_url}
    loaded = imported_modules(*command, env=env)
    assert "sqlalchemy" in loaded  # it did reach the database
    assert not loaded & (SERVER_AND_UI | SCHEMA_MACHINERY), loaded & (
        SERVER_AND_UI | SCHEMA_MACHINERY
    )


def test_a_fresh_database_still_gets_its_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    loaded = imported_modules("outbox", "status", env={"BACKOFFICE_DATABASE_URL": url})
    assert "alembic.command" in loaded
    again = imported_modules("outbox", "status", env={"BACKOFFICE_DATABASE_URL": url})
    assert "alembic" not in again


@pytest.mark.parametrize("name", sorted(LazyRootGroup.registry))
def test_every_registered_command_loads_and_has_help(name):
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"backoffice {name}" in result.output


def test_outbox_send_with_nothing_due_loads_neither_sqlalchemy_nor_the_sender(db_url):
    """The usual cron run asks the database with its own driver and stops there."""
    loaded = imported_modules("outbox", "send", env={"BACKOFFICE_DATABASE_URL": db_url})
    assert "core.mail.outbox_due" in loaded  # it did ask
    heavy = loaded & (SERVER_AND_UI | SCHEMA_MACHINERY | SENDING | {"sqlalchemy", "sqlmodel"})
    assert not heavy, heavy
    assert not {m for m in loaded if m.startswith(("sqlalchemy.", "core.store.tables"))}


def test_outbox_send_with_mail_due_runs_the_sender_with_only_the_table_it_uses(
    engine, db_url, clock
):
    queue_many(engine, clock, 1)
    relay_away = {"BACKOFFICE_DATABASE_URL": db_url, "BACKOFFICE_SMTP_PORT": str(free_port())}
    output, loaded = run_importtime("outbox", "send", env=relay_away)
    assert "sent 0, retrying later 1, failed 0" in output
    assert {"core.mail.sender", "aiosmtplib"} <= loaded
    assert {m for m in loaded if m.startswith("core.store.tables.")} == {"core.store.tables.outbox"}


def test_outbox_send_on_a_fresh_database_gives_it_its_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    loaded = imported_modules("outbox", "send", env={"BACKOFFICE_DATABASE_URL": url})
    assert "alembic.command" in loaded
    again = imported_modules("outbox", "send", env={"BACKOFFICE_DATABASE_URL": url})
    assert not again & {"alembic", "sqlalchemy"}
