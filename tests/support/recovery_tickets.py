"""Tickets and evidence rows made directly in the tables, so verification and decision tests
do not depend on the inbound pipeline."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from core.accounts.tokens import hash_token, mask_token
from core.accounts.users import create_user
from core.clock import Clock
from core.store.tables import Evidence, Ticket, User
from core.tickets.challenge import new_challenge


def make_user(
    session: Session, username: str, *, clock: Clock, password: str = "correct horse"
) -> User:
    return create_user(
        session, username=username, email=f"{username}@example.org", password=password, clock=clock
    )


def make_ticket(
    session: Session,
    *,
    clock: Clock,
    requester_email: str,
    claimed_username: str | None = None,
    claimed_email: str | None = None,
    subject: str = "Lost my 2FA device",
    requester_name: str = "",
    last_inbound_message_id: str | None = "<req-1@mail.example.org>",
) -> Ticket:
    now = clock()
    nonce, expires = new_challenge(now)
    ticket = Ticket(
        subject=subject,
        requester_email=requester_email,
        requester_name=requester_name,
        claimed_username=claimed_username,
        claimed_email=claimed_email,
        challenge_nonce=nonce,
        challenge_expires_at=expires,
        created_at=now,
        updated_at=now,
        status="open",
        last_inbound_message_id=last_inbound_message_id,
    )
    session.add(ticket)
    session.flush()
    return ticket


def add_evidence(
    session: Session,
    ticket: Ticket,
    kind: str,
    value: str,
    *,
    clock: Clock,
    at: datetime | None = None,
) -> Evidence:
    """An evidence row as the inbound pipeline stores it: a token only as hash + mask."""
    token_hash = None
    if kind == "token":
        token_hash, value = hash_token(value), mask_token(value[-4:])
    row = Evidence(
        ticket_id=ticket.id,
        kind=kind,
        value=value,
        token_hash=token_hash,
        created_at=at or clock(),
    )
    session.add(row)
    session.flush()
    return row


def enable_two_factor(session: Session, user: User, *, clock: Clock) -> list[str]:
    """Turn 2FA on through the core's own enrolment; returns the recovery codes."""
    from core.twofactor import begin_enrolment, confirm_enrolment
    from core.twofactor.totp import code_at_step, time_step

    provisioning = begin_enrolment(session, user=user, clock=clock)
    pin = code_at_step(provisioning.secret, time_step(clock()))
    return confirm_enrolment(session, user=user, pin=pin, clock=clock).codes
