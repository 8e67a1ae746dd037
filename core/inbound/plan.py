"""What to do with each stored message of a batch, decided once, before anything but the
raw rows is written: duplicate, re-delivery, quarantine, auto-reply, bounce, reply to a
ticket, or new ticket (flagged or not, to be acknowledged or not). The database is read in
a few batch-wide queries (which referenced Message-IDs belong to which ticket, the tickets
named); a message may answer one that came earlier in the same batch."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from core.accounts.tokens import redact_tokens
from core.inbound.classify import classify
from core.inbound.prepare import Prepared
from core.inbound.storage import Stored
from core.store.bulk import one_of
from core.store.tables import InboundMessage, OutboxEmail, Ticket, TicketMessage
from core.tickets.acknowledgement import may_acknowledge
from core.tickets.threading import SUBJECT_TAG_RE, is_requester

STATUSES = ("ticket", "threaded", "duplicate", "auto", "bounce", "quarantined")


@dataclass(eq=False)
class Plan:
    """One message's fate. ``ticket`` is the stored ticket it joins; ``opener`` the plan of
    this batch whose new ticket it joins instead (its id is known once written)."""

    prep: Prepared
    source: str
    inbound_id: int | None
    status: str
    reason: str | None = None
    ticket: Ticket | None = None
    opener: Plan | None = None
    ticket_id: int | None = None
    how: str | None = None
    """How a reply or bounce found its ticket: ``references`` or ``subject tag``."""
    attach: bool = False
    """Stored as a message (with its evidence) of its ticket."""
    flag_reason: str | None = None
    acknowledge: bool = False
    """A new ticket that asks for an acknowledgement (the writer claims the quota)."""
    acknowledged: bool = False
    reopened: bool = False
    follows: Plan | None = None
    """For a re-delivery of a message earlier in this batch: that message's plan."""

    @property
    def message_id(self) -> str:
        return self.prep.message_id

    @property
    def requester(self) -> str:
        """The requester of the ticket this plan opens or joins."""
        if self.ticket is not None:
            return self.ticket.requester_email
        if self.opener is not None and self.opener is not self:
            return self.opener.requester
        assert self.prep.parsed is not None
        return self.prep.parsed.from_addr.lower()


Target = Ticket | Plan


def plan_batch(
    session: Session, prepared: list[Prepared], sources: list[str], stored: list[Stored]
) -> list[Plan]:
    """One plan per message, in order (``stored`` from ``storage.store_raw``)."""
    requests = [p.parsed for p in prepared if p.parsed is not None]
    refs = {r for m in requests for r in (*m.thread_ids, *m.original_message_ids) if r}
    known = _tickets_of(session, refs)
    tags = {int(t) for m in requests for t in SUBJECT_TAG_RE.findall(m.subject)}
    tickets = _load_tickets(session, set(known.values()) | tags)
    originals = _original_tickets(
        session, [s.original_id for s in stored if s.redelivery and s.original_id]
    )
    in_batch: dict[str, Target] = {}
    by_inbound: dict[int, Plan] = {}
    plans = []
    for prep, source, where in zip(prepared, sources, stored, strict=True):
        plan = _plan(prep, source, where, known, tickets, in_batch)
        if where.redelivery and where.original_id is not None:
            plan.follows = by_inbound.get(where.original_id)
            plan.ticket_id = originals.get(where.original_id)
        if plan.attach:
            in_batch[prep.message_id] = plan.ticket or plan.opener or plan
        if plan.inbound_id is not None:
            by_inbound[plan.inbound_id] = plan
        plans.append(plan)
    return plans


