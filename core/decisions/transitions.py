"""Moving a ticket out of (or within) the open statuses with one conditional UPDATE, so two
staff members deciding at once produce exactly one decision on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session

from core.errors import NotFound, TicketAlreadyDecided, TicketChanged, TicketLocked
from core.store.tables import Ticket
from core.store.tables.tickets import OPEN_STATUSES
from core.tickets.leases import lease_allows, lease_holder


def load_actionable(
    session: Session, *, ticket_id: int, staff: str, now: datetime, expected_version: int | None
) -> Ticket:
    """The ticket, if ``staff`` may act on it now: open, not leased to someone else, and
    (when given) still at ``expected_version``."""
    ticket = session.get(Ticket, ticket_id, populate_existing=True)
    if ticket is None:
        raise NotFound(f"There is no ticket #{ticket_id}.")
    if ticket.status not in OPEN_STATUSES:
        raise TicketAlreadyDecided(ticket_id, ticket.status)
    lease = lease_holder(ticket, now=now)
    if lease is not None and lease.assignee != staff:
        raise TicketLocked(ticket_id, lease.assignee, f"{lease.until:%H:%M} UTC")
    if expected_version is not None and ticket.version != expected_version:
        raise TicketChanged(ticket_id)
    return ticket


def transition(
    session: Session,
    ticket: Ticket,
    *,
    staff: str,
    version: int,
    now: datetime,
    values: dict[str, Any],
) -> Ticket:
    """Apply ``values`` (plus a version bump) only if the ticket is still open, at
    ``version`` and not leased to another staff member; otherwise raise the error that
    explains why (the other writer won). Run it before any other write of the unit of work,
    so on PostgreSQL the loser waits on the row lock and then finds the version moved."""
    result = session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket.id,
            Ticket.version == version,
            Ticket.status.in_(OPEN_STATUSES),
            lease_allows(staff, now),
        )
        .values(
            **values,
            version=Ticket.version + 1,
            updated_at=now,
            first_response_at=func.coalesce(Ticket.first_response_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        load_actionable(
            session, ticket_id=ticket.id, staff=staff, now=now, expected_version=version
        )
        raise TicketChanged(ticket.id)
    session.refresh(ticket)
    return ticket
