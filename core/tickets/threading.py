"""Opening tickets and threading replies into them.

A reply joins a ticket through ``In-Reply-To``/``References`` (any message of the ticket,
ours included) or a ``[#123]`` subject tag, but only when it comes from the ticket's
requester: otherwise anyone who knows a ticket number could add evidence to it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from core.audit import record_event
from core.clock import Clock, system_clock
from core.store.tables import OutboxEmail, Ticket, TicketMessage
from core.tickets.challenge import new_challenge

SUBJECT_TAG_RE = re.compile(r"\[#(\d{1,12})\]")
REOPEN_STATUSES = ("awaiting_user", "approved", "denied", "closed")
"""A requester's reply puts these back in the queue as ``open``."""


def subject_tag(ticket_id: int) -> str:
    return f"[#{ticket_id}]"


@dataclass(frozen=True)
class ThreadMatch:
    ticket: Ticket
    how: str
    """``references`` or ``subject tag``"""


def find_thread(session: Session, *, references: Sequence[str], subject: str) -> ThreadMatch | None:
    """The ticket a message answers: any referenced Message-ID we know (a ticket message or
    an email in our outbox), else a ``[#N]`` tag naming an existing ticket."""
    refs = [r for r in references if r]
    if refs:
        ticket_id = session.exec(
            select(TicketMessage.ticket_id).where(TicketMessage.message_id.in_(refs)).limit(1)
        ).first()
        if ticket_id is None:
            ticket_id = session.exec(
                select(OutboxEmail.ticket_id)
                .where(OutboxEmail.message_id.in_(refs), OutboxEmail.ticket_id.is_not(None))
                .limit(1)
            ).first()
        if ticket_id is not None:
            ticket = session.get(Ticket, ticket_id)
            if ticket is not None:
                return ThreadMatch(ticket, "references")
    for match in SUBJECT_TAG_RE.finditer(subject):
        ticket = session.get(Ticket, int(match.group(1)))
        if ticket is not None:
            return ThreadMatch(ticket, "subject tag")
    return None


def is_requester(ticket: Ticket, sender: str) -> bool:
    return ticket.requester_email.strip().lower() == sender.strip().lower()


def create_ticket(
    session: Session,
    *,
    requester_email: str,
    requester_name: str,
    subject: str,
    message_id: str | None,
    claimed_username: str | None = None,
    claimed_email: str | None = None,
    flag_reason: str | None = None,
    clock: Clock = system_clock,
) -> Ticket:
    """A new ticket in status ``new`` with a fresh signing challenge; flushed, so it has its
    number. ``flag_reason`` marks it for a person to look at before anything else."""
    now = clock()
    nonce, expires = new_challenge(now)
    ticket = Ticket(
        subject=subject[:500] or "(no subject)",
        requester_email=requester_email.lower(),
        requester_name=requester_name[:200],
        claimed_username=claimed_username,
        claimed_email=claimed_email,
        status="new",
        flagged=flag_reason is not None,
        flag_reason=flag_reason,
        challenge_nonce=nonce,
        challenge_expires_at=expires,
        created_at=now,
        updated_at=now,
        last_inbound_message_id=message_id,
    )
    session.add(ticket)
    session.flush()
    record_event(
        session,
        action="ticket.created",
        actor="inbound",
        ticket_id=ticket.id,
        details={"flagged": ticket.flagged} if ticket.flagged else None,
        clock=clock,
    )
    return ticket


def add_message(
    session: Session,
    ticket: Ticket,
    *,
    direction: str,
    message_id: str,
    from_addr: str,
    subject: str,
    body_text: str,
    attachments: list[dict[str, Any]] | None = None,
    inbound_message_id: int | None = None,
    outbox_email_id: int | None = None,
    clock: Clock = system_clock,
) -> int:
    """Append a message to the ticket's conversation (text already redacted by the caller)
    and return its id. Written with one INSERT, no ORM object: ingestion adds thousands."""
    return session.execute(
        insert(TicketMessage).returning(TicketMessage.id),
        [
            {
                "ticket_id": ticket.id,
                "inbound_message_id": inbound_message_id,
                "outbox_email_id": outbox_email_id,
                "direction": direction,
                "message_id": message_id,
                "from_addr": from_addr[:254],
                "subject": subject,
                "body_text": body_text,
                "attachments": attachments or [],
                "created_at": clock(),
            }
        ],
    ).scalar_one()


def record_reply(
    session: Session, ticket: Ticket, *, message_id: str | None, clock: Clock = system_clock
) -> bool:
    """Note the requester's reply on the ticket (version bumped, latest Message-ID kept so
    our next email threads under it); a decided, closed or waiting ticket is reopened.
    Returns True when it was reopened."""
    now = clock()
    reopened = ticket.status in REOPEN_STATUSES
    if reopened:
        record_event(
            session,
            action="ticket.reopened",
            actor="inbound",
            ticket_id=ticket.id,
            details={"from_status": ticket.status},
            clock=clock,
        )
        ticket.status = "open"
    if message_id:
        ticket.last_inbound_message_id = message_id
    ticket.updated_at = now
    ticket.version += 1
    session.add(ticket)
    return reopened
