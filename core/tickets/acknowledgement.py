"""The automatic "we received your request" email of a new ticket, with its signing
challenge. It is an auto-reply (RFC 3834), threads under the user's message, and one address
gets only a few per day so a mail loop or a flood cannot make us a spam cannon."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.clock import Clock, system_clock
from core.mail.outbox import outbox_values
from core.settings import get_settings
from core.store.tables import OutboxEmail, Ticket
from core.tickets.challenge import challenge_text, signing_command
from core.tickets.threading import add_message

TEMPLATE = "ticket_received"
MAX_REFERENCES = 10


def acknowledgements_sent(
    session: Session, addresses: Iterable[str], *, clock: Clock = system_clock
) -> dict[str, int]:
    """Acknowledgements queued to each address in the last 24 hours (the outbox is the
    record), in one query on the outbox's (recipient, template, time) index."""
    wanted = sorted({a.lower() for a in addresses})
    counts = dict.fromkeys(wanted, 0)
    if not wanted:
        return counts
    since = clock() - timedelta(days=1)
    rows = session.exec(
        select(OutboxEmail.to_addr, func.count())
        .where(
            col(OutboxEmail.to_addr).in_(wanted),
            OutboxEmail.template == TEMPLATE,
            OutboxEmail.created_at >= since,
            col(OutboxEmail.ticket_id).is_not(None),
        )
        .group_by(OutboxEmail.to_addr)
    )
    counts.update({email: n for email, n in rows})
    return counts


def may_acknowledge(to: str, sent_recently: int) -> bool:
    """Not to ourselves, and at most the daily number per address."""
    settings = get_settings()
    if to.lower() == settings.support_address.lower():
        return False
    return sent_recently < settings.ack_max_per_sender_per_day


def acknowledgement_values(
    ticket: Ticket,
    *,
    in_reply_to: str | None,
    references: Sequence[str] = (),
    clock: Clock = system_clock,
) -> dict[str, Any]:
    """The acknowledgement's outbox row values (rendered), without the limit check."""
    settings = get_settings()
    refs = [*references, in_reply_to] if in_reply_to else list(references)
    return outbox_values(
        template=TEMPLATE,
        to=ticket.requester_email.lower(),
        context={
            "ticket_number": ticket.id,
            "requester_name": ticket.requester_name,
            "subject": ticket.subject,
            "challenge_text": challenge_text(ticket),
            "challenge_expires": ticket.challenge_expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            "signing_command": signing_command(),
            "support_name": settings.support_name,
            "hub_url": settings.hub_url,
        },
        ticket_id=ticket.id,
        user_id=ticket.user_id,
        in_reply_to=in_reply_to,
        references=list(dict.fromkeys(refs))[-MAX_REFERENCES:],
        auto_submitted="auto-replied",
        clock=clock,
    )


def acknowledge_ticket(
    session: Session,
    ticket: Ticket,
    *,
    in_reply_to: str | None,
    references: Sequence[str] = (),
    clock: Clock = system_clock,
    sent_recently: int | None = None,
) -> OutboxEmail | None:
    """Queue the acknowledgement in the caller's transaction and add it to the ticket's
    conversation; None when the requester already got the daily maximum or is ourselves.
    ``sent_recently`` lets a batch pass a count it keeps itself instead of a query."""
    to = ticket.requester_email.lower()
    if sent_recently is None:
        sent_recently = acknowledgements_sent(session, [to], clock=clock)[to]
    if not may_acknowledge(to, sent_recently):
        return None
    email = OutboxEmail(
        **acknowledgement_values(
            ticket, in_reply_to=in_reply_to, references=references, clock=clock
        )
    )
    session.add(email)
    add_message(
        session,
        ticket,
        direction="out",
        message_id=email.message_id,
        from_addr=get_settings().support_address,
        subject=email.subject,
        body_text=email.body_text,
        clock=clock,
    )
    return email
