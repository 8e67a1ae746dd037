"""PostgreSQL stopped and started again under ``worker``, ``outbox send --watch`` and
``smtpd`` (real processes, a PostgreSQL server of the test's own): every process keeps
running, logs the outage once and the recovery once, answers 451 to inbound mail meanwhile
(so the sending server retries), and once the database is back every email goes out exactly
once and every message is stored."""

from __future__ import annotations

import smtplib
import time

import pytest
from sqlalchemy import func, select

from core.store import session_scope
from core.store.engine import get_engine
from core.store.tables import InboundMessage
from tests.support.long_running import Command, outbox_counts, queue_emails
from tests.support.mail import recovery_email
from tests.support.own_postgres import own_postgres, wait_until  # noqa: F401 (fixture)
from tests.support.slow_relay import SlowRelay
from tests.support.smtp_sink import free_port


def _deliver(port: int, n: int) -> int:
    """Send inbound message ``n``; returns the SMTP code of the final reply."""
    raw = recovery_email(sender=f"user{n}@example.com", message_id=f"<in{n}@example.com>")
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.sendmail(f"user{n}@example.com", ["website@huggingface.co"], raw)
    except smtplib.SMTPDataError as exc:
        return exc.smtp_code
    return 250


def _accepting(port: int) -> bool:
    try:
        smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
    except OSError:
        return False
    return True


def _stored(engine) -> int:
    with session_scope(engine, readonly=True) as s:
        return s.execute(select(func.count()).select_from(InboundMessage)).scalar()


def _all_sent(engine, *, at_least: int) -> bool:
    counts = outbox_counts(engine)
    return counts.get("sent", 0) >= at_least and set(counts) == {"sent"}


@pytest.fixture
def relay():
    server = SlowRelay(free_port(), delay=0.002)
    server.start()
    yield server
    server.stop()


def test_long_running_commands_ride_out_a_postgresql_restart(own_postgres, relay, tmp_path):  # noqa: F811
    engine = get_engine(own_postgres.url)
    ids = queue_emails(engine, 60)
    worker_port, smtpd_port = free_port(), free_port()
    env = {
        "BACKOFFICE_DATABASE_URL": own_postgres.url,
        "BACKOFFICE_SMTP_PORT": str(relay.port),
        "BACKOFFICE_HEARTBEAT_SECONDS": "1",
    }
    commands = [
        Command(
            ["worker"], env={**env, "BACKOFFICE_SMTPD_PORT": str(worker_port)},
            log=tmp_path / "worker.log",
        ),
        Command(["outbox", "send", "--watch", "0.2"], env=env, log=tmp_path / "sender.log"),
        Command(["smtpd", "--port", str(smtpd_port)], env=env, log=tmp_path / "smtpd.log"),
    ]  # fmt: skip
    try:
        wait_until(lambda: _accepting(worker_port) and _accepting(smtpd_port), 60, "receivers")
        # all three running before the outage: one still starting when the database goes
        # would (rightly) exit with "Cannot reach the database", a bad environment at start
        wait_until(lambda: all("started" in c.output() for c in commands), 60, "every command")
        wait_until(lambda: _all_sent(engine, at_least=60), 60, "the first emails")
        assert [_deliver(worker_port, 1), _deliver(smtpd_port, 2)] == [250, 250]

        own_postgres.stop()
        deferred = [_deliver(worker_port, 3), _deliver(smtpd_port, 4)]
        assert deferred == [451, 451]  # the sending server keeps them and retries
        time.sleep(3)  # every process notices: polls, lease renewals, heartbeats
        assert all(c.running() for c in commands), [c.output() for c in commands]
        own_postgres.start()

        ids |= queue_emails(engine, 60)
        assert [_deliver(worker_port, 3), _deliver(smtpd_port, 4)] == [250, 250]
        wait_until(lambda: _all_sent(engine, at_least=120), 60, "the later emails")
        assert _stored(engine) == 4
        assert all(c.running() for c in commands), [c.output() for c in commands]
        # A process that found the database gone waits out its back-off before it looks
        # again; the work above may all have been done by the others meanwhile.
        wait_until(
            lambda: all("database is back" in c.output() for c in commands), 60, "every recovery"
        )
        assert [c.terminate() for c in commands] == [0, 0, 0], [c.output() for c in commands]
    finally:
        for command in commands:
            command.close()

    assert relay.handler.duplicates() == {}
    assert ids <= set(relay.handler.received)  # with the acknowledgements of inbound mail
    for command in commands:
        log = command.output()
        assert "Traceback" not in log, log
        assert "database unavailable" in log and "database is back" in log, log
    sender_log = commands[1].output()
    assert sender_log.count("database unavailable") == 1, sender_log
