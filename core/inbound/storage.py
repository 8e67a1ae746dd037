"""Raw mail into ``inbound_messages``, exactly once. The unique (Message-ID, SHA-256)
constraint decides, through ``INSERT ... ON CONFLICT DO NOTHING``: two ingesters racing on
the same message both succeed, and only one of them gets a row id back."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from core.store.tables import InboundMessage


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def synthetic_message_id(sha256: str) -> str:
    """A stable id for a message without Message-ID, so re-ingesting it is still a no-op."""
    return f"<{sha256}@synthetic>"


def insert_raw(
    session: Session,
    *,
    message_id: str,
    sha256: str,
    raw: bytes,
    size: int,
    source: str,
    received_at: datetime,
    from_addr: str | None = None,
    subject: str | None = None,
) -> int | None:
    """Store the message as ``pending``; the new row's id, or None if it was already stored."""
    table = InboundMessage.__table__
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(table)
        .values(
            message_id=message_id[:998],
            sha256=sha256,
            raw=raw,
            size=size,
            source=source[:255],
            received_at=received_at,
            status="pending",
            from_addr=from_addr[:254] if from_addr else None,
            subject=subject,
        )
        .on_conflict_do_nothing(index_elements=["message_id", "sha256"])
        .returning(table.c.id)
    )
    return session.execute(stmt).scalar_one_or_none()
