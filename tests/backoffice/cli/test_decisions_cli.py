"""The decision commands end to end: a recovery email ingested by the real pipeline, a
signed reply, ``tickets verify``, ``tickets approve`` and the outbox delivered over SMTP."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest
from typer.testing import CliRunner

from backoffice.cli import app
from core.accounts.ssh_keys import add_ssh_key
from core.clock import system_clock
from core.inbound.pipeline import ingest_bytes
from core.mail.sender import OutboxSender
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import Ticket
from core.tickets.challenge import challenge_text
from core.twofactor import sign_in_password
from tests.conftest import require
from tests.support.recovery_tickets import enable_two_factor, make_ticket, make_user
from tests.support.signing import SSH_KEYGEN, make_key, sign
from tests.support.smtp_sink import SmtpSink, free_port
from tests.support.staff_members import add_staff

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def mail(body: str, *, subject: str, message_id: str, in_reply_to: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "website@huggingface.co"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.set_content(body)
    return msg.as_bytes()


@pytest.fixture
def sink(monkeypatch):
    port = free_port()
    monkeypatch.setenv("BACKOFFICE_SMTP_PORT", str(port))
    get_settings.cache_clear()
    server = SmtpSink(port).start()
    yield server
    server.stop()


def test_recovery_from_email_to_approval_to_delivered_mail(engine, tmp_path, sink):
    require(SSH_KEYGEN is not None, "ssh-keygen is not installed")
    key = make_key(tmp_path, "ed25519")
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=system_clock)
        add_staff(s, "kim", clock=system_clock)
        alice = make_user(s, "alice", clock=system_clock)
        enable_two_factor(s, alice, clock=system_clock)
        add_ssh_key(s, user=alice, public_key=key.public_line)
    with session_scope(engine) as s:
        first = ingest_bytes(
            s,
            mail(
                "Hi, I lost my phone. My username is alice.",
                subject="Locked out",
                message_id="<req1@example.org>",
            ),
            source="test",
        )
    tid = first.ticket_id
    with session_scope(engine) as s:
        text = challenge_text(s.get(Ticket, tid))
    signature = sign(key, text, get_settings().sshsig_namespace)
    with session_scope(engine) as s:
        ingest_bytes(
            s,
            mail(
                f"Here is the signature:\n\n{signature}",
                subject=f"Re: [#{tid}] Locked out",
                message_id="<req2@example.org>",
                in_reply_to="<req1@example.org>",
            ),
            source="test",
        )

    verified = run("tickets", "verify", tid, "--json")
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.output)
    assert report["strength"] == "strong" and report["recommendation"] == "approve"

    approved = run("tickets", "approve", tid, "--as", "sam", "--json")
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.output)["status"] == "approved"
    again = run("tickets", "deny", tid, "--as", "kim", "--reason", "late")
    assert again.exit_code == 1 and "already approved" in again.output

    OutboxSender(engine).deliver_due()
    subjects = {m["Subject"]: m for m in sink.messages}
    approval = subjects[f"[#{tid}] Two-factor authentication was reset on your account"]
    assert approval["In-Reply-To"] == "<req2@example.org>"
    assert "<req1@example.org>" in approval["References"]
    assert any("received" in s for s in subjects)  # the acknowledgement went out too
    with session_scope(engine) as s:
        assert sign_in_password(s, login="alice", password="correct horse").complete


def test_weak_evidence_needs_reason_and_errors_are_one_line(engine, clock):
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=clock)
        make_user(s, "alice", clock=clock)
        ticket = make_ticket(
            s, clock=clock, requester_email="alice@example.org", claimed_username="alice"
        )
        tid = ticket.id
    refused = run("tickets", "approve", tid, "--as", "sam")
    assert refused.exit_code == 1
    assert "cannot be approved" in refused.output
    missing = run("tickets", "approve", 9999, "--as", "sam")
    assert missing.exit_code == 1 and "no ticket #9999" in missing.output

    preview = run("tickets", "preview", tid, "more_information_needed", "--reason", "Sign it")
    assert preview.exit_code == 0 and "Sign it" in preview.output
    asked = run("tickets", "request-info", tid, "--as", "sam", "--message", "Sign it", "--json")
    assert asked.exit_code == 0 and json.loads(asked.output)["status"] == "awaiting_user"
    denied = run("tickets", "deny", tid, "--as", "sam", "--reason", "No proof.")
    assert denied.exit_code == 0 and "denied" in denied.output
    status = run("outbox", "status", "--json")
    assert json.loads(status.output) == {"queued": 2}
