"""Approve, deny and request-more-information on real accounts, tokens, 2FA and outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from core.accounts.ssh_keys import add_ssh_key
from core.accounts.tokens import authenticate_token, issue_token
from core.decisions import (
    approve_ticket,
    deny_ticket,
    preview_decision_email,
    request_more_information,
)
from core.errors import (
    InsufficientEvidence,
    InvalidInput,
    TicketAlreadyDecided,
    TicketChanged,
    TicketLocked,
)
from core.store import session_scope
from core.store.tables import (
    AuditEvent,
    OutboxEmail,
    RecoveryCode,
    Ticket,
    TicketMessage,
    TotpRegistration,
    User,
)
from core.tickets.threading import record_reply
from core.twofactor import is_enabled, sign_in_password
from tests.conftest import require
from tests.support.recovery_tickets import add_evidence, enable_two_factor, make_ticket, make_user
from tests.support.signing import SSH_KEYGEN, make_key
from tests.support.staff_members import add_staff


@pytest.fixture
def alice(engine, clock):
    """alice with 2FA on, a token and (returned) the token's plaintext; agents sam and kim."""
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=clock)
        add_staff(s, "kim", clock=clock)
        user = make_user(s, "alice", clock=clock)
        enable_two_factor(s, user, clock=clock)
        token = issue_token(s, user=user, name="ci-token", clock=clock)
    return {"id": user.id, "token": token.plaintext, "token_id": token.token.id}


def ticket_with(engine, clock, evidence=(), *, sender="alice@example.org", subject="Lost my phone"):
    with session_scope(engine) as s:
        ticket = make_ticket(
            s, clock=clock, requester_email=sender, claimed_username="alice", subject=subject
        )
        for kind, value in evidence:
            add_evidence(s, ticket, kind, value, clock=clock)
        return ticket.id


def outbox(engine, ticket_id=None):
    with session_scope(engine) as s:
        query = select(OutboxEmail).order_by(OutboxEmail.id)
        rows = s.exec(query).all()
    return [r for r in rows if ticket_id is None or r.ticket_id in (ticket_id, None)]


def actions(engine, ticket_id):
    with session_scope(engine) as s:
        rows = s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    return [r.action for r in rows if r.ticket_id == ticket_id]


def test_approve_resets_2fa_revokes_the_exposed_token_and_the_user_signs_in_with_a_password(
    engine, clock, alice
):
    tid = ticket_with(engine, clock, [("token", alice["token"])])
    with session_scope(engine) as s:
        assert sign_in_password(s, login="alice", password="correct horse").complete is False
    clock.advance(hours=2)
    with session_scope(engine) as s:
        decision = approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)
    assert decision.strength == "strong" and decision.revoked_token_ids == [alice["token_id"]]

    with session_scope(engine) as s:
        user = s.get(User, alice["id"])
        assert not is_enabled(s, user)
        assert s.get(TotpRegistration, user.id) is None
        assert s.exec(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all() == []
        assert authenticate_token(s, alice["token"], clock=clock) is None
        result = sign_in_password(s, login="alice", password="correct horse")
        assert result.complete is True and result.method == "password"
        ticket = s.get(Ticket, tid)
        assert ticket.status == "approved"
        assert (ticket.decided_by, ticket.decided_at) == ("sam", clock())
        assert ticket.first_response_at == clock()
        assert ticket.evidence_strength == "strong" and ticket.user_id == user.id
        outgoing = s.exec(select(TicketMessage).where(TicketMessage.direction == "out")).all()
        assert [m.subject for m in outgoing] == [
            f"[#{tid}] Two-factor authentication was reset on your account"
        ]

    assert actions(engine, tid) == ["2fa.reset_by_support", "token.revoked", "ticket.approved"]
    mails = {m.template: m for m in outbox(engine, tid)}
    assert "approved" in mails and "two_factor_reset" not in mails, "one email to the owner"
    approved = mails["approved"]
    assert approved.to_addr == "alice@example.org"
    assert f"ci-token (hf_…{alice['token'][-4:]})" in approved.body_text
    assert "revoked" in approved.body_text and alice["token"] not in approved.body_text
    assert approved.headers["In-Reply-To"] == "<req-1@mail.example.org>"


def test_a_requester_other_than_the_account_email_gets_no_account_details(engine, clock, alice):
    tid = ticket_with(engine, clock, [("token", alice["token"])], sender="alice.new@mail.example")
    with session_scope(engine) as s:
        approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)
    mails = {m.template: m for m in outbox(engine, tid)}
    to_account, to_requester = mails["approved"], mails["approved_requester"]
    assert to_account.to_addr == "alice@example.org"
    assert "In-Reply-To" not in to_account.headers
    assert to_requester.to_addr == "alice.new@mail.example"
    assert to_requester.headers["In-Reply-To"] == "<req-1@mail.example.org>"
    for body in (to_requester.body_text, to_requester.body_html, to_requester.subject):
        assert "alice@example.org" not in body and "hf_" not in body
        assert "alice " not in body.replace("alice.new", "")


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory):
    require(SSH_KEYGEN is not None, "ssh-keygen is not installed")
    return make_key(tmp_path_factory.mktemp("keys"), "ed25519")


