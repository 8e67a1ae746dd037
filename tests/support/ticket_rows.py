"""Ticket rows with chosen timestamps and states, written straight into the table, for the
queue, lease, stats and staff-app tests (which must not depend on the inbound pipeline)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from core.store.tables import Ticket


def ticket_row(
    session: Session,
    *,
    created_at: datetime,
    status: str = "new",
    requester_email: str = "someone@example.org",
    claimed_username: str | None = None,
    claimed_email: str | None = None,
    evidence_strength: str = "none",
    first_response_after: timedelta | None = None,
    decided_after: timedelta | None = None,
    user_id: int | None = None,
    subject: str = "Lost my 2FA device",
) -> Ticket:
    ticket = Ticket(
        subject=subject,
        requester_email=requester_email,
        claimed_username=claimed_username,
        claimed_email=claimed_email,
        user_id=user_id,
        status=status,
        evidence_strength=evidence_strength,
        challenge_nonce="n" * 32,
        challenge_expires_at=created_at + timedelta(days=7),
        created_at=created_at,
        updated_at=created_at,
        first_response_at=created_at + first_response_after if first_response_after else None,
        decided_at=created_at + decided_after if decided_after else None,
    )
    session.add(ticket)
    session.flush()
    return ticket
