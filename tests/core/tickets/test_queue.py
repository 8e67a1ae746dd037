"""The queue query: oldest first, filters, search, paging and capped counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.accounts.users import create_user
from core.store import session_scope
from core.store.tables import Ticket
from core.tickets import queue
from core.tickets.leases import claim_ticket
from core.tickets.queue import UNASSIGNED, QueueFilter, queue_page, status_counts
from tests.support.ticket_rows import ticket_row


@pytest.fixture
def tickets(engine, clock):
    """Eight tickets, one hour apart, oldest first: ids[0] is the oldest."""
    now = clock()
    with session_scope(engine) as s:
        alice = create_user(s, username="alice", email="alice@example.org", password="pw" * 6)
        spec = [
            ("new", "none", "x@example.org", None),
            ("open", "weak", "alice@example.org", None),
            ("approved", "strong", "y@example.org", None),
            ("awaiting_user", "strong", "z@example.org", "Bob"),
            ("denied", "none", "q@example.org", None),
            ("new", "weak", "w@example.org", "carol"),
            ("closed", "none", "v@example.org", None),
            ("new", "strong", "u@example.org", None),
        ]
        ids = [
            ticket_row(
                s,
                created_at=now - timedelta(hours=10 - i),
                status=status,
                evidence_strength=strength,
                requester_email=email,
                claimed_username=claimed,
                user_id=alice.id if email.startswith("alice") else None,
            ).id
            for i, (status, strength, email, claimed) in enumerate(spec)
        ]
    return ids


def page(engine, clock, **kw):
    with session_scope(engine, readonly=True) as s:
        return queue_page(s, QueueFilter(**kw), clock=clock)


def ids_of(result):
    return [r.id for r in result.rows]


def test_default_is_open_tickets_oldest_first(engine, clock, tickets):
    result = page(engine, clock)
    assert ids_of(result) == [tickets[0], tickets[1], tickets[3], tickets[5], tickets[7]]
    assert result.total.value == 5 and not result.total.capped
    assert result.rows[0].age == timedelta(hours=10)
    assert result.rows[1].claimed_account == "alice"
    assert {k: c.value for k, c in result.status_counts.items()} == {
        "new": 3,
        "open": 1,
        "awaiting_user": 1,
        "approved": 1,
        "denied": 1,
        "closed": 1,
    }


def test_filters(engine, clock, tickets):
    assert ids_of(page(engine, clock, statuses=("approved",))) == [tickets[2]]
    assert ids_of(page(engine, clock, statuses=())) == tickets
    assert ids_of(page(engine, clock, evidence=("strong",))) == [tickets[3], tickets[7]]
    assert ids_of(page(engine, clock, older_than_hours=7)) == [tickets[0], tickets[1], tickets[3]]
    with session_scope(engine) as s:
        claim_ticket(s, ticket_id=tickets[5], staff="ann", clock=clock)
    assert ids_of(page(engine, clock, assignee="ann")) == [tickets[5]]
    assert tickets[5] not in ids_of(page(engine, clock, assignee=UNASSIGNED))
    clock.advance(hours=1)  # the lease ran out
    assert ids_of(page(engine, clock, assignee="ann")) == []


def test_search(engine, clock, tickets):
    any_status = {"statuses": ()}
    assert ids_of(page(engine, clock, search=f"#{tickets[4]}", **any_status)) == [tickets[4]]
    assert ids_of(page(engine, clock, search=str(tickets[2]), **any_status)) == [tickets[2]]
    assert ids_of(page(engine, clock, search="Y@Example.org", **any_status)) == [tickets[2]]
    assert ids_of(page(engine, clock, search="alice", **any_status)) == [tickets[1]]
    assert ids_of(page(engine, clock, search="carol", **any_status)) == [tickets[5]]
    assert ids_of(page(engine, clock, search="Bob", **any_status)) == [tickets[3]]
    assert ids_of(page(engine, clock, search="nobody", **any_status)) == []


def test_paging_and_capped_counts(engine, clock, tickets, monkeypatch):
    with session_scope(engine, readonly=True) as s:
        first = queue_page(s, QueueFilter(statuses=()), page=1, page_size=3, clock=clock)
        third = queue_page(s, QueueFilter(statuses=()), page=3, page_size=3, clock=clock)
        assert ids_of(first) == tickets[:3] and ids_of(third) == tickets[6:]
        assert first.pages == 3
        counts = status_counts(s, cap=2)
        assert str(counts["new"]) == "2+" and str(counts["open"]) == "1"
        assert status_counts(s, cap=2, grouped=True) == counts
        searched = [Ticket.requester_email.in_(["x@example.org", "w@example.org"])]
        assert status_counts(s, searched, cap=1, grouped=True) == status_counts(s, searched, cap=1)
        assert str(status_counts(s, searched, cap=1)["new"]) == "1+"
    assert queue.COUNT_CAP == 1_000


def test_risk_filters_read_only_the_latest_report(engine, clock, tickets):
    """A flag or recommendation of an older report no longer counts once a newer report
    says otherwise; a flag raised at ingestion always does."""
    from core.store.tables import Ticket, VerificationReportRow

    def report(ticket_id: int, recommendation: str, flags: list[str]) -> VerificationReportRow:
        return VerificationReportRow(
            ticket_id=ticket_id,
            computed_at=clock(),
            strength="none",
            recommendation=recommendation,
            report={"flags": flags},
        )

    new, open_, _, waiting, *_ = tickets
    with session_scope(engine) as s:
        s.add_all([report(new, "deny", ["sender differs"]), report(open_, "approve", [])])
        s.flush()
        s.add_all([report(new, "approve", []), report(open_, "deny", ["evidence for bob"])])
        s.get(Ticket, waiting).flagged = True
    assert ids_of(page(engine, clock, flagged_only=True)) == [open_, waiting]
    assert ids_of(page(engine, clock, recommendations=("deny",))) == [open_]
    assert ids_of(page(engine, clock, recommendations=("approve", "review"))) == [new]
    counts = page(engine, clock, statuses=(), flagged_only=True).status_counts
    assert {s: c.value for s, c in counts.items() if c.value} == {"open": 1, "awaiting_user": 1}
