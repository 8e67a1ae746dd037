"""Two-person approval (issue #13 item 4): weak evidence (with its override reason) and staff
or high-value accounts wait for a second, different staff member; the same person can never
do both; the setting turns it off for weak evidence only; the decision and the audit say who
asked and who confirmed."""

from __future__ import annotations

import pytest
from sqlmodel import select

from core.accounts.ssh_keys import add_ssh_key
from core.decisions import approve_ticket
from core.decisions.approval_state import approval_state
from core.decisions.service import AWAITING_CONFIRMATION
from core.errors import Forbidden, InsufficientEvidence
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import AuditEvent, Ticket, User
from core.twofactor import is_enabled
from tests.support.recovery_tickets import add_evidence, enable_two_factor, make_ticket, make_user
from tests.support.signing import make_key
from tests.support.staff_members import add_staff


@pytest.fixture(autouse=True)
def two_person_on(monkeypatch):
    monkeypatch.setenv("BACKOFFICE_TWO_PERSON_WEAK_EVIDENCE", "true")
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory):
    return make_key(tmp_path_factory.mktemp("keys"), "ed25519")


@pytest.fixture
def weak_ticket(engine, clock, key_pair) -> int:
    with session_scope(engine) as s:
        add_staff(s, "sam", clock=clock)
        add_staff(s, "kim", clock=clock)
        user = make_user(s, "alice", clock=clock)
        enable_two_factor(s, user, clock=clock)
        add_ssh_key(s, user=user, public_key=key_pair.public_line, clock=clock)
        ticket = make_ticket(
            s, clock=clock, requester_email="alice@example.org", claimed_username="alice"
        )
        add_evidence(s, ticket, "ssh_public_key", key_pair.public_line, clock=clock)
        return ticket.id


def alice_enabled(engine) -> bool:
    with session_scope(engine) as s:
        return is_enabled(s, s.exec(select(User).where(User.username == "alice")).one())


def test_weak_evidence_waits_for_a_different_staff_member(engine, clock, weak_ticket):
    tid = weak_ticket
    with pytest.raises(InsufficientEvidence, match="override"), session_scope(engine) as s:
        approve_ticket(s, ticket_id=tid, staff="sam", clock=clock)
    with session_scope(engine) as s:
        first = approve_ticket(s, ticket_id=tid, staff="sam", reason="Video call", clock=clock)
    assert first.status == AWAITING_CONFIRMATION and first.first_approval_by == "staff:sam"
    assert alice_enabled(engine)
    with session_scope(engine) as s:
        ticket = s.get(Ticket, tid)
        assert ticket.status == "open" and ticket.flagged and "sam" in ticket.flag_reason
        state = approval_state(s, tid)
        assert (state.asked_by, state.confirmed_by) == ("sam", None)

    for again in ("sam", "staff:sam", "SAM"):
        with pytest.raises(Forbidden, match="different staff member"), session_scope(engine) as s:
            approve_ticket(s, ticket_id=tid, staff=again, reason="Video call", clock=clock)
    assert alice_enabled(engine)

    with session_scope(engine) as s:
        done = approve_ticket(s, ticket_id=tid, staff="kim", clock=clock)
    assert done.status == "approved" and done.staff == "kim"
    assert done.first_approval_by == "staff:sam" and done.override_reason == "Video call"
    assert not alice_enabled(engine)
    with session_scope(engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "ticket.approved")).one()
        assert event.actor == "staff:kim" and event.details["first_approval_by"] == "staff:sam"
        state = approval_state(s, tid)
        assert (state.asked_by, state.confirmed_by) == ("sam", "kim")


def test_the_setting_lets_one_person_approve_weak_evidence(engine, clock, weak_ticket, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_TWO_PERSON_WEAK_EVIDENCE", "false")
    get_settings.cache_clear()
    with session_scope(engine) as s:
        done = approve_ticket(
            s, ticket_id=weak_ticket, staff="sam", reason="Video call", clock=clock
        )
    assert done.status == "approved" and done.first_approval_by is None
    assert not alice_enabled(engine)


def test_a_high_value_account_needs_two_even_with_the_setting_off(engine, clock, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_TWO_PERSON_WEAK_EVIDENCE", "false")
    get_settings.cache_clear()
    from core.accounts.tokens import issue_token

    with session_scope(engine) as s:
        add_staff(s, "ada", role="admin", clock=clock)
        add_staff(s, "bea", role="admin", clock=clock)
        user = make_user(s, "alice", clock=clock)
        user.high_value = True
        enable_two_factor(s, user, clock=clock)
        token = issue_token(s, user=user, name="ci", clock=clock).plaintext
        ticket = make_ticket(
            s, clock=clock, requester_email="alice@example.org", claimed_username="alice"
        )
        add_evidence(s, ticket, "token", token, clock=clock)
        tid = ticket.id
    with session_scope(engine) as s:
        assert approve_ticket(s, ticket_id=tid, staff="ada", clock=clock).status == (
            AWAITING_CONFIRMATION
        )
    with pytest.raises(Forbidden, match="different admin"), session_scope(engine) as s:
        approve_ticket(s, ticket_id=tid, staff="ada", clock=clock)
    with session_scope(engine) as s:
        assert approve_ticket(s, ticket_id=tid, staff="bea", clock=clock).status == "approved"
    assert not alice_enabled(engine)
