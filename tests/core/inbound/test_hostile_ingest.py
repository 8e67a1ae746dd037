"""Issue #11 through the whole pipeline, on SQLite and PostgreSQL: crafted mail of each
class ends as the right ticket, bounce or quarantine, with the right text stored, and no
acknowledgement ever goes to a sender that is not an address."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from core.accounts.users import create_user
from core.mail.message import build_message
from core.store import session_scope
from core.store.tables import Ticket
from core.tickets.acknowledgement import may_acknowledge
from core.verification import verify_ticket
from tests.support import hostile_mail
from tests.support.inbox import Inbox
from tests.support.mail import recovery_email

DATA = Path(__file__).parents[2] / "data" / "mail"


@pytest.mark.parametrize(
    "sender",
    ["Test test@example.com", "power quadrant system@example.com", "Claudia.Shu@yahoo.com."],
)
def test_an_invalid_sender_opens_a_flagged_ticket_and_gets_no_acknowledgement(inbox, sender):
    raw = f"From: {sender}\r\nSubject: locked out\r\nMessage-ID: <s@x.org>\r\n\r\nhelp\r\n"
    outcome = inbox.ingest(raw.encode())
    assert outcome.status == "ticket" and outcome.flagged and not outcome.acknowledged
    ticket = inbox.ticket(outcome.ticket_id)
    assert ticket.flagged and "not an email address" in ticket.flag_reason
    assert inbox.outbox() == []


def test_the_first_valid_from_is_the_requester_and_is_acknowledged(inbox):
    outcome = inbox.ingest((DATA / "several-from-headers.eml").read_bytes())
    assert outcome.status == "ticket" and outcome.acknowledged and not outcome.flagged
    assert inbox.ticket(outcome.ticket_id).requester_email == "frank@example.com"
    assert [m.to_addr for m in inbox.outbox()] == ["frank@example.com"]


def test_a_dsn_from_mailer_daemon_is_a_bounce_not_a_quarantine(inbox):
    outcome = inbox.ingest((DATA / "postfix-dsn-mailer-daemon.eml").read_bytes())
    assert outcome.status == "bounce"
    assert inbox.outbox() == []


def test_charsets_are_stored_as_read(inbox):
    outcome = inbox.ingest((DATA / "foxmail-gb2312-label-gbk-bytes.eml").read_bytes())
    ticket = inbox.ticket(outcome.ticket_id)
    assert (ticket.subject, ticket.requester_name) == ("账户被锁定", "王磊")
    (message,) = [m for m in inbox.messages(ticket.id) if m.direction == "in"]
    assert "特色服务" in message.body_text and "ÌØÉ«" not in message.body_text


def test_a_key_inside_apple_mails_alternative_becomes_evidence(inbox):
    outcome = inbox.ingest((DATA / "apple-mail-key-in-alternative.eml").read_bytes())
    (message,) = [m for m in inbox.messages(outcome.ticket_id) if m.direction == "in"]
    assert [a["filename"] for a in message.attachments] == ["id_ed25519.pub"]
    kinds = {e.kind for e in inbox.evidence(outcome.ticket_id)}
    assert kinds == {"claimed_username", "ssh_public_key"}


def test_a_quoted_claim_is_not_stored(inbox):
    outcome = inbox.ingest((DATA / "outlook-reply-quoting-other-account.eml").read_bytes())
    ticket = inbox.ticket(outcome.ticket_id)
    assert ticket.claimed_username is None and ticket.claimed_email is None
    assert inbox.evidence(ticket.id) == []


def test_control_characters_are_stored_clean_and_the_acknowledgement_builds(inbox):
    subject = "=?utf-8?b?" + base64.b64encode(b"Hi\x00\x07 there\x1b").decode() + "?="
    outcome = inbox.ingest(recovery_email(subject=subject, body="line\x00one"))
    ticket = inbox.ticket(outcome.ticket_id)
    assert ticket.subject == "Hi there"
    assert inbox.messages(ticket.id)[0].body_text == "lineone"
    (ack,) = inbox.outbox()
    assert build_message(ack)["To"] == "alice@example.com"


@pytest.mark.parametrize(
    "shape,size,status",
    [
        ("many-parts", 200_000, "quarantined"),
        ("deep-rfc822", 50_000, "quarantined"),
        ("nested-lists-html", 20_000, "ticket"),
        ("encoded-word-subject", 500_000, "ticket"),
        ("long-content-type", 200_000, "ticket"),
    ],
)
def test_hostile_shapes_end_as_a_ticket_or_a_quarantine_with_the_reason(inbox, shape, size, status):
    outcome = inbox.ingest(hostile_mail.SHAPES[shape](size))
    assert outcome.status == status
    (stored,) = inbox.inbound()
    assert stored.status == status
    if status == "quarantined":
        assert stored.reason and stored.raw


def test_a_claim_preferred_over_the_senders_own_account_is_said_on_the_report(engine, clock):
    with session_scope(engine) as s:
        create_user(
            s, username="alice", email="alice@example.com", password="pw-alice-1", clock=clock
        )
        create_user(s, username="bob", email="bob@example.org", password="pw-bob-123", clock=clock)
    inbox = Inbox(engine, clock)
    outcome = inbox.ingest(recovery_email(sender="Bob <bob@example.org>", body="username: alice"))
    with session_scope(engine) as s:
        report = verify_ticket(s, s.get(Ticket, outcome.ticket_id), clock=clock)
    assert report.username == "alice"
    assert any("belongs to another account (bob)" in f and "preferred" in f for f in report.flags)
    assert report.recommendation != "approve"


def test_an_auto_reply_from_an_invalid_sender_is_recorded_as_automatic(inbox):
    raw = (
        b"From: Out of office autoreply@example.com.\r\nAuto-Submitted: auto-replied\r\n"
        b"Subject: Away\r\n\r\nI am away\r\n"
    )
    assert inbox.ingest(raw).status == "auto"
    assert inbox.outbox() == []


@pytest.mark.parametrize(
    "to", ["Test test@example.com", "Claudia.Shu@yahoo.com.", "mailer-daemon", "", "a@b@c"]
)
def test_the_acknowledgement_never_goes_to_what_is_not_an_address(to):
    assert may_acknowledge(to) is False
    assert may_acknowledge("alice@example.com") is True
