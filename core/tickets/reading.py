"""Reading tickets for people: a filtered list, and one ticket with its conversation and
evidence (both already free of secrets: tokens were masked at ingestion)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from core.errors import InvalidInput, NotFound
from core.store.tables.tickets import TICKET_STATUSES, Evidence, Ticket, TicketMessage


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"No ticket #{ticket_id}.")
    return ticket


def list_tickets(session: Session, *, status: str | None = None, limit: int = 200) -> list[Ticket]:
    """Newest first, optionally one status only."""
    query = select(Ticket).order_by(col(Ticket.id).desc()).limit(limit)
    if status is not None:
        if status not in TICKET_STATUSES:
            raise InvalidInput(f"Unknown status {status!r}; one of {', '.join(TICKET_STATUSES)}.")
        query = query.where(Ticket.status == status)
    return list(session.exec(query))


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    messages: list[TicketMessage]
    evidence: list[Evidence]


def ticket_detail(session: Session, ticket_id: int) -> TicketDetail:
    ticket = get_ticket(session, ticket_id)
    messages = session.exec(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket_id)
        .order_by(col(TicketMessage.id))
    )
    evidence = session.exec(
        select(Evidence).where(Evidence.ticket_id == ticket_id).order_by(col(Evidence.id))
    )
    return TicketDetail(ticket, list(messages), list(evidence))


TICKET_SUMMARY_FIELDS = (
    "id",
    "status",
    "subject",
    "requester_email",
    "claimed_username",
    "claimed_email",
    "flagged",
    "flag_reason",
    "evidence_strength",
    "assignee",
    "created_at",
    "updated_at",
)


def ticket_summary(ticket: Ticket) -> dict[str, Any]:
    return {name: getattr(ticket, name) for name in TICKET_SUMMARY_FIELDS}


def detail_as_dict(detail: TicketDetail) -> dict[str, Any]:
    """JSON-ready; the evidence holds public material and masked tokens only."""
    return {
        **ticket_summary(detail.ticket),
        "requester_name": detail.ticket.requester_name,
        "version": detail.ticket.version,
        "challenge_expires_at": detail.ticket.challenge_expires_at,
        "messages": [m.model_dump(exclude={"ticket_id"}) for m in detail.messages],
        "evidence": [e.model_dump(exclude={"ticket_id", "token_hash"}) for e in detail.evidence],
    }
