"""Raw mail into ``inbound_messages``, exactly once. The unique (Message-ID, SHA-256)
constraint decides, through ``INSERT ... ON CONFLICT DO NOTHING``: two ingesters racing on
the same message both succeed, and only one of them gets a row id back."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from core.store.tables import InboundMessage


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def synthetic_message_id(sha256: str) -> str:
    """A stable id for a message without Message-ID, so re-ingesting it is still a no-op."""
    return f"<{sha256}@synthetic>"


def _raw_values(
    *,
    message_id: str,
    sha256: str,
    raw: bytes,
    size: int,
    source: str,
    received_at: datetime,
    from_addr: str | None = None,
    subject: str | None = None,
) -> dict[str, Any]:
    return {
        "message_id": message_id[:998],
        "sha256": sha256,
        "raw": raw,
        "size": size,
        "source": source[:255],
        "received_at": received_at,
        "status": "pending",
        "from_addr": from_addr[:254] if from_addr else None,
        "subject": subject,
    }


def _insert_new(session: Session) -> Any:
    table = InboundMessage.__table__
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=["message_id", "sha256"])


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
    values = _raw_values(
        message_id=message_id,
        sha256=sha256,
        raw=raw,
        size=size,
        source=source,
        received_at=received_at,
        from_addr=from_addr,
        subject=subject,
    )
    stmt = _insert_new(session).values(**values).returning(InboundMessage.__table__.c.id)
    return session.execute(stmt).scalar_one_or_none()


def insert_raw_many(session: Session, messages: list[dict[str, Any]]) -> list[int | None]:
    """``insert_raw`` for many messages (keyword dicts of its arguments, each with its own
    (Message-ID, SHA-256)) in one multi-row INSERT; ids in order, None where already stored."""
    if not messages:
        return []
    rows = [_raw_values(**m) for m in messages]
    table = InboundMessage.__table__
    stmt = _insert_new(session).returning(table.c.id, table.c.message_id, table.c.sha256)
    ids = {(mid, sha): id_ for id_, mid, sha in session.execute(stmt, rows)}
    return [ids.get((r["message_id"], r["sha256"])) for r in rows]
