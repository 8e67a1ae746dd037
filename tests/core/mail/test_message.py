"""Header values that come from users cannot add headers or recipients."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from core.decisions import request_more_information
from core.errors import HeaderInjection
from core.mail.message import build_message
from core.mail.outbox import queue_email
from core.mail.samples import sample_context
from core.mail.sender import OutboxSender
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import OutboxEmail
from tests.support.recovery_tickets import make_ticket
from tests.support.staff_members import add_staff


def row(**overrides) -> OutboxEmail:
    values = dict(
        message_id="<abc@huggingface.co>",
        template="denied",
        to_addr="user@example.org",
        subject="Hello",
        body_text="text",
        body_html="<p>html</p>",
        headers={},
        created_at=datetime(2026, 11, 28, tzinfo=UTC),
        next_attempt_at=datetime(2026, 11, 28, tzinfo=UTC),
    )
    return OutboxEmail(**(values | overrides))


def test_the_same_row_builds_the_same_message():
    assert build_message(row()).as_bytes() == build_message(row()).as_bytes()


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": "Hello\r\nBcc: attacker@evil.example"},
        {"subject": "Hello\nX-Injected: yes"},
        {"to_addr": "user@example.org\r\nBcc: attacker@evil.example"},
        {"to_addr": "user@example.org, attacker@evil.example"},
        {"to_addr": "Victim <user@example.org>"},
        {"headers": {"Bcc": "attacker@evil.example"}},
        {"headers": {"In-Reply-To": "<a@b>\r\nBcc: attacker@evil.example"}},
        {"headers": {"Auto-Submitted": "auto-replied\nBcc: attacker@evil.example"}},
        {"message_id": "<abc@huggingface.co>\nBcc: attacker@evil.example"},
    ],
)
def test_header_injection_attempts_are_refused(overrides):
    with pytest.raises(HeaderInjection):
        build_message(row(**overrides))


def test_malformed_thread_ids_from_user_mail_are_dropped_not_fatal():
    message = build_message(row(headers={"References": "<ok@x.org> not-an-id <also@y.org>"}))
    assert message["References"] == "<ok@x.org> <also@y.org>"


def test_a_ticket_subject_with_injected_headers_reaches_one_recipient_only(engine, clock, sink):
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=clock)
        ticket = make_ticket(
            s,
            clock=clock,
            requester_email="someone@example.org",
            claimed_username="nobody",
            subject="Help\r\nBcc: attacker@evil.example\r\nX-Injected: yes",
            requester_name="Eve\r\nBcc: attacker@evil.example",
        )
        request_more_information(
            s, ticket_id=ticket.id, staff="sam", message="Which account?", clock=clock
        )
    assert OutboxSender(engine, clock=clock).deliver_due().sent == 1
    (message,) = sink.messages
    assert sink.handler.envelopes[0][1] == ["someone@example.org"]
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert (
        message["Subject"] == f"Re: Help Bcc: attacker@evil.example X-Injected: yes [#{ticket.id}]"
    )


def test_queue_email_refuses_a_recipient_with_a_line_break(engine, clock):
    with session_scope(engine) as s, pytest.raises(ValueError):
        queue_email(
            s,
            template="denied",
            to="user@example.org\r\nBcc: attacker@evil.example",
            context=sample_context("denied"),
            clock=clock,
        )
    with session_scope(engine) as s:
        assert s.exec(select(OutboxEmail)).all() == []


def test_a_row_that_cannot_be_built_fails_without_touching_the_server(engine, clock, sink):
    with session_scope(engine) as s:
        bad = queue_email(
            s,
            template="denied",
            to="user@example.org",
            context=sample_context("denied"),
            clock=clock,
        )
        bad.to_addr = "user@example.org, attacker@evil.example"
    result = OutboxSender(engine, clock=clock).deliver_due()
    assert result.failed == 1 and sink.messages == []
    with session_scope(engine) as s:
        stored = s.exec(select(OutboxEmail)).one()
        assert stored.status == "failed" and "refused to build" in stored.last_error


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\x0b"])
def test_a_control_character_in_a_subject_is_cleaned_not_fatal(control):
    message = build_message(row(subject=f"Locked{control}out", body_text="text"))
    assert message["Subject"] == "Locked out"
    assert build_message(row(subject=f"Locked{control}out")).as_bytes()


def test_a_stored_subject_with_control_characters_still_gets_its_decision_email(
    engine, clock, sink
):
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=clock)
        ticket = make_ticket(
            s,
            clock=clock,
            requester_email="someone@example.org",
            subject="Help\x01 me\x1b[31m now\x07",  # PostgreSQL stores no NUL
        )
        request_more_information(
            s, ticket_id=ticket.id, staff="sam", message="Which account?", clock=clock
        )
    assert OutboxSender(engine, clock=clock).deliver_due().sent == 1
    (message,) = sink.messages
    assert message["Subject"] == f"Re: Help me [31m now [#{ticket.id}]"


def test_a_sealed_row_that_does_not_open_fails_alone_and_the_rest_are_sent(
    engine, clock, sink, monkeypatch
):
    """A reset link sealed under a key that has since changed can never be sent: the row
    fails with the reason (not a crash, not endless retries) and the others go out."""
    with session_scope(engine) as s:
        for to in ("a@example.org", "b@example.org"):
            queue_email(
                s,
                template="denied",
                to=to,
                context=sample_context("denied"),
                clock=clock,
                sealed=to.startswith("a"),
            )
    monkeypatch.setenv("BACKOFFICE_SECRET_KEY", "a key the row was not sealed with")
    get_settings.cache_clear()
    result = OutboxSender(engine, clock=clock).deliver_due()
    assert (result.sent, result.failed) == (1, 1) and len(sink.messages) == 1
    with session_scope(engine) as s:
        failed = s.exec(select(OutboxEmail).where(OutboxEmail.status == "failed")).one()
        assert failed.to_addr == "a@example.org" and "sealed body" in failed.last_error
