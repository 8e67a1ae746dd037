"""Data lifecycle: the raw bytes of mail (and so its attachments, which live only there)
are kept while a ticket may still need them and removed once the ticket has been decided
for long enough. Tickets, their plain-text thread, evidence, decisions and the audit trail
stay; an inbound row keeps its SHA-256, size and headers' summary, so a re-delivery is still
recognised. Quarantined mail is never touched (it waits for a person).

Work goes in batches, each its own transaction with its audit event; each batch's UPDATE
names only rows that still hold bytes, so two runs at once count every message once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.sql import ColumnElement

from core.audit import record_event
from core.clock import Clock, system_clock
from core.errors import InvalidInput
from core.store.engine import session_scope
from core.store.tables import InboundMessage, Ticket

DECIDED_STATUSES = ("approved", "denied", "closed")
UNATTACHED_STATUSES = ("duplicate", "auto", "bounce")
"""Mail that opened no ticket and will never be answered: it ages out on its own date."""
BATCH_SIZE = 500


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime
    dry_run: bool
    messages: int
    bytes: int
    tickets: int


def _expired(cutoff: datetime) -> ColumnElement[bool]:
    decided_before_cutoff = select(Ticket.id).where(
        Ticket.status.in_(DECIDED_STATUSES),
        func.coalesce(Ticket.decided_at, Ticket.updated_at) < cutoff,
    )
    return and_(
        func.length(InboundMessage.raw) > 0,
        InboundMessage.status != "quarantined",
        or_(
            InboundMessage.ticket_id.in_(decided_before_cutoff),
            and_(
                InboundMessage.ticket_id.is_(None),
                InboundMessage.status.in_(UNATTACHED_STATUSES),
                InboundMessage.received_at < cutoff,
            ),
        ),
    )


def remove_raw_mail(
    engine: Engine,
    *,
    older_than: timedelta,
    dry_run: bool = False,
    actor: str = "system:retention",
    batch_size: int = BATCH_SIZE,
    clock: Clock = system_clock,
) -> RetentionReport:
    """Empty the raw bytes of mail whose ticket was decided more than ``older_than`` ago
    (and of unattached auto-replies, bounces and duplicates received that long ago); with
    ``dry_run`` only count what would go."""
    if older_than < timedelta(days=1):
        raise InvalidInput("Retention keeps at least one day of mail (--older-than 1d or more).")
    cutoff = clock() - older_than
    expired = _expired(cutoff)
    if dry_run:
        with session_scope(engine, readonly=True) as session:
            messages, size, tickets = session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(InboundMessage.size), 0),
                    func.count(func.distinct(InboundMessage.ticket_id)),
                ).where(expired)
            ).one()
        return RetentionReport(cutoff, True, int(messages), int(size), int(tickets))
    messages = size = 0
    tickets: set[int] = set()
    while True:
        with session_scope(engine) as session:
            ids = list(
                session.execute(
                    select(InboundMessage.id)
                    .where(expired)
                    .order_by(InboundMessage.id)
                    .limit(batch_size)
                ).scalars()
            )
            if not ids:
                break
            removed = session.execute(
                update(InboundMessage)
                .where(InboundMessage.id.in_(ids), func.length(InboundMessage.raw) > 0)
                .values(raw=b"")
                .returning(InboundMessage.size, InboundMessage.ticket_id)
            ).all()
            batch_bytes = sum(row.size for row in removed)
            record_event(
                session,
                action="retention.raw_mail_removed",
                actor=actor,
                details={
                    "messages": len(removed),
                    "bytes": batch_bytes,
                    "cutoff": cutoff.isoformat(),
                    "first_id": ids[0],
                    "last_id": ids[-1],
                },
                clock=clock,
            )
        messages += len(removed)
        size += batch_bytes
        tickets.update(row.ticket_id for row in removed if row.ticket_id is not None)
    return RetentionReport(cutoff, False, messages, size, len(tickets))
