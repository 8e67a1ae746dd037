"""Cooling-off of approved 2FA resets: an approval schedules the reset ``reset_cooling_off_hours``
later and emails the owner a single-use cancel link; a worker applies due resets; the link
stops one. A reset leaves ``pending`` exactly once, by a conditional UPDATE, so any number of
workers and a cancel racing them apply or cancel each reset once, on SQLite and PostgreSQL.

The cancel token is ``secrets.token_urlsafe(32)``, stored only as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from core.audit import record_event
from core.clock import Clock, system_clock
from core.decisions import emails
from core.encryption import derived_key
from core.errors import DomainError
from core.mail.outbox import outbox_values
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import AccessToken, AuditEvent, OutboxEmail, Ticket, User
from core.store.tables.pending_resets import PendingReset
from core.twofactor import reset_two_factor
from core.twofactor.notifications import security_event

CANCEL_PAGE = "cancel-reset"
"""The portal page's URL path; the link is ``{portal_url}/{CANCEL_PAGE}?token=...``."""
TOKEN_PARAM = "token"
SCHEDULED_ACTION = "2fa.reset_scheduled"
CANCELLED_ACTION = "2fa.reset_cancelled"
CANCELLED_BY = "owner:cancel-link"


class InvalidCancelLink(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "This link does not work any more: the reset was already cancelled or has already "
            "taken effect. If you did not ask for it, write to support right away."
        )


@dataclass(frozen=True)
class PendingResetView:
    """A reset as the staff ticket page and the cancel page show it."""

    id: int
    ticket_id: int
    username: str
    approved_by: str
    due_at: datetime
    status: str
    applied_at: datetime | None
    cancelled_at: datetime | None


def cooling_off() -> timedelta:
    return timedelta(hours=get_settings().reset_cooling_off_hours)


def cancel_token_hash(token: str) -> str:
    """HMAC-SHA256 under a key derived from the app's secret key: the database alone cannot
    produce a working link nor test guesses offline."""
    key = derived_key(b"backoffice 2fa-reset cancel links")
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def cancel_url(token: str) -> str:
    base = get_settings().portal_url.rstrip("/")
    return f"{base}/{CANCEL_PAGE}?{urlencode({TOKEN_PARAM: token})}"


def schedule_reset(
    session: Session,
    *,
    ticket: Ticket,
    user: User,
    actor: str,
    delay: timedelta,
    revoked: list[AccessToken],
    clock: Clock = system_clock,
) -> tuple[PendingReset, OutboxEmail]:
    """In the approval's transaction: store the pending reset, audit it and email the owner's
    address on file the cancel link. Nothing on the account changes yet."""
    now = clock()
    token = secrets.token_urlsafe(32)
    reset = PendingReset(
        user_id=user.id,
        ticket_id=ticket.id,
        approved_by=actor,
        created_at=now,
        due_at=now + delay,
        cancel_token_hash=cancel_token_hash(token),
    )
    session.add(reset)
    session.flush()
    record_event(
        session,
        action=SCHEDULED_ACTION,
        actor=actor,
        user_id=user.id,
        ticket_id=ticket.id,
        details={"pending_reset_id": reset.id, "due_at": reset.due_at.isoformat()},
        clock=clock,
    )
    email = OutboxEmail(
        **outbox_values(
            template="two_factor_reset_pending",
            to=user.email,
            context=emails.pending_reset_context(
                ticket,
                user,
                revoked,
                due_at=f"{reset.due_at:%Y-%m-%d %H:%M} UTC",
                cancel_url=cancel_url(token),
            ),
            user_id=user.id,
            ticket_id=ticket.id,
            auto_submitted="auto-generated",
            clock=clock,
            sealed=True,  # the link cancels the reset: it is stored encrypted
        )
    )
    session.add(email)
    session.flush()
    return reset, email


