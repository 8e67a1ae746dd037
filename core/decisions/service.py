"""Approve, deny or ask for more: each is one unit of work (state change, account changes,
audit events and emails in one transaction) guarded by the ticket's version."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from core.accounts.tokens import revoke_token
from core.audit import record_event
from core.clock import Clock, system_clock
from core.decisions import emails
from core.decisions.pending_resets import cooling_off as configured_cooling_off
from core.decisions.pending_resets import schedule_reset
from core.decisions.transitions import load_actionable, transition
from core.errors import (
    Forbidden,
    InsufficientEvidence,
    InvalidInput,
    NotFound,
    TicketAlreadyDecided,
)
from core.mail.render import RenderedEmail, render_email
from core.settings import get_settings
from core.staff.authorization import StaffRef, authorize
from core.staff.identity import StaffIdentity
from core.store.tables import AccessToken, AuditEvent, OutboxEmail, StaffMember, Ticket, User
from core.twofactor import reset_two_factor
from core.verification import VerificationReport, compute_report, store_report

APPROVED_ACTION = "ticket.approved"
FIRST_APPROVAL_ACTION = "ticket.approval_awaiting_confirmation"
AWAITING_CONFIRMATION = "awaiting_confirmation"
"""``Decision.status`` of a first approval that needs a second person: nothing changed yet."""
WEAK_EVIDENCE_REASON = "approved on weak evidence with an override"


@dataclass(frozen=True)
class Decision:
    """What a decision did, for the face to show."""

    ticket_id: int
    status: str
    staff: str
    at: datetime
    version: int
    strength: str | None = None
    override_reason: str | None = None
    revoked_token_ids: list[int] = field(default_factory=list)
    email_ids: list[int] = field(default_factory=list)
    reset_due_at: datetime | None = None
    """When the 2FA reset takes effect, if it waits out a cooling-off (else it is done)."""
    first_approval_by: str | None = None


def _required(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(f"A {what} is required.")
    return text


def _approved_before(session: Session, ticket_id: int) -> bool:
    """A reply reopens a decided ticket; its approval (a 2FA reset) must still not repeat."""
    return (
        session.exec(
            select(AuditEvent.id).where(
                AuditEvent.ticket_id == ticket_id, AuditEvent.action == APPROVED_ACTION
            )
        ).first()
        is not None
    )


def _approvable(report: VerificationReport, override_reason: str | None) -> None:
    if report.user_id is None:
        raise InsufficientEvidence("No single account is resolved for this ticket.")
    if report.strength == "strong":
        return
    if report.strength == "weak" and override_reason:
        return
    if report.strength == "weak":
        raise InsufficientEvidence(
            "Only weak evidence (public key material); approving needs an override reason."
        )
    raise InsufficientEvidence("No evidence matches the account; it cannot be approved.")


def high_value_reason(session: Session, user: User) -> str | None:
    """Why resetting ``user`` needs two people (a staff account, or an account marked high
    value), else None."""
    if session.get(StaffMember, user.id) is not None:
        return f"{user.username} is a staff account"
    if user.high_value:
        return f"{user.username} is marked as a high-value account"
    return None


@dataclass(frozen=True)
class TwoPerson:
    """Why an approval needs a second person, and what the confirmer must be allowed."""

    why: str
    confirm_action: str
    confirmer: str


def two_person_rule(session: Session, user: User, report: VerificationReport) -> TwoPerson | None:
    """Staff and high-value accounts always take a first approval and an admin's
    confirmation; weak evidence (approved with an override) takes a different deciding staff
    member's confirmation unless ``two_person_weak_evidence`` is off."""
    why = high_value_reason(session, user)
    if why is not None:
        return TwoPerson(why, "confirm_high_value", "admin")
    if report.strength == "weak" and get_settings().two_person_weak_evidence:
        return TwoPerson(WEAK_EVIDENCE_REASON, "decide", "staff member")
    return None


