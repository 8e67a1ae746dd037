"""The emails a decision sends: their contexts (shared by the real send and the preview
staff see before confirming) and queueing them in the ticket's conversation."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from core.accounts.password_reset import password_reset_page_url
from core.accounts.tokens import mask_token
from core.clock import Clock, system_clock
from core.errors import InvalidInput
from core.mail.outbox import queue_email
from core.settings import get_settings
from core.store.tables import AccessToken, OutboxEmail, Ticket, TicketMessage, User
from core.tickets.challenge import challenge_text, signing_command
from core.tickets.threading import add_message

DECISION_EMAILS = ("approved", "approved_requester", "denied", "more_information_needed")
MAX_REFERENCES = 10
REQUIRED_TEXT = {
    "denied": "reason for the denial",
    "more_information_needed": "message to the requester",
}
"""The decisions whose email carries staff's own words, which must not be empty."""


def require_decision_text(kind: str, text: str | None) -> str:
    """The stripped text of a denial or a request for information, or ``InvalidInput``
    (the same refusal the decision itself gives, so the preview refuses it first)."""
    text = (text or "").strip()
    if kind in REQUIRED_TEXT and not text:
        raise InvalidInput(f"A {REQUIRED_TEXT[kind]} is required.")
    return text


def _common(ticket: Ticket) -> dict[str, Any]:
    settings = get_settings()
    return {
        "ticket_id": ticket.id,
        "ticket_subject": ticket.subject,
        "requester_name": ticket.requester_name,
        "support_address": settings.support_address,
        "hub_url": settings.hub_url,
    }


def approved_context(ticket: Ticket, user: User, revoked: list[AccessToken]) -> dict[str, Any]:
    """For the account's email on file: names the account and the revoked tokens."""
    tokens = [{"name": t.name, "masked": mask_token(t.last4)} for t in revoked]
    return _common(ticket) | {
        "username": user.username,
        "revoked_tokens": tokens,
        "password_reset_url": password_reset_page_url(),
    }


def pending_reset_context(
    ticket: Ticket, user: User, revoked: list[AccessToken], *, due_at: str, cancel_url: str
) -> dict[str, Any]:
    """For the owner's address on file when the reset waits out its cooling-off: when it
    takes effect, the single-use cancel link and the tokens already revoked."""
    return approved_context(ticket, user, revoked) | {"due_at": due_at, "cancel_url": cancel_url}


def approved_requester_context(ticket: Ticket) -> dict[str, Any]:
    """For a requester who is not the account's email: no account details at all."""
    return _common(ticket)


def denied_context(ticket: Ticket, reason: str) -> dict[str, Any]:
    return _common(ticket) | {"reason": reason}


def more_information_context(ticket: Ticket, message: str) -> dict[str, Any]:
    return _common(ticket) | {
        "message": message,
        "challenge_text": challenge_text(ticket),
        "challenge_expires": f"{ticket.challenge_expires_at:%Y-%m-%d %H:%M} UTC",
        "signing_command": signing_command(),
    }


def _thread_ids(session: Session, ticket: Ticket) -> list[str]:
    ids = session.exec(
        select(TicketMessage.message_id)
        .where(TicketMessage.ticket_id == ticket.id)
        .order_by(TicketMessage.id.desc())
        .limit(MAX_REFERENCES)
    ).all()
    return list(reversed(ids))


def queue_ticket_email(
    session: Session,
    ticket: Ticket,
    *,
    template: str,
    to: str,
    context: dict[str, Any],
    user_id: int | None,
    clock: Clock = system_clock,
) -> OutboxEmail:
    """Queue an email about ``ticket`` and add it to the conversation. Mail to the
    requester threads under their latest message; mail to another address (the account's
    email on file) starts its own thread, since that mailbox never saw the request."""
    in_reply_to = None
    references: list[str] = []
    if to.lower() == ticket.requester_email.lower():
        in_reply_to = ticket.last_inbound_message_id
        references = _thread_ids(session, ticket)
        if in_reply_to and in_reply_to not in references:
            references.append(in_reply_to)
    email = queue_email(
        session,
        template=template,
        to=to,
        context=context,
        user_id=user_id,
        ticket_id=ticket.id,
        in_reply_to=in_reply_to,
        references=references[-MAX_REFERENCES:],
        clock=clock,
    )
    session.flush()
    add_message(
        session,
        ticket,
        direction="out",
        message_id=email.message_id,
        from_addr=get_settings().support_address,
        subject=email.subject,
        body_text=email.body_text,
        outbox_email_id=email.id,
        clock=clock,
    )
    return email
