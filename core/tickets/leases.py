"""Claims on tickets: a lease with an expiry, so one staff member works a ticket at a time.

Claiming is one conditional UPDATE (free, expired, or already ours), so two agents racing
cannot both win on SQLite or PostgreSQL. A lease is not a change of the ticket's content,
so it does not bump ``Ticket.version``. ``staff`` is the staff member's username (what
``Ticket.assignee`` and the decision services hold); audit rows name them ``staff:<name>``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, or_, update
from sqlmodel import Session

from core.audit import record_event
from core.clock import Clock, system_clock
from core.errors import NotFound, TicketAlreadyDecided, TicketLocked
from core.settings import get_settings
from core.store.tables import Ticket
from core.store.tables.tickets import OPEN_STATUSES


@dataclass(frozen=True)
class Lease:
    assignee: str
    until: datetime


def lease_holder(ticket: Ticket, *, now: datetime) -> Lease | None:
    """Who holds ``ticket`` right now, or None when it is free (or the lease ran out)."""
    if ticket.assignee and ticket.lease_until and ticket.lease_until > now:
        return Lease(ticket.assignee, ticket.lease_until)
    return None


def _load(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id, populate_existing=True)
    if ticket is None:
        raise NotFound(f"There is no ticket #{ticket_id}.")
    return ticket


def ensure_can_act(session: Session, *, ticket_id: int, staff: str, clock: Clock = system_clock):
    """Raise ``TicketLocked`` when someone other than ``staff`` holds the ticket's lease."""
    ticket = _load(session, ticket_id)
    lease = lease_holder(ticket, now=clock())
    if lease is not None and lease.assignee != staff:
        raise TicketLocked(ticket_id, lease.assignee, f"{lease.until:%H:%M} UTC")
    return ticket


def lease_allows(staff: str, now: datetime) -> ColumnElement[bool]:
    """SQL condition: no lease of another staff member is running on the ticket."""
    return or_(
        Ticket.assignee.is_(None),
        Ticket.assignee == staff,
        Ticket.lease_until.is_(None),
        Ticket.lease_until <= now,
    )


def claim_ticket(
    session: Session, *, ticket_id: int, staff: str, clock: Clock = system_clock
) -> Ticket:
    """Take (or extend) the lease for ``staff``; a ``new`` ticket becomes ``open``.
    Raises ``TicketLocked`` while another staff member's lease runs, and
    ``TicketAlreadyDecided`` on a decided ticket."""
    now = clock()
    until = now + timedelta(minutes=get_settings().ticket_lease_minutes)
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .where(Ticket.status.in_(OPEN_STATUSES))
        .where(lease_allows(staff, now))
        .values(
            assignee=staff,
            lease_until=until,
            status=case((Ticket.status == "new", "open"), else_=Ticket.status),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    ticket = _load(session, ticket_id)
    if result.rowcount != 1:
        if ticket.status not in OPEN_STATUSES:
            raise TicketAlreadyDecided(ticket_id, ticket.status)
        lease = lease_holder(ticket, now=now)
        assert lease is not None
        raise TicketLocked(ticket_id, lease.assignee, f"{lease.until:%H:%M} UTC")
    record_event(
        session,
        action="ticket.claimed",
        actor=f"staff:{staff}",
        ticket_id=ticket_id,
        user_id=ticket.user_id,
        details={"until": until.isoformat()},
        clock=clock,
    )
    return ticket


def release_ticket(
    session: Session, *, ticket_id: int, staff: str, clock: Clock = system_clock
) -> Ticket:
    """Give the ticket back; only the holder's own lease is released."""
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.assignee == staff)
        .values(assignee=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    ticket = _load(session, ticket_id)
    if result.rowcount == 1:
        record_event(
            session,
            action="ticket.released",
            actor=f"staff:{staff}",
            ticket_id=ticket_id,
            clock=clock,
        )
    return ticket