def _first_approval(session: Session, ticket: Ticket) -> AuditEvent | None:
    """The pending first approval, if it was given on the ticket as it is now (any change
    since, such as a new email, voids it: the confirmer must see what the approver saw)."""
    event = session.exec(
        select(AuditEvent)
        .where(AuditEvent.ticket_id == ticket.id, AuditEvent.action == FIRST_APPROVAL_ACTION)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if event is None or (event.details or {}).get("version") != ticket.version:
        return None
    return event


def _hold_for_confirmation(
    session: Session,
    ticket: Ticket,
    *,
    member: StaffIdentity,
    rule: TwoPerson,
    report: VerificationReport,
    override: str | None,
    now: datetime,
    clock: Clock,
) -> Decision:
    """First approval of a two-person reset: flag the ticket, record who approved on which
    version, change no account. A different staff member allowed ``rule.confirm_action``
    must confirm (``approve_ticket`` again)."""
    transition(
        session,
        ticket,
        staff=member.username,
        version=ticket.version,
        now=now,
        values={
            "flagged": True,
            "flag_reason": f"Two-person approval ({rule.why}): approved by "
            f"{member.username}, awaiting confirmation by a different {rule.confirmer}.",
        },
    )
    store_report(session, report)
    record_event(
        session,
        action=FIRST_APPROVAL_ACTION,
        actor=member.actor,
        user_id=report.user_id,
        ticket_id=ticket.id,
        details={
            "version": ticket.version,
            "reason": rule.why,
            "strength": report.strength,
            "override_reason": override,
        },
        clock=clock,
    )
    return Decision(
        ticket_id=ticket.id,
        status=AWAITING_CONFIRMATION,
        staff=member.username,
        at=now,
        version=ticket.version,
        strength=report.strength,
        override_reason=override,
        first_approval_by=member.actor,
    )


def _exposed_tokens(session: Session, report: VerificationReport) -> list[AccessToken]:
    return [session.get(AccessToken, tid) for tid in report.exposed_token_ids]


def approve_ticket(
    session: Session,
    *,
    ticket_id: int,
    staff: StaffRef,
    reason: str | None = None,
    expected_version: int | None = None,
    cooling_off: timedelta | None = None,
    clock: Clock = system_clock,
) -> Decision:
    """Approve on strong evidence (or weak evidence with ``reason`` as the recorded
    override): reset the account's 2FA, revoke the access tokens the ticket exposed, mark
    the ticket approved, audit it and queue the approval email(s). ``staff`` must be an
    active agent or admin. A staff or high-value account (and weak evidence, see
    ``two_person_rule``) takes two people: the first approval only flags the ticket (status
    ``awaiting_confirmation``) and a different staff member confirms by approving it again;
    the same person never does both. With a cooling-off (``reset_cooling_off_hours`` > 0)
    the 2FA reset is scheduled, not done: the owner is emailed a cancel link and a worker
    applies it when due (``pending_resets``); ``cooling_off`` overrides the setting. Raises
    ``Forbidden``, ``InsufficientEvidence``, ``TicketAlreadyDecided``, ``TicketLocked``,
    ``TicketChanged``."""
    now = clock()
    member = authorize(session, staff, "decide")
    staff = member.username
    ticket = load_actionable(
        session, ticket_id=ticket_id, staff=staff, now=now, expected_version=expected_version
    )
    if _approved_before(session, ticket_id):
        raise TicketAlreadyDecided(ticket_id, "approved")
    first = _first_approval(session, ticket)
    override = (reason or "").strip() or None
    if first is not None:  # the confirmer confirms the first approver's override
        override = override or (first.details or {}).get("override_reason")
    report = compute_report(session, ticket, clock=clock)
    _approvable(report, override)
    user = session.get(User, report.user_id)
    confirmation: dict[str, Any] = {}
    rule = two_person_rule(session, user, report)
    if rule is not None:
        if first is None:
            return _hold_for_confirmation(
                session,
                ticket,
                member=member,
                rule=rule,
                report=report,
                override=override,
                now=now,
                clock=clock,
            )
        if first.actor == member.actor:
            raise Forbidden(
                f"{rule.why}: you gave the first approval; a different {rule.confirmer} "
                "must confirm it."
            )
        authorize(session, member, rule.confirm_action)
        confirmation = {"first_approval_by": first.actor, "two_person": rule.why}
        if rule.confirm_action == "confirm_high_value":
            confirmation["high_value"] = rule.why
    transition(
        session,
        ticket,
        staff=staff,
        version=ticket.version,
        now=now,
        values={
            "status": "approved",
            "decided_at": now,
            "decided_by": staff,
            "decision_reason": override,
            "user_id": user.id,
            "evidence_strength": report.strength,
        },
    )
    store_report(session, report)
    actor = f"staff:{staff}"
    tokens = _exposed_tokens(session, report)
    delay = configured_cooling_off() if cooling_off is None else cooling_off
    delayed = delay.total_seconds() > 0
    if not delayed:
        reset_two_factor(
            session, user=user, actor=actor, ticket_id=ticket_id, notify=False, clock=clock
        )
    for token in tokens:
        revoke_token(
            session,
            user=user,
            token_id=token.id,
            actor=actor,
            reason=f"exposed in support ticket #{ticket_id}",
            ticket_id=ticket_id,
            clock=clock,
        )
    record_event(
        session,
        action=APPROVED_ACTION,
        actor=actor,
        user_id=user.id,
        ticket_id=ticket_id,
        details={
            "strength": report.strength,
            "override_reason": override,
            "checks": [f"{c.name}:{c.result}: {c.reason}" for c in report.checks],
            "flags": report.flags,
            "revoked_tokens": [{"id": t.id, "last4": t.last4} for t in tokens],
            **confirmation,
        },
        clock=clock,
    )
    pending = None
    queued: list[OutboxEmail] = []
    if delayed:
        pending, notice = schedule_reset(
            session,
            ticket=ticket,
            user=user,
            actor=actor,
            delay=delay,
            revoked=tokens,
            clock=clock,
        )
        queued.append(notice)
    else:
        queued.append(
            emails.queue_ticket_email(
                session,
                ticket,
                template="approved",
                to=user.email,
                context=emails.approved_context(ticket, user, tokens),
                user_id=user.id,
                clock=clock,
            )
        )
    if ticket.requester_email.lower() != user.email:
        queued.append(
            emails.queue_ticket_email(
                session,
                ticket,
                template="approved_requester",
                to=ticket.requester_email,
                context=emails.approved_requester_context(ticket),
                user_id=None,
                clock=clock,
            )
        )
    return Decision(
        ticket_id=ticket_id,
        status="approved",
        staff=staff,
        at=now,
        version=ticket.version,
        strength=report.strength,
        override_reason=override,
        revoked_token_ids=[t.id for t in tokens],
        email_ids=[e.id for e in queued],
        reset_due_at=pending.due_at if pending else None,
        first_approval_by=confirmation.get("first_approval_by"),
    )


def _answer_requester(
    session: Session,
    *,
    ticket_id: int,
    member: StaffIdentity,
    expected_version: int | None,
    clock: Clock,
    values: dict[str, Any],
    action: str,
    details: dict[str, Any],
    template: str,
    context: Callable[[Ticket], dict[str, Any]],
) -> Decision:
    """A decision that changes no account: the guarded transition, its audit event and one
    email to the requester, threaded under their last message."""
    now = clock()
    staff = member.username
    ticket = load_actionable(
        session, ticket_id=ticket_id, staff=staff, now=now, expected_version=expected_version
    )
    transition(session, ticket, staff=staff, version=ticket.version, now=now, values=values)
    record_event(
        session,
        action=action,
        actor=f"staff:{staff}",
        user_id=ticket.user_id,
        ticket_id=ticket_id,
        details=details | {"strength": ticket.evidence_strength},
        clock=clock,
    )
    email = emails.queue_ticket_email(
        session,
        ticket,
        template=template,
        to=ticket.requester_email,
        context=context(ticket),
        user_id=None,
        clock=clock,
    )
    return Decision(
        ticket_id=ticket_id,
        status=values["status"],
        staff=staff,
        at=now,
        version=ticket.version,
        strength=ticket.evidence_strength,
        email_ids=[email.id],
    )


def deny_ticket(
    session: Session,
    *,
    ticket_id: int,
    staff: StaffRef,
    reason: str,
    expected_version: int | None = None,
    clock: Clock = system_clock,
) -> Decision:
    """Deny with a reason (sent to the requester, with how to follow up); nothing changes on
    any account. ``staff`` must be an active agent or admin (else ``Forbidden``)."""
    reason = _required(reason, "reason for the denial")
    member = authorize(session, staff, "decide")
    now = clock()
    return _answer_requester(
        session,
        ticket_id=ticket_id,
        member=member,
        expected_version=expected_version,
        clock=clock,
        values={
            "status": "denied",
            "decided_at": now,
            "decided_by": member.username,
            "decision_reason": reason,
        },
        action="ticket.denied",
        details={"reason": reason},
        template="denied",
        context=lambda ticket: emails.denied_context(ticket, reason),
    )


def request_more_information(
    session: Session,
    *,
    ticket_id: int,
    staff: StaffRef,
    message: str,
    expected_version: int | None = None,
    clock: Clock = system_clock,
) -> Decision:
    """Ask the requester for more (the email repeats the signing challenge); the ticket
    waits for the user (``awaiting_user``) until they reply."""
    message = _required(message, "message to the requester")
    return _answer_requester(
        session,
        ticket_id=ticket_id,
        member=authorize(session, staff, "decide"),
        expected_version=expected_version,
        clock=clock,
        values={"status": "awaiting_user"},
        action="ticket.more_information_requested",
        details={"message": message[:2000]},
        template="more_information_needed",
        context=lambda ticket: emails.more_information_context(ticket, message),
    )


def preview_decision_email(
    session: Session,
    *,
    ticket_id: int,
    kind: str,
    reason: str | None = None,
    clock: Clock = system_clock,
) -> RenderedEmail:
    """The email a decision would send, rendered from the same context, without queueing.
    ``kind`` is one of ``DECISION_EMAILS``; ``reason`` is the denial reason or, for
    ``more_information_needed``, the message to the requester."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"There is no ticket #{ticket_id}.")
    text = (reason or "").strip()
    if kind == "approved":
        report = compute_report(session, ticket, clock=clock)
        if report.user_id is None:
            raise InsufficientEvidence("No single account is resolved for this ticket.")
        user = session.get(User, report.user_id)
        tokens = _exposed_tokens(session, report)
        delay = configured_cooling_off()
        if delay.total_seconds() > 0:  # what the owner gets now is the "not you?" notice
            due = f"{clock() + delay:%Y-%m-%d %H:%M} UTC"
            link = "(a single-use link, made when you confirm)"
            context = emails.pending_reset_context(
                ticket, user, tokens, due_at=due, cancel_url=link
            )
            return render_email("two_factor_reset_pending", context)
        context = emails.approved_context(ticket, user, tokens)
    elif kind == "approved_requester":
        context = emails.approved_requester_context(ticket)
    elif kind == "denied":
        context = emails.denied_context(ticket, text)
    elif kind == "more_information_needed":
        context = emails.more_information_context(ticket, text)
    else:
        raise InvalidInput(
            f"No decision email {kind!r}; one of {', '.join(emails.DECISION_EMAILS)}."
        )
    return render_email(kind, context)
