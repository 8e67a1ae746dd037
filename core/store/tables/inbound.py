"""Inbound mail as received: raw bytes first, parsed later, never dropped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.store.types import UTCDateTime


class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("message_id", "sha256", name="uq_inbound_message_id_sha256"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=998, index=True)
    """The Message-ID header, or ``<sha256@synthetic>`` when the message has none."""
    sha256: str = Field(max_length=64)
    """SHA-256 of the raw bytes as received (before any redaction)."""
    source: str = Field(max_length=255)
    """``maildir:/path``, ``mbox:/path``, ``eml:/path``, ``imap:host/folder``, ``smtp``."""
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    raw: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
    """Raw bytes with access tokens redacted (everything else byte for byte)."""
    size: int
    status: str = Field(default="pending", max_length=16, index=True)
    """pending | ticket | threaded | auto | bounce | quarantined"""
    reason: str | None = None
    """Why it was quarantined, classified as auto/bounce, or flagged."""
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    processed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
