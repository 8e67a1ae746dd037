"""A process upgrades a schema that is behind, skips Alembic at head, and leaves alone a
schema a newer release migrated (so the previous release keeps starting during a rolling
deploy); ``migrate --check`` and ``health`` say which it is."""

from __future__ import annotations

from sqlalchemy import text
from typer.testing import CliRunner

from backoffice.cli import app
from core.store.engine import (
    AHEAD,
    BEHIND,
    CURRENT,
    dispose_engines,
    head_revisions,
    make_engine,
    schema_state,
    upgrade_schema,
)

runner = CliRunner()


def stamp(engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_states_and_what_a_process_does_with_them(db_url):
    engine = make_engine(db_url)
    try:
        assert schema_state(engine) == CURRENT
        (head,) = head_revisions()
        stamp(engine, "9999_from_the_future")
        assert schema_state(engine) == AHEAD
        upgrade_schema(engine)  # leaves it alone, no error
        assert schema_state(engine) == AHEAD
        listed = runner.invoke(app, ["tickets", "list", "--db", db_url])
        assert listed.exit_code == 0, listed.output
        check = runner.invoke(app, ["migrate", "--check", "--db", db_url])
        assert check.exit_code == 0 and "newer than this release" in check.output
        stamp(engine, head)
        assert schema_state(engine) == CURRENT
    finally:
        engine.dispose()
        dispose_engines()


def test_a_new_database_is_behind_and_migrate_brings_it_to_head(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    engine = make_engine(url)
    try:
        assert schema_state(engine) == BEHIND
        pending = runner.invoke(app, ["migrate", "--check", "--db", url])
        assert pending.exit_code == 1 and "Migrations are pending" in pending.output
        done = runner.invoke(app, ["migrate", "--db", url])
        assert done.exit_code == 0 and "upgraded" in done.output
        assert schema_state(engine) == CURRENT
    finally:
        engine.dispose()
