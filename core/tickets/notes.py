"""Internal notes on a ticket: staff-only, never emailed, access tokens redacted."""

from __future__ import annotations

from sqlmodel import Session, select

from core.accounts.tokens import redact_tokens
from core.clock import Clock, system_clock
from core.errors import InvalidInput, NotFound
from core.store.tables import Ticket, TicketNote

MAX_NOTE_LENGTH = 10_000


def add_note(
    session: Session, *, ticket_id: int, author: str, body: str, clock: Clock = system_clock
) -> TicketNote:
    body = redact_tokens(body.strip())
    if not body:
        raise InvalidInput("A note cannot be empty.")
    if len(body) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"A note holds at most {MAX_NOTE_LENGTH:,} characters.")
    if session.get(Ticket, ticket_id) is None:
        raise NotFound(f"There is no ticket #{ticket_id}.")
    note = TicketNote(ticket_id=ticket_id, author=author, body=body, created_at=clock())
    session.add(note)
    session.flush()
    return note


def list_notes(session: Session, ticket_id: int) -> list[TicketNote]:
    return list(
        session.exec(
            select(TicketNote)
            .where(TicketNote.ticket_id == ticket_id)
            .order_by(TicketNote.created_at, TicketNote.id)
        )
    )
