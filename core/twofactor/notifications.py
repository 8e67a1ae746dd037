"""A security event on an account: the audit row and the owner's notification email, written
together in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from core.audit import record_event
from core.clock import Clock, system_clock
from core.mail.outbox import queue_email
from core.settings import get_settings
from core.store.tables import User


def security_event(
    session: Session,
    *,
    user: User,
    action: str,
    actor: str,
    email_template: str | None,
    details: dict[str, Any] | None = None,
    ticket_id: int | None = None,
    clock: Clock = system_clock,
) -> None:
    """Audit ``action`` and, when ``email_template`` is given, tell the account owner."""
    record_event(
        session,
        action=action,
        actor=actor,
        user_id=user.id,
        ticket_id=ticket_id,
        details=details,
        clock=clock,
    )
    if email_template is None:
        return
    settings = get_settings()
    queue_email(
        session,
        template=email_template,
        to=user.email,
        context={
            "username": user.username,
            "occurred_at": clock().strftime("%Y-%m-%d %H:%M UTC"),
            "hub_url": settings.hub_url,
            "support_address": settings.support_address,
            "details": details or {},
        },
        user_id=user.id,
        ticket_id=ticket_id,
        auto_submitted="auto-generated",
        clock=clock,
    )
