"""Which failures a long-running process waits out, and how it says so: once per kind of
outage, once when the dependency is back."""

from __future__ import annotations

import logging
import sqlite3

from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from core.workers.faults import Backoff, Dependency, is_transient_database_error


def test_outages_and_lock_timeouts_are_transient_constraint_errors_are_not(tmp_path):
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    try:
        with engine.connect():
            pass
    except Exception as exc:
        refused = exc
    assert is_transient_database_error(refused)
    locked = OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))
    assert is_transient_database_error(locked)
    duplicate = IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
    assert not is_transient_database_error(duplicate)
    bad_sql = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with bad_sql.connect() as conn:
            conn.execute(text("SELEC 1"))
    except Exception as exc:
        typo = exc
    assert not is_transient_database_error(typo)  # an OperationalError on SQLite, yet a bug


def test_backoff_doubles_up_to_the_cap_with_jitter_and_resets():
    backoff = Backoff(base=1.0, cap=8.0)
    delays = [backoff.next_delay() for _ in range(6)]
    for delay, ceiling in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_an_outage_is_logged_once_per_kind_and_the_recovery_once(caplog):
    caplog.set_level(logging.DEBUG)
    database = Dependency("database", logging.getLogger("core.test"))
    import psycopg

    shutdown = OperationalError("SELECT 1", {}, psycopg.errors.AdminShutdown("terminating"))
    database.failed(shutdown)  # a restart: the server says so, then refuses connections
    refused = OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))
    for _ in range(5):
        database.failed(refused)
    locked = sqlite3.OperationalError("database is locked")
    database.failed(OperationalError("SELECT 1", {}, locked))
    assert database.down
    database.ok()
    database.ok()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(warnings) == 2  # one per kind: the server gone (however it says it), locked
    assert "SELECT" not in warnings[0].getMessage()  # the driver's words, not the statement
    assert len(infos) == 1 and "database is back" in infos[0].getMessage()
    assert not database.down
