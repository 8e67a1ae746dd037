"""Outbox mail as the Mail page shows it: recent rows by status, and putting a failed email
back in the queue. Delivery itself stays with ``core.mail``."""

from __future__ import annotations

from sqlmodel import Session, select

from core.audit import record_event
from core.clock import Clock, system_clock
from core.errors import InvalidInput, NotFound
from core.staff.authorization import authorize_actor
from core.store.tables import OutboxEmail

OUTBOX_STATUSES = ("queued", "sending", "sent", "failed")


def recent_outbox(
    session: Session, *, statuses: tuple[str, ...] = (), limit: int = 100
) -> list[OutboxEmail]:
    """Newest first (by id, the primary key), optionally only some statuses."""
    stmt = select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)
    if statuses:
        stmt = stmt.where(OutboxEmail.status.in_(statuses))
    return list(session.exec(stmt))


def retry_email(
    session: Session, *, email_id: int, actor: str, clock: Clock = system_clock
) -> OutboxEmail:
    """Queue a failed email again, due now, with a fresh attempt budget; same Message-ID,
    so a recipient's client still sees one email if an earlier try did arrive. ``actor`` is
    an agent or admin (``staff:NAME``, verified now) or the operator's shell; else ``Forbidden``."""
    actor = authorize_actor(session, actor, "mail.retry")
    row = session.get(OutboxEmail, email_id)
    if row is None:
        raise NotFound(f"There is no outbox email {email_id}.")
    if row.status != "failed":
        raise InvalidInput(f"Email {email_id} is {row.status}; only a failed email is retried.")
    row.status = "queued"
    row.attempts = 0
    row.next_attempt_at = clock()
    row.claimed_by = None
    row.claimed_until = None
    session.add(row)
    record_event(
        session,
        action="outbox.retried",
        actor=actor,
        user_id=row.user_id,
        ticket_id=row.ticket_id,
        details={"email_id": row.id, "last_error": (row.last_error or "")[:200]},
        clock=clock,
    )
    return row
