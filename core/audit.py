"""The security log: one append-only row per security event, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from core.clock import Clock, system_clock
from core.store.tables import AuditEvent


def record_event(
    session: Session,
    *,
    action: str,
    actor: str,
    user_id: int | None = None,
    ticket_id: int | None = None,
    details: dict[str, Any] | None = None,
    clock: Clock = system_clock,
) -> AuditEvent:
    """Add an audit row to ``session``; it commits (or not) with the change it describes.
    ``details`` must never hold a secret: callers pass fingerprints, ids and last-4s only."""
    event = AuditEvent(
        at=clock(),
        action=action,
        actor=actor,
        user_id=user_id,
        ticket_id=ticket_id,
        details=details or {},
    )
    session.add(event)
    return event
