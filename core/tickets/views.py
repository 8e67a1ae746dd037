"""The Ticket page's read model: one ticket with its conversation, evidence, notes, the
verification report, the account snapshot and who holds it, as plain dataclasses. Every
mail-supplied text here is data to show literally; access tokens are redacted again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from core.accounts.snapshot import AccountSnapshot, account_snapshot
from core.accounts.tokens import redact_tokens
from core.clock import Clock, system_clock
from core.inbound.evidence_kind import EvidenceKind
from core.store.tables import Evidence, OutboxEmail, TicketMessage
from core.tickets.leases import Lease, lease_holder
from core.tickets.notes import list_notes
from core.tickets.reading import get_ticket
from core.tickets.status import TicketStatus
from core.verification import VerificationReport, compute_report
from core.verification.sender_authenticity import SenderAuthenticity

if TYPE_CHECKING:
    from core.decisions.approval_state import ApprovalState


@dataclass(frozen=True)
class MessageView:
    inbound: bool
    """True for the requester's mail, False for ours."""
    sender: str
    recipient: str
    subject: str
    body: str
    attachments: tuple[str, ...]
    at: datetime
    authenticity: str | None = None
    """SPF/DKIM/DMARC in plain words for the requester's mail; None for ours and for mail
    stored before they were read."""
    reading_notes: tuple[str, ...] = ()
    """Where a bound made the reading of the requester's mail simpler than the full one."""


@dataclass(frozen=True)
class EvidenceView:
    kind: str
    label: str
    value: str
    fingerprint: str | None


@dataclass(frozen=True)
class NoteView:
    author: str
    body: str
    at: datetime


@dataclass(frozen=True)
class TicketView:
    id: int
    subject: str
    status: TicketStatus
    requester_email: str
    requester_name: str
    created_at: datetime
    flagged: bool
    flag_reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    version: int
    lease: Lease | None
    messages: list[MessageView]
    evidence: list[EvidenceView]
    notes: list[NoteView]
    report: VerificationReport
    account: AccountSnapshot | None
    approval: ApprovalState | None = None
    """Who approved, who confirmed, and the 2FA reset it scheduled (None: nobody yet)."""

    @property
    def is_open(self) -> bool:
        return self.status.is_open


def ticket_view(session: Session, ticket_id: int, *, clock: Clock = system_clock) -> TicketView:
    """Raises ``NotFound`` for an unknown ticket."""
    ticket = get_ticket(session, ticket_id)
    now = clock()
    rows = session.exec(
        select(TicketMessage, OutboxEmail.to_addr)
        .outerjoin(OutboxEmail, OutboxEmail.id == TicketMessage.outbox_email_id)
        .where(TicketMessage.ticket_id == ticket_id)
        .order_by(col(TicketMessage.id))
    ).all()
    messages = [
        MessageView(
            inbound=m.direction == "in",
            sender=m.from_addr,
            recipient=(to_addr or ticket.requester_email) if m.direction == "out" else "support",
            subject=redact_tokens(m.subject),
            body=redact_tokens(m.body_text),
            attachments=tuple(str(a.get("filename") or "(no name)") for a in m.attachments),
            at=m.created_at,
            authenticity=_authenticity(m.sender_auth),
            reading_notes=tuple(redact_tokens(note) for note in m.reading_notes or ()),
        )
        for m, to_addr in rows
    ]
    evidence = [
        EvidenceView(e.kind, EvidenceKind.label_of(e.kind), redact_tokens(e.value), e.fingerprint)
        for e in session.exec(
            select(Evidence).where(Evidence.ticket_id == ticket_id).order_by(col(Evidence.id))
        )
    ]
    from core.decisions.approval_state import approval_state  # decisions build on tickets

    senders = [m.sender_auth for m, _ in rows if m.direction == "in"]
    report = compute_report(session, ticket, clock=clock, senders=senders)
    return TicketView(
        id=ticket.id,
        subject=redact_tokens(ticket.subject),
        status=TicketStatus(ticket.status),
        requester_email=ticket.requester_email,
        requester_name=ticket.requester_name,
        created_at=ticket.created_at,
        flagged=ticket.flagged,
        flag_reason=ticket.flag_reason,
        decided_by=ticket.decided_by,
        decided_at=ticket.decided_at,
        decision_reason=ticket.decision_reason,
        version=ticket.version,
        lease=lease_holder(ticket, now=now),
        messages=messages,
        evidence=evidence,
        notes=[
            NoteView(n.author, redact_tokens(n.body), n.created_at)
            for n in list_notes(session, ticket_id)
        ],
        report=report,
        account=account_snapshot(session, report.user_id, now=now) if report.user_id else None,
        approval=approval_state(session, ticket_id),
    )


def _authenticity(stored: dict | None) -> str | None:
    auth = SenderAuthenticity.from_dict(stored)
    return auth.words() if auth else None
