"""Replies thread into their ticket only from its requester; strangers get a flagged ticket."""

from __future__ import annotations

import pytest
from sqlmodel import select

from core.store import session_scope
from core.store.tables import AuditEvent, Ticket
from core.tickets.threading import find_thread, subject_tag
from tests.support.inbox import Inbox
from tests.support.mail import recovery_email
from tests.support.signing import make_key, sign

ALICE = "Alice <alice@example.com>"
MALLORY = "Mallory <mallory@example.net>"


@pytest.fixture
def inbox(engine, clock):
    return Inbox(engine, clock)


@pytest.fixture
def ticket(inbox):
    outcome = inbox.ingest(recovery_email(sender=ALICE, message_id="<first@example.com>"))
    return inbox.ticket(outcome.ticket_id)


def test_reply_by_in_reply_to_our_acknowledgement(inbox, ticket, tmp_path):
    (ack,) = inbox.outbox()
    pair = make_key(tmp_path, "ed25519")
    signature = sign(pair, "challenge", "2fa-recovery@huggingface.co")
    reply = recovery_email(
        sender="ALICE@example.com",
        subject="Re: your request",
        message_id="<reply@example.com>",
        in_reply_to=ack.message_id,
        body=f"Here you go\n{signature}",
    )
    outcome = inbox.ingest(reply)
    assert outcome.status == "threaded" and outcome.ticket_id == ticket.id
    after = inbox.ticket(ticket.id)
    assert after.version == ticket.version + 1
    assert after.last_inbound_message_id == "<reply@example.com>"
    assert after.status == "new"
    assert [e.kind for e in inbox.evidence(ticket.id)] == ["claimed_username", "ssh_signature"]
    assert len(inbox.messages(ticket.id)) == 3
    assert len(inbox.outbox()) == 1  # replies are not acknowledged


def test_reply_by_references_to_the_first_message(inbox, ticket):
    reply = recovery_email(sender=ALICE, references="<x@y> <first@example.com>")
    assert inbox.ingest(reply).ticket_id == ticket.id


def test_reply_by_subject_tag(inbox, ticket):
    reply = recovery_email(sender=ALICE, subject=f"Re: {subject_tag(ticket.id)} help")
    outcome = inbox.ingest(reply)
    assert (outcome.status, outcome.ticket_id, outcome.reason) == (
        "threaded",
        ticket.id,
        "subject tag",
    )


def test_stranger_with_subject_tag_gets_a_new_flagged_ticket(inbox, ticket):
    intruder = recovery_email(
        sender=MALLORY, subject=f"Re: {subject_tag(ticket.id)}", body="username: alice"
    )
    outcome = inbox.ingest(intruder)
    assert outcome.status == "ticket" and outcome.flagged
    assert outcome.ticket_id != ticket.id
    new = inbox.ticket(outcome.ticket_id)
    assert new.flagged and f"#{ticket.id}" in new.flag_reason
    assert new.requester_email == "mallory@example.net"
    assert [e.kind for e in inbox.evidence(ticket.id)] == ["claimed_username"]
    assert inbox.ticket(ticket.id).version == ticket.version


def test_stranger_with_references_gets_a_new_flagged_ticket(inbox, ticket):
    (ack,) = inbox.outbox()
    outcome = inbox.ingest(recovery_email(sender=MALLORY, in_reply_to=ack.message_id))
    assert outcome.flagged and outcome.ticket_id != ticket.id


def test_tag_of_a_missing_ticket_opens_a_normal_ticket(inbox):
    outcome = inbox.ingest(recovery_email(subject="Re: [#999] hello"))
    assert outcome.status == "ticket" and not outcome.flagged


@pytest.mark.parametrize("status", ["closed", "approved", "denied", "awaiting_user"])
def test_reply_reopens_a_decided_or_waiting_ticket(inbox, engine, ticket, status):
    with session_scope(engine) as s:
        row = s.get(Ticket, ticket.id)
        row.status = status
        s.add(row)
    outcome = inbox.ingest(recovery_email(sender=ALICE, in_reply_to="<first@example.com>"))
    assert outcome.status == "threaded" and outcome.reopened
    assert inbox.ticket(ticket.id).status == "open"
    with session_scope(engine, readonly=True) as s:
        actions = [a.action for a in s.exec(select(AuditEvent))]
    assert "ticket.reopened" in actions


def test_reply_may_add_a_missing_claim_but_not_replace_one(inbox, ticket):
    inbox.ingest(
        recovery_email(sender=ALICE, in_reply_to="<first@example.com>", body="username: bob")
    )
    assert inbox.ticket(ticket.id).claimed_username == "alice"
    inbox.ingest(
        recovery_email(sender=ALICE, in_reply_to="<first@example.com>", body="email: a@b.example")
    )
    assert inbox.ticket(ticket.id).claimed_email == "a@b.example"


def test_find_thread_prefers_references_over_tag(engine, inbox, ticket):
    other = inbox.ingest(recovery_email(sender="carol@example.com")).ticket_id
    with session_scope(engine, readonly=True) as s:
        match = find_thread(
            s, references=["<first@example.com>"], subject=f"Re: {subject_tag(other)}"
        )
        assert (match.ticket.id, match.how) == (ticket.id, "references")
        assert find_thread(s, references=["<nope@x>"], subject="no tag") is None
