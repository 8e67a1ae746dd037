"""Quarantined mail for staff: what could not be turned into a ticket, and why."""

from __future__ import annotations

from sqlmodel import Session, col, select

from core.store.tables import InboundMessage


def list_quarantined(session: Session, *, limit: int = 100) -> list[InboundMessage]:
    """Newest first; re-process one with ``core.inbound.reprocess_quarantined``."""
    return list(
        session.exec(
            select(InboundMessage)
            .where(InboundMessage.status == "quarantined")
            .order_by(col(InboundMessage.id).desc())
            .limit(limit)
        )
    )
