"""Several staff members deciding the same ticket at the same moment: exactly one decision,
one 2FA reset and one set of emails, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from sqlmodel import select

from core.accounts.tokens import issue_token
from core.decisions import approve_ticket, deny_ticket
from core.errors import TicketAlreadyDecided, TicketChanged
from core.store import session_scope
from core.store.tables import AuditEvent, OutboxEmail, Ticket
from tests.support.recovery_tickets import add_evidence, enable_two_factor, make_ticket, make_user
from tests.support.staff_members import add_staff

RACERS = 6


def test_concurrent_decisions_yield_exactly_one(engine, clock):
    with session_scope(engine) as s:
        for n in range(RACERS):
            add_staff(s, f"staff{n}", clock=clock)
        user = make_user(s, "alice", clock=clock)
        enable_two_factor(s, user, clock=clock)
        token = issue_token(s, user=user, name="ci", clock=clock).plaintext
        ticket = make_ticket(
            s, clock=clock, requester_email="alice@example.org", claimed_username="alice"
        )
        add_evidence(s, ticket, "token", token, clock=clock)
        tid = ticket.id

    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def decide(n: int) -> None:
        barrier.wait()
        try:
            with session_scope(engine) as s:
                if n % 2:
                    deny_ticket(s, ticket_id=tid, staff=f"staff{n}", reason="no", clock=clock)
                    result = "denied"
                else:
                    approve_ticket(s, ticket_id=tid, staff=f"staff{n}", clock=clock)
                    result = "approved"
        except (TicketAlreadyDecided, TicketChanged) as exc:
            result = type(exc).__name__
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    winners = [o for o in outcomes if o in ("approved", "denied")]
    assert len(outcomes) == RACERS and len(winners) == 1, outcomes
    with session_scope(engine) as s:
        ticket = s.get(Ticket, tid)
        assert ticket.status == winners[0] and ticket.version == 2
        events = [e.action for e in s.exec(select(AuditEvent)).all() if e.ticket_id == tid]
        mails = [m.template for m in s.exec(select(OutboxEmail)).all() if m.ticket_id == tid]
    if winners[0] == "approved":
        assert sorted(events) == ["2fa.reset_by_support", "ticket.approved", "token.revoked"]
        assert mails == ["approved"]
    else:
        assert events == ["ticket.denied"] and mails == ["denied"]
