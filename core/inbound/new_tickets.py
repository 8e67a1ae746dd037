"""New requests of an ingest batch written together: the tickets, their audit events,
messages, evidence, verification reports, acknowledgements (outbox rows) and the
acknowledgements' conversation entries, each as one multi-row INSERT instead of one ORM
flush per ticket. It writes exactly the rows the one-message path writes (``_process`` in
``pipeline``) for a request that threads into nothing; the pipeline sends only such
messages here, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.accounts.tokens import redact_tokens
from core.clock import Clock
from core.inbound.evidence import EvidenceItem
from core.inbound.parsing import ParsedMessage
from core.settings import get_settings
from core.store.bulk import insert_rows, insert_rows_returning_ids
from core.store.tables import (
    AuditEvent,
    Evidence,
    OutboxEmail,
    Ticket,
    TicketMessage,
    VerificationReportRow,
)
from core.tickets.acknowledgement import acknowledgement_values, may_acknowledge
from core.tickets.challenge import new_challenge
from core.verification import verify_ticket
from core.verification.accounts import find_users
from core.verification.service import compute_report

TICKETS = Ticket.__table__
MESSAGES = TicketMessage.__table__


@dataclass
class NewRequest:
    inbound_id: int
    message_id: str
    parsed: ParsedMessage
    evidence: list[EvidenceItem]


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


@dataclass
class Created:
    ticket_id: int
    acknowledged: bool


def message_fields(parsed: ParsedMessage, message_id: str) -> dict[str, object]:
    """A message's stored fields, tokens redacted."""
    return {
        "message_id": message_id,
        "from_addr": parsed.from_addr,
        "subject": redact_tokens(parsed.subject),
        "body_text": redact_tokens(parsed.body_text),
        "attachments": [
            {k: redact_tokens(v) if isinstance(v, str) else v for k, v in a.as_dict().items()}
            for a in parsed.attachments
        ],
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


def _ticket_values(request: NewRequest, clock: Clock) -> dict[str, Any]:
    """The columns ``create_ticket`` sets for an unflagged new ticket."""
    parsed = request.parsed
    now = clock()
    nonce, expires = new_challenge(now)
    claimed = claims(request.evidence)
    subject = redact_tokens(parsed.subject)
    return {
        "subject": subject[:500] or "(no subject)",
        "requester_email": parsed.from_addr.lower(),
        "requester_name": redact_tokens(parsed.from_name)[:200],
        "claimed_username": claimed.get("claimed_username"),
        "claimed_email": claimed.get("claimed_email"),
        "user_id": None,
        "status": "new",
        "flagged": False,
        "flag_reason": None,
        "evidence_strength": "none",
        "challenge_nonce": nonce,
        "challenge_expires_at": expires,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "last_inbound_message_id": request.message_id,
    }


def create_tickets(
    session: Session,
    requests: list[NewRequest],
    *,
    ack_counts: dict[str, int],
    clock: Clock,
    note_incoming: Callable[[str], None],
) -> list[Created]:
    """Open one ticket per request, in order. ``ack_counts`` (per lowered sender, covering
    every sender here) is the acknowledgements already sent today and is kept up to date."""
    if not requests:
        return []
    now = clock()
    ticket_rows = [_ticket_values(r, clock) for r in requests]
    ticket_ids = insert_rows_returning_ids(session, TICKETS, ticket_rows, "challenge_nonce")
    insert_rows(
        session,
        AuditEvent.__table__,
        [
            {
                "at": now,
                "action": "ticket.created",
                "actor": "inbound",
                "user_id": None,
                "ticket_id": tid,
                "details": {},
            }
            for tid in ticket_ids
        ],
    )
    message_rows = []
    for request, tid in zip(requests, ticket_ids, strict=True):
        note_incoming(request.message_id)
        fields = message_fields(request.parsed, request.message_id)
        message_rows.append(
            {
                **fields,
                "from_addr": str(fields["from_addr"])[:254],
                "ticket_id": tid,
                "inbound_message_id": request.inbound_id,
                "outbox_email_id": None,
                "direction": "in",
                "created_at": now,
            }
        )
    message_ids = insert_rows_returning_ids(session, MESSAGES, message_rows, "ticket_id")
    evidence_rows = [
        {
            "ticket_id": tid,
            "ticket_message_id": mid,
            "kind": item.kind,
            "value": item.value,
            "fingerprint": item.fingerprint,
            "token_hash": item.token_hash,
            "created_at": now,
        }
        for request, tid, mid in zip(requests, ticket_ids, message_ids, strict=True)
        for item in request.evidence
    ]
    insert_rows(session, Evidence.__table__, evidence_rows)

    tickets = [NewTicket(id=tid, **row) for tid, row in zip(ticket_ids, ticket_rows, strict=True)]
    _verify(session, tickets, requests, clock)
    return _acknowledge(session, tickets, requests, ack_counts, clock)


def _verify(
    session: Session, tickets: list[NewTicket], requests: list[NewRequest], clock: Clock
) -> None:
    """Verify each new ticket. The accounts every ticket names are fetched in one query; a
    ticket that names no account gets its report without further queries (no evidence can
    be checked), the others go through ``verify_ticket`` on the stored rows."""
    logins = [
        login
        for t in tickets
        for login in (t.claimed_username, t.claimed_email, t.requester_email)
        if login
    ] + [e.value for r in requests for e in r.evidence if e.kind.startswith("claimed_")]
    users = find_users(session, logins)
    report_rows = []
    for ticket, request in zip(tickets, requests, strict=True):
        claimed = [e for e in request.evidence if e.kind.startswith("claimed_")]
        report = compute_report(session, ticket, clock=clock, users=users, evidence=claimed)  # type: ignore[arg-type]
        if report.user_id is not None or report.strength != ticket.evidence_strength:
            stored = session.get(Ticket, ticket.id)
            assert stored is not None
            verify_ticket(session, stored, clock=clock, new=True, users=users)
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


def _acknowledge(
    session: Session,
    tickets: list[NewTicket],
    requests: list[NewRequest],
    ack_counts: dict[str, int],
    clock: Clock,
) -> list[Created]:
    created = []
    outbox_rows = []
    for ticket, request in zip(tickets, requests, strict=True):
        to = ticket.requester_email
        acknowledged = may_acknowledge(to, ack_counts[to])
        if acknowledged:
            real_id = None if request.message_id.endswith("@synthetic>") else request.message_id
            outbox_rows.append(
                acknowledgement_values(
                    ticket,  # type: ignore[arg-type]  (reads only columns)
                    in_reply_to=real_id,
                    references=request.parsed.references if real_id else (),
                    clock=clock,
                )
            )
            ack_counts[to] += 1
        created.append(Created(ticket.id or 0, acknowledged))
    if outbox_rows:
        insert_rows(session, OutboxEmail.__table__, outbox_rows)
        support = get_settings().support_address
        now = clock()
        insert_rows(
            session,
            MESSAGES,
            [
                {
                    "ticket_id": row["ticket_id"],
                    "inbound_message_id": None,
                    "outbox_email_id": None,
                    "direction": "out",
                    "message_id": row["message_id"],
                    "from_addr": support[:254],
                    "subject": row["subject"],
                    "body_text": row["body_text"],
                    "attachments": [],
                    "created_at": now,
                }
                for row in outbox_rows
            ],
        )
    return created