def test_weak_evidence_needs_a_recorded_override_reason(engine, clock, alice, key_pair):
    with session_scope(engine) as s:
        add_ssh_key(s, user=s.get(User, alice["id"]), public_key=key_pair.public_line, clock=clock)
    tid = ticket_with(engine, clock, [("ssh_public_key", key_pair.public_line)])
    with session_scope(engine) as s, pytest.raises(InsufficientEvidence, match="override"):
        approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)
    with session_scope(engine) as s:
        assert s.get(Ticket, tid).status == "open"
        assert is_enabled(s, s.get(User, alice["id"]))
    with session_scope(engine) as s:
        decision = approve_ticket(
            s, ticket_id=tid, staff="sam", reason="Verified on a video call", clock=clock
        )
    assert decision.strength == "weak"
    with session_scope(engine) as s:
        ticket = s.get(Ticket, tid)
        assert ticket.decision_reason == "Verified on a video call"
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "ticket.approved")).one()
        assert event.details["override_reason"] == "Verified on a video call"
        assert event.details["strength"] == "weak"
        assert not is_enabled(s, s.get(User, alice["id"]))


def test_no_evidence_cannot_be_approved_even_with_a_reason(engine, clock, alice):
    tid = ticket_with(engine, clock, [("token", "hf_" + "z" * 34)])
    with session_scope(engine) as s, pytest.raises(InsufficientEvidence):
        approve_ticket(s, ticket_id=tid, staff="sam", reason="trust me", clock=clock)
    assert [m for m in outbox(engine) if m.ticket_id == tid] == []
    assert actions(engine, tid) == []


def test_deny_records_the_reason_and_threads_the_denial_under_the_request(engine, clock, alice):
    tid = ticket_with(engine, clock)
    with session_scope(engine) as s, pytest.raises(InvalidInput):
        deny_ticket(s, ticket_id=tid, staff="sam", reason="  ", clock=clock)
    with session_scope(engine) as s:
        deny_ticket(s, ticket_id=tid, staff="sam", reason="No proof of ownership.", clock=clock)
    with session_scope(engine) as s:
        ticket = s.get(Ticket, tid)
        assert (ticket.status, ticket.decision_reason) == ("denied", "No proof of ownership.")
        assert is_enabled(s, s.get(User, alice["id"]))
    (denied,) = [m for m in outbox(engine, tid) if m.template == "denied"]
    assert denied.to_addr == "alice@example.org"
    assert "No proof of ownership." in denied.body_text
    assert "reply to this email" in denied.body_text and f"[#{tid}]" in denied.subject
    assert denied.headers["In-Reply-To"] == "<req-1@mail.example.org>"
    assert actions(engine, tid) == ["ticket.denied"]


def test_request_more_information_waits_for_the_user_and_sends_the_challenge(engine, clock, alice):
    tid = ticket_with(engine, clock)
    with session_scope(engine) as s:
        version = s.get(Ticket, tid).version
        request_more_information(
            s, ticket_id=tid, staff="sam", message="Please sign the challenge.", clock=clock
        )
    with session_scope(engine) as s:
        ticket = s.get(Ticket, tid)
        assert ticket.status == "awaiting_user" and ticket.version == version + 1
        assert ticket.decided_at is None and ticket.first_response_at == clock()
        nonce = ticket.challenge_nonce
    (mail,) = [m for m in outbox(engine, tid) if m.template == "more_information_needed"]
    assert "Please sign the challenge." in mail.body_text and nonce in mail.body_text
    assert "ssh-keygen -Y sign" in mail.body_text