def _revoked_tokens(session: Session, ticket_id: int) -> list[AccessToken]:
    """The tokens the approval revoked, for the approval email sent when the reset applies."""
    details = session.exec(
        select(AuditEvent.details)
        .where(AuditEvent.ticket_id == ticket_id, AuditEvent.action == "ticket.approved")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    ids = [t["id"] for t in (details or {}).get("revoked_tokens", [])]
    return [t for t in (session.get(AccessToken, i) for i in ids) if t is not None]


def apply_reset(session: Session, reset_id: int, *, clock: Clock = system_clock) -> bool:
    """Apply one reset if it is still pending and due: the 2FA reset, its audit event and the
    approval email to the owner, in the caller's transaction. False when another worker or a
    cancel got there first (or it is not due)."""
    now = clock()
    won = session.execute(
        update(PendingReset)
        .where(
            PendingReset.id == reset_id,
            PendingReset.status == "pending",
            PendingReset.due_at <= now,
        )
        .values(status="applied", applied_at=now)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        return False
    reset = session.get(PendingReset, reset_id, populate_existing=True)
    user = session.get(User, reset.user_id)
    ticket = session.get(Ticket, reset.ticket_id)
    reset_two_factor(
        session,
        user=user,
        actor=reset.approved_by,
        ticket_id=ticket.id,
        notify=False,
        clock=clock,
    )
    emails.queue_ticket_email(
        session,
        ticket,
        template="approved",
        to=user.email,
        context=emails.approved_context(ticket, user, _revoked_tokens(session, ticket.id)),
        user_id=user.id,
        clock=clock,
    )
    return True


def due_reset_ids(session: Session, *, now: datetime, limit: int = 100) -> list[int]:
    return list(
        session.exec(
            select(PendingReset.id)
            .where(PendingReset.status == "pending", PendingReset.due_at <= now)
            .order_by(PendingReset.due_at, PendingReset.id)
            .limit(limit)
        )
    )


def apply_due_resets(engine: Engine, *, clock: Clock = system_clock, limit: int = 100) -> int:
    """Apply every reset due now, each in its own transaction (one failing account does not
    hold back the others' commits). Returns how many this call applied; safe to run from
    several workers at once."""
    with session_scope(engine, readonly=True) as s:
        ids = due_reset_ids(s, now=clock(), limit=limit)
    applied = 0
    for reset_id in ids:
        with session_scope(engine) as s:
            applied += apply_reset(s, reset_id, clock=clock)
    return applied


def _view(session: Session, reset: PendingReset) -> PendingResetView:
    user = session.get(User, reset.user_id)
    return PendingResetView(
        id=reset.id,
        ticket_id=reset.ticket_id,
        username=user.username if user else "?",
        approved_by=reset.approved_by,
        due_at=reset.due_at,
        status=reset.status,
        applied_at=reset.applied_at,
        cancelled_at=reset.cancelled_at,
    )


def _by_token(session: Session, token: str) -> PendingReset | None:
    if not token or len(token) > 200:
        return None
    return session.exec(
        select(PendingReset).where(PendingReset.cancel_token_hash == cancel_token_hash(token))
    ).first()


def inspect_cancel_link(session: Session, *, token: str) -> PendingResetView:
    """The pending reset a live cancel link stops, or ``InvalidCancelLink``."""
    reset = _by_token(session, token)
    if reset is None or reset.status != "pending":
        raise InvalidCancelLink()
    return _view(session, reset)


def cancel_reset(session: Session, *, token: str, clock: Clock = system_clock) -> PendingResetView:
    """Stop a pending reset through its link: single use (a conditional UPDATE, which a worker
    applying it at the same moment cannot both win), the ticket flagged for staff, audited,
    and the owner told. Raises ``InvalidCancelLink`` once applied, cancelled or unknown."""
    now = clock()
    reset = _by_token(session, token)
    if reset is None:
        raise InvalidCancelLink()
    won = session.execute(
        update(PendingReset)
        .where(PendingReset.id == reset.id, PendingReset.status == "pending")
        .values(status="cancelled", cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        raise InvalidCancelLink()
    session.refresh(reset)
    session.execute(
        update(Ticket)
        .where(Ticket.id == reset.ticket_id)
        .values(
            flagged=True,
            flag_reason="The account owner cancelled the approved 2FA reset with the emailed "
            "link: the request may not be theirs.",
            version=Ticket.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    user = session.get(User, reset.user_id)
    security_event(
        session,
        user=user,
        action=CANCELLED_ACTION,
        actor=CANCELLED_BY,
        email_template="two_factor_reset_cancelled",
        details={"ticket_id": reset.ticket_id, "pending_reset_id": reset.id},
        ticket_id=reset.ticket_id,
        clock=clock,
    )
    return _view(session, reset)


def reset_for_ticket(session: Session, ticket_id: int) -> PendingResetView | None:
    """The ticket's latest scheduled reset, for the staff ticket page."""
    reset = session.exec(
        select(PendingReset)
        .where(PendingReset.ticket_id == ticket_id)
        .order_by(PendingReset.id.desc())
        .limit(1)
    ).first()
    return _view(session, reset) if reset else None
