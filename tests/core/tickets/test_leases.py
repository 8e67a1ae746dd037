"""Claims: a lease with an expiry, and a conditional UPDATE so two agents cannot both win."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from core.errors import TicketAlreadyDecided, TicketLocked
from core.store import session_scope
from core.store.tables import AuditEvent, Ticket
from core.tickets.leases import claim_ticket, ensure_can_act, lease_holder, release_ticket
from core.tickets.notes import add_note, list_notes
from tests.support.ticket_rows import ticket_row


@pytest.fixture
def ticket_id(engine, clock):
    with session_scope(engine) as s:
        return ticket_row(s, created_at=clock() - timedelta(hours=1)).id


def test_claim_sets_lease_and_opens_ticket(engine, clock, ticket_id):
    with session_scope(engine) as s:
        ticket = claim_ticket(s, ticket_id=ticket_id, staff="ann", clock=clock)
        assert ticket.status == "open"
        lease = lease_holder(ticket, now=clock())
        assert lease.assignee == "ann"
        assert lease.until == clock() + timedelta(minutes=30)
    with session_scope(engine) as s:
        assert list(s.exec(select(AuditEvent.action))) == ["ticket.claimed"]


def test_second_agent_sees_holder_until_expiry(engine, clock, ticket_id):
    with session_scope(engine) as s:
        claim_ticket(s, ticket_id=ticket_id, staff="ann", clock=clock)
    with session_scope(engine) as s, pytest.raises(TicketLocked, match="ann"):
        claim_ticket(s, ticket_id=ticket_id, staff="bob", clock=clock)
    with session_scope(engine) as s, pytest.raises(TicketLocked):
        ensure_can_act(s, ticket_id=ticket_id, staff="bob", clock=clock)
    with session_scope(engine) as s:
        ensure_can_act(s, ticket_id=ticket_id, staff="ann", clock=clock)
        claim_ticket(s, ticket_id=ticket_id, staff="ann", clock=clock)  # extends
    clock.advance(minutes=31)
    with session_scope(engine) as s:
        ticket = claim_ticket(s, ticket_id=ticket_id, staff="bob", clock=clock)
        assert ticket.assignee == "bob"


def test_release_only_by_holder(engine, clock, ticket_id):
    with session_scope(engine) as s:
        claim_ticket(s, ticket_id=ticket_id, staff="ann", clock=clock)
        release_ticket(s, ticket_id=ticket_id, staff="bob", clock=clock)
        assert s.get(Ticket, ticket_id).assignee == "ann"
        ticket = release_ticket(s, ticket_id=ticket_id, staff="ann", clock=clock)
        assert lease_holder(ticket, now=clock()) is None


def test_decided_ticket_cannot_be_claimed(engine, clock):
    with session_scope(engine) as s:
        tid = ticket_row(s, created_at=clock(), status="approved").id
    with session_scope(engine) as s, pytest.raises(TicketAlreadyDecided):
        claim_ticket(s, ticket_id=tid, staff="ann", clock=clock)


def test_racing_claims_have_one_winner(engine, clock, ticket_id):
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def claim(name: str) -> None:
        barrier.wait()
        try:
            with session_scope(engine) as s:
                claim_ticket(s, ticket_id=ticket_id, staff=name, clock=clock)
            outcomes.append("won")
        except TicketLocked:
            outcomes.append("locked")

    threads = [threading.Thread(target=claim, args=(f"a{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["locked", "locked", "locked", "won"]


def test_notes_are_redacted_and_ordered(engine, clock, ticket_id):
    token = "hf_" + "a" * 30 + "WXYZ"
    with session_scope(engine) as s:
        add_note(s, ticket_id=ticket_id, author="ann", body=f"user pasted {token}", clock=clock)
        clock.advance(seconds=1)
        add_note(s, ticket_id=ticket_id, author="bob", body="second", clock=clock)
    with session_scope(engine) as s:
        notes = list_notes(s, ticket_id)
    assert [n.author for n in notes] == ["ann", "bob"]
    assert token not in notes[0].body and "hf_…WXYZ" in notes[0].body
