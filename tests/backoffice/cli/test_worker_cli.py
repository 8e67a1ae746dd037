"""``backoffice worker`` as a real process with every source enabled by settings (SMTP
receiver, IMAP on a real Dovecot, a Maildir) and the outbox sender: one start-up line naming
them, JSON log lines without addresses, heartbeats while it runs and ``stopped`` after
SIGTERM (exit 0). ``ingest imap --watch`` stops the same way."""

from __future__ import annotations

import json
import mailbox
import smtplib

from sqlalchemy import func, select

from core.store import session_scope
from core.store.tables import InboundMessage
from core.workers import list_heartbeats
from tests.support.dovecot import dovecot, dovecot_server  # noqa: F401 (fixtures)
from tests.support.long_running import Command, outbox_counts
from tests.support.mail import recovery_email
from tests.support.own_postgres import wait_until
from tests.support.slow_relay import SlowRelay
from tests.support.smtp_sink import free_port


def _stored(engine) -> int:
    with session_scope(engine, readonly=True) as s:
        return s.execute(select(func.count()).select_from(InboundMessage)).scalar()


def _heartbeats(engine) -> dict[str, str]:
    with session_scope(engine, readonly=True) as s:
        return {h.kind: h.status for h in list_heartbeats(s)}


def test_worker_runs_every_enabled_source_and_stops_cleanly(engine, db_url, tmp_path, dovecot):  # noqa: F811
    relay = SlowRelay(free_port(), delay=0)
    relay.start()
    smtpd_port = free_port()
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(recovery_email(sender="maildir@example.com", subject="from the maildir"))
    dovecot.append(recovery_email(sender="imap@example.com", subject="from imap"))
    env = {
        "BACKOFFICE_DATABASE_URL": db_url,
        "BACKOFFICE_SMTP_PORT": str(relay.port),
        "BACKOFFICE_SMTPD_PORT": str(smtpd_port),
        "BACKOFFICE_IMAP_HOST": dovecot.host,
        "BACKOFFICE_IMAP_PORT": str(dovecot.port),
        "BACKOFFICE_IMAP_USER": dovecot.user,
        "BACKOFFICE_IMAP_PASSWORD": dovecot.password,
        "BACKOFFICE_IMAP_SECURITY": "plain",
        "BACKOFFICE_IMAP_POLL_SECONDS": "1",
        "BACKOFFICE_MAILDIR_WATCH": str(tmp_path / "Maildir"),
        "BACKOFFICE_MAILDIR_POLL_SECONDS": "0.5",
        "BACKOFFICE_HEARTBEAT_SECONDS": "0.5",
    }
    worker = Command(["worker", "--log-format", "json"], env=env, log=tmp_path / "worker.log")
    try:
        wait_until(lambda: "started" in worker.output(), 60, "the start-up line")
        with smtplib.SMTP("127.0.0.1", smtpd_port, timeout=30) as client:
            client.sendmail(
                "smtp@example.com",
                ["website@huggingface.co"],
                recovery_email(sender="smtp@example.com", subject="over smtp"),
            )
        wait_until(lambda: _stored(engine) == 3, 60, "a message from each source")
        wait_until(
            lambda: set(outbox_counts(engine)) == {"sent"} and relay.handler.total == 3,
            60,
            "the three acknowledgements sent",
        )
        kinds = {"worker", "outbox-sender", "resets", "smtpd", "imap", "maildir"}
        wait_until(lambda: set(_heartbeats(engine)) == kinds, 30, "every heartbeat")
        assert set(_heartbeats(engine).values()) == {"running"}
        assert worker.terminate() == 0, worker.output()
    finally:
        worker.close()
        relay.stop()
    assert set(_heartbeats(engine).values()) == {"stopped"}
    assert list((tmp_path / "Maildir" / "new").iterdir()) == []

    lines = [json.loads(line) for line in worker.output().splitlines()]
    (started,) = [e["message"] for e in lines if e["message"].startswith("started")]
    for source in ("outbox sender", "SMTP receiver", "IMAP", "Maildir"):
        assert source in started
    text = worker.output()
    for address in ("smtp@example.com", "imap@example.com", "maildir@example.com"):
        assert address not in text
    assert dovecot.password not in text


def test_worker_with_nothing_enabled_says_so_in_one_line(db_url, tmp_path):
    worker = Command(
        ["worker"],
        env={"BACKOFFICE_DATABASE_URL": db_url, "BACKOFFICE_WORKER_OUTBOX": "false"},
        log=tmp_path / "worker.log",
    )
    try:
        assert worker.proc.wait(timeout=60) == 1
    finally:
        worker.close()
    assert "Nothing to run" in worker.output() and "Traceback" not in worker.output()


def test_ingest_imap_watch_stops_on_sigterm_with_exit_0(engine, db_url, tmp_path, dovecot):  # noqa: F811
    dovecot.append(recovery_email(sender="watch@example.com"))
    args = [
        "ingest", "imap", "--host", dovecot.host, "--port", str(dovecot.port),
        "--user", dovecot.user, "--password-stdin", "--watch", "1", "--json",
    ]  # fmt: skip
    password_file = tmp_path / "password"
    password_file.write_text(dovecot.password + "\n")
    with password_file.open() as stdin:
        command = Command(
            args, env={"BACKOFFICE_DATABASE_URL": db_url}, log=tmp_path / "imap.log", stdin=stdin
        )
    try:
        wait_until(lambda: _stored(engine) == 1, 60, "the message stored")
        assert command.terminate() == 0, command.output()
    finally:
        command.close()
    assert '"new_tickets": 1' in command.output()
