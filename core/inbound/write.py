"""The one writer of inbound mail: a batch's plans (``plan``) become rows, each kind in as
few statements as the database allows, in the caller's transaction. Locks are taken in one
order by every batch (raw rows, acknowledgement counters by key, then tickets), so racing
ingesters wait for each other instead of deadlocking."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session

from core.accounts.tokens import redact_tokens
from core.clock import Clock
from core.inbound.new_tickets import (
    claims,
    insert_tickets,
    message_fields,
    ticket_values,
    verify_new,
)
from core.inbound.plan import Plan
from core.settings import get_settings
from core.store.bulk import insert_rows, insert_rows_returning_ids, update_rows
from core.store.tables import Evidence, InboundMessage, OutboxEmail, Ticket, TicketMessage
from core.tickets.acknowledgement import (
    acknowledgement_values,
    address_key,
    claim_acknowledgements,
)
from core.tickets.threading import record_reply
from core.verification import verify_ticket

log = logging.getLogger("core.inbound")
MESSAGES = TicketMessage.__table__


@dataclass
class IngestOutcome:
    status: str
    """ticket | threaded | duplicate | auto | bounce | quarantined"""
    message_id: str
    inbound_id: int | None = None
    ticket_id: int | None = None
    reason: str | None = None
    flagged: bool = False
    acknowledged: bool = False
    reopened: bool = False


def write(session: Session, plans: list[Plan], clock: Clock) -> list[IngestOutcome]:
    """Write every plan; their outcomes, in order."""
    now = clock()
    _claim_acknowledgements(session, plans, clock)
    openers = [p for p in plans if p.status == "ticket"]
    new = insert_tickets(
        session,
        [
            ticket_values(
                parsed=p.prep.parsed,  # type: ignore[arg-type]  (planned tickets are parsed)
                message_id=p.message_id,
                evidence=p.prep.evidence,
                flag_reason=p.flag_reason,
                now=now,
            )
            for p in openers
        ],
    )
    for plan, ticket in zip(openers, new, strict=True):
        plan.ticket_id = ticket.id
    for plan in plans:
        if plan.ticket_id is None and plan.opener is not None:
            plan.ticket_id = plan.opener.ticket_id
        if plan.ticket_id is None and plan.follows is not None:
            plan.ticket_id = plan.follows.ticket_id
    replied = _record_replies(session, [p for p in plans if p.status == "threaded"], clock)
    _attach(session, [p for p in plans if p.attach], now)
    verify_new(
        session,
        new,
        [p.prep.evidence for p in openers],
        clock,
        [a.as_dict() if (a := p.prep.authenticity) else None for p in openers],
    )
    for ticket in replied:
        verify_ticket(session, ticket, clock=clock)
    _acknowledge(
        session, [(p, t) for p, t in zip(openers, new, strict=True) if p.acknowledged], clock
    )
    outcomes = [_outcome(p) for p in plans]
    _finish(session, outcomes, now)
    return outcomes


def _claim_acknowledgements(session: Session, plans: list[Plan], clock: Clock) -> None:
    """Which new tickets get their acknowledgement: the counters decide, in plan order."""
    asking = [p for p in plans if p.acknowledge]
    if not asking:
        return
    keys = [address_key(p.requester) for p in asking]
    grants = claim_acknowledgements(session, Counter(keys), clock=clock)
    for plan, key in zip(asking, keys, strict=True):
        if grants.get(key, 0) > 0:
            grants[key] -= 1
            plan.acknowledged = True


def _record_replies(session: Session, plans: list[Plan], clock: Clock) -> list[Ticket]:
    """Each reply on its ticket (latest Message-ID, version, reopened if decided), and the
    account it names when the ticket had none; the tickets, once each."""
    tickets: dict[int, Ticket] = {}
    for plan in plans:
        ticket = plan.ticket
        if ticket is None:
            ticket = tickets.get(plan.ticket_id) or session.get(Ticket, plan.ticket_id)
            assert ticket is not None
            plan.ticket = ticket
        plan.reopened = record_reply(session, ticket, message_id=plan.message_id, clock=clock)
        named = claims(plan.prep.evidence)
        ticket.claimed_username = ticket.claimed_username or named.get("claimed_username")
        ticket.claimed_email = ticket.claimed_email or named.get("claimed_email")
        if plan.flag_reason and plan.flag_reason not in (ticket.flag_reason or ""):
            ticket.flagged = True
            ticket.flag_reason = "; ".join(filter(None, [ticket.flag_reason, plan.flag_reason]))
        tickets[ticket.id] = ticket  # type: ignore[index]
    return list(tickets.values())


def _attach(session: Session, plans: list[Plan], now) -> None:
    """The messages on their tickets and their evidence: one multi-row INSERT each."""
    if not plans:
        return
    rows = []
    for plan in plans:
        fields = message_fields(plan.prep.parsed, plan.message_id)  # type: ignore[arg-type]
        rows.append(
            {
                **fields,
                "from_addr": str(fields["from_addr"])[:254],
                "ticket_id": plan.ticket_id,
                "inbound_message_id": plan.inbound_id,
                "outbox_email_id": None,
                "direction": "in",
                "created_at": now,
                "sender_auth": _sender_auth(plan),
            }
        )
    ids = insert_rows_returning_ids(session, MESSAGES, rows)
    insert_rows(
        session,
        Evidence.__table__,
        [
            {
                "ticket_id": plan.ticket_id,
                "ticket_message_id": message_id,
                "kind": item.kind,
                "value": item.value,
                "fingerprint": item.fingerprint,
                "token_hash": item.token_hash,
                "created_at": now,
            }
            for plan, message_id in zip(plans, ids, strict=True)
            if plan.status != "bounce"
            for item in plan.prep.evidence
        ],
    )


def _sender_auth(plan: Plan) -> dict | None:
    """A request's authenticity as stored; none for a bounce (the mail server's own report
    is not the requester speaking, so it neither shows nor flags)."""
    auth = plan.prep.authenticity
    return auth.as_dict() if auth is not None and plan.status != "bounce" else None


def _acknowledge(session: Session, granted: list[tuple[Plan, object]], clock: Clock) -> None:
    """The granted acknowledgements: outbox rows and their conversation entries."""
    if not granted:
        return
    rows = []
    for plan, ticket in granted:
        real_id = None if plan.message_id.endswith("@synthetic>") else plan.message_id
        rows.append(
            acknowledgement_values(
                ticket,  # type: ignore[arg-type]  (reads only columns)
                in_reply_to=real_id,
                references=plan.prep.parsed.references if real_id else (),  # type: ignore[union-attr]
                clock=clock,
            )
        )
    insert_rows(session, OutboxEmail.__table__, rows)
    support = get_settings().support_address[:254]
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
                "from_addr": support,
                "subject": row["subject"],
                "body_text": row["body_text"],
                "attachments": [],
                "created_at": now,
            }
            for row in rows
        ],
    )


def _outcome(plan: Plan) -> IngestOutcome:
    return IngestOutcome(
        plan.status,
        plan.message_id,
        plan.inbound_id,
        plan.ticket_id,
        reason=plan.reason,
        flagged=plan.flag_reason is not None,
        acknowledged=plan.acknowledged,
        reopened=plan.reopened,
    )


def _finish(session: Session, outcomes: list[IngestOutcome], now) -> None:
    """The outcome on each stored message's raw row (one statement)."""
    update_rows(
        session,
        InboundMessage.__table__,
        [
            {
                "id": o.inbound_id,
                "status": o.status,
                "reason": o.reason,
                "ticket_id": o.ticket_id,
                "processed_at": now,
            }
            for o in outcomes
            if o.inbound_id is not None
        ],
    )


def quarantine_outcome(message_id: str, inbound_id: int, exc: Exception) -> IngestOutcome:
    """The outcome of a message whose writing failed (it is stored alone, quarantined)."""
    reason = redact_tokens(f"processing failed: {type(exc).__name__}: {exc}")[:2000]
    log.error("inbound %s: %s", redact_tokens(message_id), reason)
    return IngestOutcome("quarantined", message_id, inbound_id, reason=reason)
