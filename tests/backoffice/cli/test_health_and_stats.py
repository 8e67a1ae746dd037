"""``backoffice health`` against real servers (an aiosmtpd relay, a closed port, a refused
database) and ``backoffice stats`` read back by ``prometheus_client``'s own parser."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from backoffice.cli import app
from core.clock import FrozenClock
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import InboundMessage, SecondFactorThrottle
from core.workers.heartbeats import WorkerIdentity, beat
from tests.core.mail.conftest import queue_many
from tests.support.dovecot import dovecot, dovecot_server  # noqa: F401  (fixtures)
from tests.support.recovery_tickets import make_user
from tests.support.smtp_sink import SmtpSink, free_port
from tests.support.ticket_rows import ticket_row

runner = CliRunner()


@pytest.fixture
def relay(monkeypatch):
    server = SmtpSink().start()
    monkeypatch.setenv("BACKOFFICE_SMTP_PORT", str(server.port))
    get_settings.cache_clear()
    yield server
    server.stop()


def now() -> datetime:
    return datetime.now(UTC)


def quarantine_message(engine, *, received_at: datetime) -> None:
    raw = b"From: ?\r\n\r\nnot a message"
    with session_scope(engine) as s:
        s.add(
            InboundMessage(
                message_id=f"<q-{received_at.timestamp()}@x>",
                sha256=hashlib.sha256(raw).hexdigest(),
                source="eml:/tmp/q.eml",
                received_at=received_at,
                raw=raw,
                size=len(raw),
                status="quarantined",
                reason="no From address",
            )
        )


def health(*args: str):
    return runner.invoke(app, ["health", *args])


def test_healthy_when_database_and_relay_answer_and_nothing_waits(engine, relay):
    result = health()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: database, outbox, quarantine, smtp")
    report = json.loads(health("--json").output)
    assert report["ok"] is True and {c["name"] for c in report["checks"]} >= {"database", "smtp"}


def test_smtp_relay_down_is_one_problem_line(engine, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_SMTP_PORT", str(free_port()))
    get_settings.cache_clear()
    result = health("--timeout", "2")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("smtp: relay 127.0.0.1:")
    assert "Connection refused" in lines[0]


def test_an_old_quarantined_message_is_a_problem_a_new_one_is_not(engine, relay):
    quarantine_message(engine, received_at=now() - timedelta(hours=1))
    assert health().exit_code == 0
    quarantine_message(engine, received_at=now() - timedelta(days=2))
    result = health()
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("quarantine: 2 quarantined; the oldest quarantined message arrived 2 d")
    assert line.endswith("ago (threshold 1 d)")
    assert health("--quarantine-max-age", "3d").exit_code == 0


def test_an_email_waiting_too_long_in_the_outbox(engine, relay):
    queue_many(engine, FrozenClock(now() - timedelta(hours=2)), 2)
    result = health("--outbox-max-age", "30m")
    assert result.exit_code == 1
    assert "outbox: 2 waiting, 0 failed; the oldest waiting email was queued 2 h" in result.output
    assert health("--outbox-max-age", "3h").exit_code == 0


def test_every_enabled_source_answers(engine, relay, dovecot, monkeypatch, tmp_path):  # noqa: F811
    """A real Dovecot for IMAP (login, then the folder), an SMTP listener where the worker's
    receiver would be, a Maildir with new/: health lists and passes each of them."""
    receiver = SmtpSink().start()
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    settings = {
        "IMAP_HOST": dovecot.host,
        "IMAP_PORT": str(dovecot.port),
        "IMAP_USER": dovecot.user,
        "IMAP_PASSWORD": dovecot.password,
        "IMAP_SECURITY": "plain",
        "SMTPD_PORT": str(receiver.port),
        "MAILDIR_WATCH": str(maildir),
    }
    for name, value in settings.items():
        monkeypatch.setenv(f"BACKOFFICE_{name}", value)
    get_settings.cache_clear()
    try:
        result = health()
        assert result.exit_code == 0, result.output
        assert result.output.strip().endswith("smtp, imap, smtpd, maildir")
        monkeypatch.setenv("BACKOFFICE_IMAP_PASSWORD", "wrong")
        get_settings.cache_clear()
        result = health()
        assert result.exit_code == 1
        assert result.output.startswith(f"imap: IMAP {dovecot.host}:{dovecot.port}/INBOX")
    finally:
        receiver.stop()


def test_a_dead_worker_and_a_missing_source(engine, relay, monkeypatch):
    identity = WorkerIdentity("outbox-sender", "host-a", 4242, now() - timedelta(hours=1))
    beat(engine, identity, clock=FrozenClock(now() - timedelta(minutes=10)))
    monkeypatch.setenv("BACKOFFICE_IMAP_HOST", "127.0.0.1")
    monkeypatch.setenv("BACKOFFICE_IMAP_PORT", str(free_port()))
    monkeypatch.setenv("BACKOFFICE_IMAP_SECURITY", "plain")
    get_settings.cache_clear()
    result = health("--timeout", "2")
    assert result.exit_code == 1
    problems = result.output.strip().splitlines()
    assert problems[0].startswith("worker host-a:4242:outbox-sender: silent for 10 min")
    assert problems[1].startswith("imap: IMAP 127.0.0.1:") and "does not answer" in problems[1]


def test_database_down_skips_what_needs_it(relay):
    dead = f"postgresql+psycopg://bo@127.0.0.1:{free_port()}/bo"
    result = health("--db", dead)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("database: Cannot reach the database")
    assert "outbox: not checked: the database does not answer" in lines


def seed_figures(engine) -> None:
    at = now()
    with session_scope(engine) as s:
        ticket_row(s, created_at=at - timedelta(hours=2), status="new")
        ticket_row(s, created_at=at - timedelta(days=4), status="open")
        ticket_row(
            s,
            created_at=at - timedelta(days=2),
            status="approved",
            first_response_after=timedelta(minutes=5),
            decided_after=timedelta(hours=3),
        )
        user = make_user(s, "locked", clock=lambda: at)
        s.add(
            SecondFactorThrottle(
                user_id=user.id, failures=10, blocked_until=at + timedelta(hours=1)
            )
        )
    quarantine_message(engine, received_at=at - timedelta(hours=5))
    queue_many(engine, FrozenClock(at - timedelta(minutes=7)), 1)
    beat(engine, WorkerIdentity("worker", "host-b", 77, at), clock=lambda: at)


def test_stats_json(engine):
    seed_figures(engine)
    result = runner.invoke(app, ["stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["tickets"]["by_status"] == {
        "new": 1, "open": 1, "awaiting_user": 0, "approved": 1, "denied": 0, "closed": 0,
    }  # fmt: skip
    assert data["tickets"]["received"] == {"1d": 1, "7d": 3, "30d": 3}
    assert data["tickets"]["backlog_older_than"] == {"1h": 2, "1d": 1, "3d": 1, "7d": 0}
    assert data["decision"]["count"] == 1
    assert data["decision"]["median_seconds"] == pytest.approx(3 * 3600)
    assert data["first_response"]["median_seconds"] == pytest.approx(300)
    assert data["outbox"]["queued"] == 1 and data["outbox"]["oldest_waiting_age_seconds"] > 400
    assert data["quarantine"]["count"] == 1
    assert data["lockouts"] == {"throttled": 1, "locked": 1}
    assert [w["worker_id"] for w in data["workers"]] == ["host-b:77:worker"]


def test_stats_prometheus_parses_with_the_reference_parser(engine):
    seed_figures(engine)
    result = runner.invoke(app, ["stats", "--format", "prometheus"])
    assert result.exit_code == 0, result.output
    families = {f.name: f for f in text_string_to_metric_families(result.output)}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[("backoffice_tickets", (("status", "approved"),))] == 1
    assert samples[("backoffice_tickets_open", (("status", "new"),))] == 1
    assert samples[("backoffice_tickets_open_older_than", (("age", "3d"),))] == 1
    assert samples[
        ("backoffice_ticket_decision_seconds", (("quantile", "0.5"), ("window", "7d")))
    ] == pytest.approx(3 * 3600)
    assert samples[("backoffice_outbox_emails", (("status", "queued"),))] == 1
    assert samples[("backoffice_quarantined_messages", ())] == 1
    assert samples[("backoffice_second_factor_locked_accounts", ())] == 1
    worker = (("host", "host-b"), ("kind", "worker"), ("worker", "host-b:77:worker"))
    assert samples[("backoffice_worker_up", worker)] == 1
    assert all(f.type == "gauge" for f in families.values())
    assert all(f.documentation for f in families.values())


def test_stats_written_to_a_textfile_atomically(engine, tmp_path):
    seed_figures(engine)
    target = tmp_path / "textfile" / "backoffice.prom"
    target.parent.mkdir()
    result = runner.invoke(app, ["stats", "--format", "prometheus", "--output", str(target)])
    assert result.exit_code == 0 and result.output == ""
    names = {f.name for f in text_string_to_metric_families(target.read_text())}
    assert "backoffice_outbox_emails" in names
    assert [p.name for p in target.parent.iterdir()] == ["backoffice.prom"]
