"""Raw mail into ``inbound_messages``, exactly once, decided by the database.

One ``INSERT ... ON CONFLICT DO NOTHING`` per batch, against both unique constraints:
(Message-ID, SHA-256) refuses the same bytes, (Message-ID, content digest) refuses a second
original of the same email with other transport headers. A message refused by the content
constraint only is a re-delivery: its raw copy is stored again with a NULL digest and
status ``duplicate``, so nothing received is lost but nothing makes a second ticket. On
PostgreSQL a conflicting insert waits for the transaction holding the other row, so any
number of racing ingesters end with one original per email; rows go in sorted by key so
two batches never wait on each other in opposite orders."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlmodel import Session

from core.store.bulk import insert_ignoring_conflicts
from core.store.tables import InboundMessage

TABLE = InboundMessage.__table__


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def synthetic_message_id(sha256: str) -> str:
    """A stable id for a message without Message-ID, so re-ingesting it is still a no-op."""
    return f"<{sha256}@synthetic>"


@dataclass
class RawMessage:
    """``store_raw``'s input for one message."""

    message_id: str
    sha256: str
    raw: bytes
    size: int
    source: str
    received_at: datetime
    content_digest: str | None = None
    from_addr: str | None = None
    subject: str | None = None
    status: str = "pending"
    reason: str | None = None

    def values(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id[:998],
            "sha256": self.sha256,
            "content_digest": self.content_digest,
            "raw": self.raw,
            "size": self.size,
            "source": self.source[:255],
            "received_at": self.received_at,
            "status": self.status,
            "reason": self.reason,
            "from_addr": self.from_addr[:254] if self.from_addr else None,
            "subject": self.subject,
        }


@dataclass
class Stored:
    """Where one message stands after ``store_raw``."""

    inbound_id: int | None
    """Its row; None when the same bytes were already stored."""
    original_id: int | None = None
    """For a re-delivery: the row of the email's original."""
    redelivery: bool = False


def _insert_returning(session: Session, rows: list[dict[str, Any]]) -> dict[tuple, int]:
    found = insert_ignoring_conflicts(session, TABLE, rows, ["id", "message_id", "sha256"])
    return {(mid, sha): id_ for id_, mid, sha in found}


def store_raw(session: Session, messages: list[RawMessage]) -> list[Stored]:
    """Store each message (status ``pending``, or ``duplicate`` for a re-delivery), in the
    caller's transaction; one ``Stored`` per message, in order."""
    rows = [m.values() for m in messages]
    firsts = []
    seen: set[tuple] = set()
    for row in rows:
        keys = {("sha", row["message_id"], row["sha256"])}
        if row["content_digest"]:
            keys.add(("content", row["message_id"], row["content_digest"]))
        if seen.isdisjoint(keys):
            firsts.append(row)
        seen |= keys
    firsts.sort(key=lambda r: (r["message_id"], r["content_digest"] or "", r["sha256"]))
    ids = _insert_returning(session, firsts)
    again = []
    for row in rows:
        if (row["message_id"], row["sha256"]) not in ids and row["content_digest"]:
            again.append({**row, "content_digest": None, "status": "duplicate"})
    again_ids = _insert_returning(session, _unique(again))
    originals = _originals(
        session,
        [
            (r["message_id"], r["content_digest"])
            for r in rows
            if (r["message_id"], r["sha256"]) in again_ids
        ],
    )
    result = []
    for row in rows:
        key = (row["message_id"], row["sha256"])
        if key in again_ids:
            origin = originals.get((row["message_id"], row["content_digest"]))
            result.append(Stored(again_ids.pop(key), origin, redelivery=True))
        elif key in ids:
            result.append(Stored(ids.pop(key)))
        else:
            result.append(Stored(None))
    return result


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({(r["message_id"], r["sha256"]): r for r in rows}.values())


def _originals(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The rows holding the originals of these (Message-ID, content digest) pairs."""
    if not keys:
        return {}
    found = session.execute(
        select(TABLE.c.message_id, TABLE.c.content_digest, TABLE.c.id).where(
            tuple_(TABLE.c.message_id, TABLE.c.content_digest).in_(sorted(set(keys)))
        )
    )
    return {(mid, digest): id_ for mid, digest, id_ in found}