def _plan(
    prep: Prepared,
    source: str,
    where: Stored,
    known: dict[str, int],
    tickets: dict[int, Ticket],
    in_batch: dict[str, Target],
) -> Plan:
    parsed = prep.parsed
    if where.inbound_id is None:
        return Plan(prep, source, None, "duplicate", "already stored")
    if where.redelivery:
        reason = f"re-delivery of inbound message {where.original_id} (same Message-ID and content)"
        return Plan(prep, source, where.inbound_id, "duplicate", reason)
    if parsed is None:
        return Plan(prep, source, where.inbound_id, "quarantined", prep.reason)
    kind = classify(parsed)
    if kind.kind != "request":
        refs = parsed.original_message_ids + parsed.thread_ids
        target, how = _thread(refs, "", known, tickets, in_batch)
        plan = Plan(prep, source, where.inbound_id, kind.kind, kind.reason, how=how)
        _join(plan, target)
        plan.attach = target is not None and kind.kind == "bounce"
        return plan
    target, how = _thread(parsed.thread_ids, parsed.subject, known, tickets, in_batch)
    plan = Plan(prep, source, where.inbound_id, "threaded", how, how=how, attach=True)
    _join(plan, target)
    if target is not None and is_requester_of(plan, parsed.from_addr):
        plan.flag_reason = _risk(prep, "A reply")
        if plan.flag_reason:
            plan.reason = f"{how}; {plan.flag_reason}"
        return plan
    plan.status, plan.reason, plan.ticket, plan.opener = "ticket", None, None, None
    reasons = []
    if target is not None:
        ticket = f"#{target.id}" if isinstance(target, Ticket) else f"of {target.message_id}"
        reasons.append(
            redact_tokens(
                f"Refers to ticket {ticket} ({how}) but comes from "
                f"{parsed.from_addr}, not its requester"
            )
        )
    if parsed.sender_problem:
        reasons.append(f"Sender address: {parsed.sender_problem}")
    risk = _risk(prep, "The first message")
    if risk:
        reasons.append(risk)
    plan.flag_reason = "; ".join(reasons) or None
    plan.reason = plan.flag_reason
    plan.opener = plan
    plan.acknowledge = parsed.sender_problem is None and may_acknowledge(parsed.from_addr)
    return plan


def _risk(prep: Prepared, what: str) -> str | None:
    """Why this request's sender is not authenticated, if it is not (a reply still threads:
    the flag on its ticket and report keeps it from joining quietly)."""
    return prep.authenticity.risk(what) if prep.authenticity else None


def _join(plan: Plan, target: Target | None) -> None:
    if isinstance(target, Ticket):
        plan.ticket, plan.ticket_id = target, target.id
    elif target is not None:
        plan.opener = target


def is_requester_of(plan: Plan, sender: str) -> bool:
    if plan.ticket is not None:
        return is_requester(plan.ticket, sender)
    return plan.requester == sender.strip().lower()


def _thread(
    refs: list[str],
    subject: str,
    known: dict[str, int],
    tickets: dict[int, Ticket],
    in_batch: dict[str, Target],
) -> tuple[Target | None, str | None]:
    """The ticket a message answers, as ``find_thread`` decides it: a referenced message
    (of this batch, or stored: ticket messages and our outbox), else a ``[#N]`` tag."""
    for ref in refs:
        if ref in in_batch:
            return in_batch[ref], "references"
    for ref in refs:
        ticket = tickets.get(known.get(ref, -1))
        if ticket is not None:
            return ticket, "references"
    for match in SUBJECT_TAG_RE.finditer(subject):
        ticket = tickets.get(int(match.group(1)))
        if ticket is not None:
            return ticket, "subject tag"
    return None, None


def _tickets_of(session: Session, refs: set[str]) -> dict[str, int]:
    """Which referenced Message-IDs belong to a ticket (one query per table)."""
    if not refs:
        return {}
    found: dict[str, int] = dict(
        session.execute(
            select(OutboxEmail.message_id, OutboxEmail.ticket_id).where(
                one_of(session, OutboxEmail.message_id, refs), OutboxEmail.ticket_id.is_not(None)
            )
        ).all()
    )
    found.update(
        session.execute(
            select(TicketMessage.message_id, TicketMessage.ticket_id).where(
                one_of(session, TicketMessage.message_id, refs)
            )
        ).all()
    )
    return found


def _load_tickets(session: Session, ids: set[int]) -> dict[int, Ticket]:
    if not ids:
        return {}
    return {
        t.id: t
        for t in session.execute(select(Ticket).where(one_of(session, Ticket.id, ids))).scalars()
    }


def _original_tickets(session: Session, inbound_ids: list[int]) -> dict[int, int]:
    """The tickets of already-written originals of this batch's re-deliveries."""
    if not inbound_ids:
        return {}
    rows = session.execute(
        select(InboundMessage.id, InboundMessage.ticket_id).where(
            one_of(session, InboundMessage.id, inbound_ids),
            InboundMessage.ticket_id.is_not(None),
        )
    )
    return dict(rows.all())
