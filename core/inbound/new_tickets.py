"""The new tickets of an ingest batch: their rows and audit events, each kind in one
multi-row INSERT, and their verification (reports in one INSERT; the few tickets it
resolves to an account go through ``verify_ticket``). ``write`` calls it for every new
ticket, however many a batch holds (one for ``ingest_bytes``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.accounts.tokens import redact_tokens
from core.clock import Clock
from core.inbound.evidence import EvidenceItem
from core.inbound.parsing import ParsedMessage
from core.store.bulk import insert_rows, insert_rows_returning_ids
from core.store.tables import (
    AuditEvent,
    Ticket,
    VerificationReportRow,
)
from core.tickets.challenge import new_challenge
from core.verification import verify_ticket
from core.verification.accounts import find_users
from core.verification.service import compute_report

TICKETS = Ticket.__table__


@dataclass
class NewTicket:
    """A ticket of the batch as it was inserted: the columns verification and the
    acknowledgement read. Loading the batch's tickets back as ORM objects, which the
    session then watches until commit, cost ~45 us per message; the few tickets that
    verification changes go through ``verify_ticket`` on their loaded row."""

    id: int
    subject: str
    requester_email: str
    requester_name: str
    claimed_username: str | None
    claimed_email: str | None
    user_id: int | None
    status: str
    flagged: bool
    flag_reason: str | None
    evidence_strength: str
    challenge_nonce: str
    challenge_expires_at: datetime
    created_at: datetime
    updated_at: datetime
    version: int
    last_inbound_message_id: str


def message_fields(parsed: ParsedMessage, message_id: str) -> dict[str, object]:
    """A message's stored fields (``parsed`` as ``prepare`` gives it: tokens redacted)."""
    return {
        "message_id": message_id,
        "from_addr": parsed.from_addr,
        "subject": parsed.subject,
        "body_text": parsed.body_text,
        "attachments": [a.as_dict() for a in parsed.attachments],
        "reading_notes": [redact_tokens(note) for note in parsed.notes] or None,
    }


def claims(evidence: list[EvidenceItem]) -> dict[str, str]:
    """The first claimed username and email, cut to their column sizes."""
    found: dict[str, str] = {}
    for item in evidence:
        if item.kind in ("claimed_username", "claimed_email"):
            found.setdefault(
                item.kind, item.value[: 96 if item.kind == "claimed_username" else 254]
            )
    return found


def ticket_values(
    *,
    parsed: ParsedMessage,
    message_id: str,
    evidence: list[EvidenceItem],
    flag_reason: str | None,
    now: datetime,
) -> dict[str, Any]:
    """A new ticket's columns: status ``new``, a fresh signing challenge, the first claims
    (``parsed`` redacted by ``prepare``)."""
    nonce, expires = new_challenge(now)
    claimed = claims(evidence)
    return {
        "subject": parsed.subject[:500] or "(no subject)",
        "requester_email": parsed.from_addr.lower()[:254],
        "requester_name": parsed.from_name[:200],
        "claimed_username": claimed.get("claimed_username"),
        "claimed_email": claimed.get("claimed_email"),
        "user_id": None,
        "status": "new",
        "flagged": flag_reason is not None,
        "flag_reason": flag_reason,
        "evidence_strength": "none",
        "challenge_nonce": nonce,
        "challenge_expires_at": expires,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "last_inbound_message_id": message_id,
    }


def insert_tickets(session: Session, rows: list[dict[str, Any]]) -> list[NewTicket]:
    """Insert ``ticket_values`` rows and their ``ticket.created`` events; the tickets as
    inserted, in order."""
    if not rows:
        return []
    ids = insert_rows_returning_ids(session, TICKETS, rows)
    insert_rows(
        session,
        AuditEvent.__table__,
        [
            {
                "at": row["created_at"],
                "action": "ticket.created",
                "actor": "inbound",
                "user_id": None,
                "ticket_id": tid,
                "details": {"flagged": True} if row["flagged"] else {},
            }
            for tid, row in zip(ids, rows, strict=True)
        ],
    )
    return [NewTicket(id=tid, **row) for tid, row in zip(ids, rows, strict=True)]


def verify_new(
    session: Session,
    tickets: list[NewTicket],
    evidence: list[list[EvidenceItem]],
    clock: Clock,
    senders: list[dict[str, Any] | None],
) -> None:
    """Verify each new ticket (``evidence`` and its first message's ``senders`` entry per
    ticket). The accounts every ticket names
    are fetched in one query; a ticket that names no account gets its report without further
    queries (no evidence can be checked), the others go through ``verify_ticket`` on the
    stored rows, and the inserted values follow what it changed."""
    logins = [
        login
        for t in tickets
        for login in (t.claimed_username, t.claimed_email, t.requester_email)
        if login
    ] + [e.value for items in evidence for e in items if e.kind.startswith("claimed_")]
    users = find_users(session, logins)
    report_rows = []
    for ticket, items, sender in zip(tickets, evidence, senders, strict=True):
        claimed = [e for e in items if e.kind.startswith("claimed_")]
        report = compute_report(
            session,
            ticket,  # type: ignore[arg-type]  (reads only columns)
            clock=clock,
            users=users,
            evidence=claimed,  # type: ignore[arg-type]
            senders=[sender],
        )
        if report.user_id is not None or report.strength != ticket.evidence_strength:
            stored = session.get(Ticket, ticket.id)
            assert stored is not None
            verify_ticket(session, stored, clock=clock, new=True, users=users, senders=[sender])
            ticket.user_id, ticket.evidence_strength = stored.user_id, stored.evidence_strength
            continue
        report_rows.append(
            {
                "ticket_id": report.ticket_id,
                "computed_at": report.computed_at,
                "user_id": None,
                "strength": report.strength,
                "recommendation": report.recommendation,
                "report": report.to_dict(),
            }
        )
    insert_rows(session, VerificationReportRow.__table__, report_rows)
