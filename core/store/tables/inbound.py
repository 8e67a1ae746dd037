"""Inbound mail as received: raw bytes first, parsed later, never dropped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.store.types import UTCDateTime


class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("message_id", "sha256", name="uq_inbound_message_id_sha256"),
        Index("uq_inbound_message_id_content", "message_id", "content_digest", unique=True),
    )
    """(Message-ID, SHA-256) refuses the same bytes twice; (Message-ID, content digest)
    refuses a second original of the same email delivered with other transport headers
    (its raw copy is kept with a NULL digest, status ``duplicate``). The latter is a unique
    index, so migration 0006 adds it to SQLite without rebuilding the table."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=998)  # uq_inbound_message_id_sha256 serves it
    """The Message-ID header, or ``<sha256@synthetic>`` when the message has none."""
    sha256: str = Field(max_length=64)
    """SHA-256 of the raw bytes as received (before any redaction)."""
    content_digest: str | None = Field(default=None, max_length=64)
    """SHA-256 of what the sender wrote: sender, subject, text and attachment digests
    (``core.inbound.prepare``); NULL for unparsed mail and for re-deliveries."""
    source: str = Field(max_length=255)
    """``maildir:/path``, ``mbox:/path``, ``eml:/path``, ``imap:host/folder``, ``smtp``."""
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    raw: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
    """Raw bytes with access tokens masked in place (``core.inbound.redaction``); everything
    else byte for byte unless a token hid behind a transfer encoding."""
    size: int
    status: str = Field(default="pending", max_length=16, index=True)
    """pending | ticket | threaded | duplicate | auto | bounce | quarantined"""
    reason: str | None = None
    """Why it was quarantined, classified as auto/bounce, or flagged."""
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    processed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    from_addr: str | None = Field(default=None, max_length=254)
    subject: str | None = None
    """Decoded and token-redacted, so staff can tell quarantined mail apart."""


class ImapCheckpoint(SQLModel, table=True):
    """How far an IMAP folder has been ingested: UIDs are only meaningful together with the
    folder's UIDVALIDITY, and the checkpoint moves in the same transaction as the messages."""

    __tablename__ = "imap_checkpoints"

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=512, unique=True)
    """``user@host:port/folder``"""
    uidvalidity: int
    last_uid: int = 0
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
