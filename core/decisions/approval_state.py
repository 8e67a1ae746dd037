"""Where a ticket's approval stands, for the staff ticket page: who gave the first approval,
who confirmed it, and the 2FA reset it scheduled (due time, pending/applied/cancelled)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.decisions.pending_resets import PendingResetView, reset_for_ticket
from core.decisions.service import APPROVED_ACTION, FIRST_APPROVAL_ACTION
from core.staff.authorization import staff_username
from core.store.tables import AuditEvent, Ticket


@dataclass(frozen=True)
class ApprovalState:
    asked_by: str | None
    """Staff username of the first approval still standing (or that the approval confirmed)."""
    asked_at: datetime | None
    confirmed_by: str | None
    reason: str | None
    """Why two people were needed."""
    reset: PendingResetView | None


def _latest(session: Session, ticket_id: int, action: str) -> AuditEvent | None:
    return session.exec(
        select(AuditEvent)
        .where(AuditEvent.ticket_id == ticket_id, AuditEvent.action == action)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()


def approval_state(session: Session, ticket_id: int) -> ApprovalState | None:
    """None when nobody has approved the ticket (or a first approval was voided by a change
    to the ticket since)."""
    approved = _latest(session, ticket_id, APPROVED_ACTION)
    first = _latest(session, ticket_id, FIRST_APPROVAL_ACTION)
    if approved is not None:
        asked = (approved.details or {}).get("first_approval_by")
        return ApprovalState(
            asked_by=staff_username(asked) if asked else None,
            asked_at=first.at if asked and first else None,
            confirmed_by=staff_username(approved.actor) if asked else None,
            reason=(approved.details or {}).get("two_person"),
            reset=reset_for_ticket(session, ticket_id),
        )
    ticket = session.get(Ticket, ticket_id)
    if first is None or ticket is None or (first.details or {}).get("version") != ticket.version:
        return None
    return ApprovalState(
        asked_by=staff_username(first.actor),
        asked_at=first.at,
        confirmed_by=None,
        reason=(first.details or {}).get("reason"),
        reset=None,
    )
