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
from tests.support.cli_process import run_backoffice

SERVER_AND_UI = {"streamlit", "paramiko", "sshsig", "segno", "html2text", "jinja2", "aiosmtpd"}
SCHEMA_MACHINERY = {"alembic", "alembic.command", "alembic.config"}
DATABASE = {"sqlalchemy", "sqlmodel", "pydantic", "psycopg"}


def imported_modules(*args: str, env: dict[str, str] | None = None) -> set[str]:
    result = run_backoffice(*args, env=env, python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr[-2000:]
    return set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)$", result.stderr, re.M))


def test_help_imports_no_command_and_no_database_library():
    loaded = imported_modules("--help")
    assert "typer" in loaded  # the parsing worked
    assert not loaded & (SERVER_AND_UI | SCHEMA_MACHINERY | DATABASE)
    assert not {
        m for m in loaded if m.startswith("backoffice.cli.") and m not in ("backoffice.cli.root",)
    }


@pytest.mark.parametrize("command", [("outbox", "send"), ("outbox", "status"), ("tickets", "list")])
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


def test_outbox_send_builds_only_the_table_it_uses(sqlite_url):
    loaded = imported_modules("outbox", "send", env={"BACKOFFICE_DATABASE_URL": sqlite_url})
    tables = {m for m in loaded if m.startswith("core.store.tables.")}
    assert tables == {"core.store.tables.outbox"}
