"""Backup and restore round trips on both databases, through the commands an operator
runs: every table's row count survives, the restored database is at the newest migration
and usable by the app, and a TOTP secret still decrypts (a pin is accepted) with the key."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel
from typer.testing import CliRunner

import core.store.tables  # noqa: F401  (every table on the metadata)
from backoffice.cli import app
from core.accounts.users import get_user
from core.audit import record_event
from core.store import session_scope
from core.store.engine import make_engine, schema_is_current
from core.twofactor import begin_enrolment, confirm_enrolment
from core.twofactor.second_factor import verify_totp
from core.twofactor.totp import code_at_step, time_step
from tests.conftest import require
from tests.support import postgres
from tests.support.recovery_tickets import make_user
from tests.support.ticket_rows import ticket_row

runner = CliRunner()
PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
PG_BIN = PG_BINS[-1] if PG_BINS else Path("/usr/lib/postgresql/15/bin")
"""The newest installed release, as ``.ci/run`` picks for the test server (pg_dump must be
at least the server's version)."""


def seed(engine, clock) -> str:
    """An account with 2FA on, tickets and audit events; returns the TOTP secret."""
    with session_scope(engine) as s:
        user = make_user(s, "alice", clock=clock)
        provisioning = begin_enrolment(s, user=user, clock=clock)
        pin = code_at_step(provisioning.secret, time_step(clock()))
        confirm_enrolment(s, user=user, pin=pin, clock=clock)
        for days in (1, 2, 40):
            ticket_row(s, created_at=clock() - timedelta(days=days), status="approved",
                       decided_after=timedelta(hours=days))  # fmt: skip
        record_event(s, action="test.seeded", actor="system", user_id=user.id, clock=clock)
    return provisioning.secret


def row_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in SQLModel.metadata.tables.items()
        }


@pytest.fixture
def restore_target(db_url, tmp_path):
    """Where the backup goes back: a new SQLite file, or a new, empty PostgreSQL database."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    server = postgres.server_url()
    name = f"bo_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_backup_and_restore_round_trip(engine, db_url, restore_target, tmp_path, clock):
    pg = not db_url.startswith("sqlite")
    if pg:
        require((PG_BIN / "pg_dump").is_file(), f"pg_dump is missing from {PG_BIN}")
    secret = seed(engine, clock)
    before = row_counts(engine)
    assert before["users"] == 1 and before["tickets"] == 3 and before["audit_events"] >= 2

    archive = tmp_path / ("backup.dump" if pg else "backup.db")
    extra = ["--pg-bin", str(PG_BIN)] if pg else []
    made = runner.invoke(app, ["backup", str(archive), *extra])
    assert made.exit_code == 0, made.output
    assert archive.stat().st_size > 0
    again = runner.invoke(app, ["backup", str(archive), *extra])
    assert again.exit_code == 1 and "never overwrites" in again.output

    restored = runner.invoke(app, ["restore", str(archive), "--db", restore_target, *extra])
    assert restored.exit_code == 0, restored.output
    target = make_engine(restore_target)
    try:
        assert schema_is_current(target)
        assert row_counts(target) == before
        later = clock.advance(seconds=60)
        with session_scope(target) as s:
            user = get_user(s, "alice")
            verify_totp(s, user=user, pin=code_at_step(secret, time_step(later)), clock=clock)
        listed = runner.invoke(app, ["tickets", "list", "--json", "--db", restore_target])
        assert listed.exit_code == 0 and len(json.loads(listed.output)["tickets"]) == 3
    finally:
        target.dispose()

    refused = runner.invoke(app, ["restore", str(archive), "--db", restore_target, *extra])
    assert refused.exit_code == 1
    assert ("not empty" if pg else "exists") in refused.output


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    result = runner.invoke(app, ["restore", str(junk), "--db", f"sqlite:///{tmp_path / 'r.db'}"])
    assert result.exit_code == 1 and "not a SQLite backup" in result.output
    assert not (tmp_path / "r.db").exists()