def test_a_decided_ticket_cannot_be_decided_again(engine, clock, alice):
    tid = ticket_with(engine, clock, [("token", alice["token"])])
    with session_scope(engine) as s:
        approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)
    for decide in (
        lambda s: approve_ticket(s, ticket_id=tid, staff="kim", clock=clock),
        lambda s: deny_ticket(s, ticket_id=tid, staff="kim", reason="x", clock=clock),
        lambda s: request_more_information(s, ticket_id=tid, staff="kim", message="x", clock=clock),
    ):
        with session_scope(engine) as s, pytest.raises(TicketAlreadyDecided):
            decide(s)
    # a reply reopens the ticket for conversation, but its approval never repeats
    with session_scope(engine) as s:
        record_reply(s, s.get(Ticket, tid), message_id="<thanks@mail>", clock=clock)
    with session_scope(engine) as s, pytest.raises(TicketAlreadyDecided):
        approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)


def test_a_ticket_leased_by_someone_else_is_locked(engine, clock, alice):
    tid = ticket_with(engine, clock, [("token", alice["token"])])
    with session_scope(engine) as s:
        ticket = s.get(Ticket, tid)
        ticket.assignee, ticket.lease_until = "kim", clock() + timedelta(minutes=30)
    with session_scope(engine) as s, pytest.raises(TicketLocked, match="kim"):
        approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)
    with session_scope(engine) as s, pytest.raises(TicketLocked):
        deny_ticket(s, ticket_id=tid, staff="sam", reason="no", clock=clock)
    clock.advance(minutes=31)
    with session_scope(engine) as s:
        assert approve_ticket(s, ticket_id=tid, staff="sam", clock=clock).status == "approved"


def test_the_lease_holder_may_decide(engine, clock, alice):
    tid = ticket_with(engine, clock)
    with session_scope(engine) as s:
        ticket = s.get(Ticket, tid)
        ticket.assignee, ticket.lease_until = "kim", clock() + timedelta(minutes=30)
    with session_scope(engine) as s:
        deny_ticket(s, ticket_id=tid, staff="kim", reason="Not the owner.", clock=clock)


def test_a_stale_version_is_refused(engine, clock, alice):
    tid = ticket_with(engine, clock, [("token", alice["token"])])
    with session_scope(engine) as s:
        seen = s.get(Ticket, tid).version
        record_reply(s, s.get(Ticket, tid), message_id="<more@mail>", clock=clock)
    with session_scope(engine) as s, pytest.raises(TicketChanged):
        approve_ticket(s, ticket_id=tid, staff="sam", expected_version=seen, clock=clock)
    with session_scope(engine) as s:
        approve_ticket(s, ticket_id=tid, staff="sam", expected_version=seen + 1, clock=clock)


@pytest.mark.parametrize(
    ("kind", "text", "then"),
    [
        (
            "approved",
            None,
            lambda s, tid, clock: approve_ticket(s, ticket_id=tid, staff="sam", clock=clock),
        ),
        (
            "denied",
            "Not enough proof.",
            lambda s, tid, clock: deny_ticket(
                s, ticket_id=tid, staff="sam", reason="Not enough proof.", clock=clock
            ),
        ),
        (
            "more_information_needed",
            "Sign it.",
            lambda s, tid, clock: request_more_information(
                s, ticket_id=tid, staff="sam", message="Sign it.", clock=clock
            ),
        ),
    ],
)
def test_the_preview_is_the_email_that_is_sent(engine, clock, alice, kind, text, then):
    tid = ticket_with(engine, clock, [("token", alice["token"])])
    with session_scope(engine) as s:
        preview = preview_decision_email(s, ticket_id=tid, kind=kind, reason=text, clock=clock)
    with session_scope(engine) as s:
        then(s, tid, clock)
    (sent,) = [m for m in outbox(engine, tid) if m.template == kind]
    assert (preview.subject, preview.text, preview.html) == (
        sent.subject,
        sent.body_text,
        sent.body_html,
    )
