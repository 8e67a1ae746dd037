"""The transactional outbox: an email is a row written with the change that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

from core.store.types import UTCDateTime


class OutboxEmail(SQLModel, table=True):
    __tablename__ = "outbox_emails"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_recipient_recent", "to_addr", "template", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=255, unique=True)
    """Stable per row, so a resend after a crash is recognisable as the same email."""
    template: str = Field(max_length=64)
    to_addr: str = Field(max_length=254)
    subject: str
    body_text: str
    body_html: str
    sealed: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    """The bodies are encrypted (``core.encryption``): they carry a one-time secret, such as
    a password-reset link; the sender opens them when it builds the message."""
    headers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """Extra headers (In-Reply-To, References, Auto-Submitted), already validated."""
    user_id: int | None = None
    ticket_id: int | None = Field(default=None, index=True)
    status: str = Field(default="queued", max_length=16)
    """queued → sending → sent | failed (permanent) ; back to queued on a temporary failure."""
    attempts: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    claimed_by: str | None = Field(default=None, max_length=64)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str | None = None
