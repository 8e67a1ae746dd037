"""The Mail page's read models: recent outbox rows with the words for their status and
template, and the count of rows per status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from core.mail.outbox_status import OutboxStatus
from core.mail.templates import template_label
from core.store.tables import OutboxEmail


@dataclass(frozen=True)
class OutboxLine:
    id: int
    status: OutboxStatus
    template: str
    what: str
    """The template in words ("Approval", "Security notice: 2FA enabled")."""
    to_addr: str
    subject: str
    attempts: int
    ticket_id: int | None
    queued_at: datetime
    sent_at: datetime | None
    error: str | None


def outbox_lines(
    session: Session, *, statuses: tuple[str, ...] = (), limit: int = 100
) -> list[OutboxLine]:
    """Newest first, optionally only some statuses."""
    stmt = select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)
    if statuses:
        stmt = stmt.where(OutboxEmail.status.in_(statuses))
    return [
        OutboxLine(
            id=r.id,
            status=OutboxStatus(r.status),
            template=r.template,
            what=template_label(r.template),
            to_addr=r.to_addr,
            subject=r.subject,
            attempts=r.attempts,
            ticket_id=r.ticket_id,
            queued_at=r.created_at,
            sent_at=r.sent_at,
            error=r.last_error,
        )
        for r in session.exec(stmt)
    ]


def outbox_counts(session: Session) -> dict[OutboxStatus, int]:
    """Rows per status, every status present (zero when none)."""
    counts = dict(
        session.exec(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all()
    )
    return {s: int(counts.get(s.value, 0)) for s in OutboxStatus}
