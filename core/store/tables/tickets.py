"""Recovery tickets, their messages, extracted evidence and staff notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from core.store.types import UTCDateTime

TICKET_STATUSES = ("new", "open", "awaiting_user", "approved", "denied", "closed")
OPEN_STATUSES = ("new", "open", "awaiting_user")
OPEN_STATUSES_SQL = "status IN ('new', 'open', 'awaiting_user')"
"""Literal (not bound) so that queries can prove they match the partial index below."""


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_created", "status", "created_at"),
        Index(
            "ix_tickets_open_created",
            "created_at",
            "id",
            sqlite_where=text(OPEN_STATUSES_SQL),
            postgresql_where=text(OPEN_STATUSES_SQL),
        ),
        Index("ix_tickets_status_strength_created", "status", "evidence_strength", "created_at"),
        Index(
            "ix_tickets_cohort",
            "created_at",
            "status",
            "evidence_strength",
            "first_response_at",
            "decided_at",
        ),
    )
    """The partial index keeps the default queue (open tickets, oldest first) and the
    oldest-open figure fast however many decided tickets pile up; the status-strength index
    counts a huge status filtered by evidence strength from the index alone; the cohort index covers
    the ops figures for the partial days at a range's edges (whole days are read from the
    summaries in ``stats.py``), so those read the index alone."""

    id: int | None = Field(default=None, primary_key=True)
    """The ticket number shown to users and staff (``[#123]``)."""
    subject: str
    requester_email: str = Field(max_length=254, index=True)
    requester_name: str = ""
    claimed_username: str | None = Field(default=None, max_length=96, index=True)
    claimed_email: str | None = Field(default=None, max_length=254, index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    """The account the ticket is resolved to (set by verification)."""
    status: str = Field(default="new", max_length=16)
    flagged: bool = False
    flag_reason: str | None = None
    evidence_strength: str = Field(default="none", max_length=8, index=True)
    """none | weak | strong: the verification report's best evidence, kept for the queue."""
    challenge_nonce: str = Field(max_length=64)
    challenge_expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    first_response_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    decided_by: str | None = Field(default=None, max_length=96)
    decision_reason: str | None = None
    assignee: str | None = Field(default=None, max_length=96, index=True)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    version: int = 1
    """Bumped by every state change; decisions update WHERE version = the one they read."""
    last_inbound_message_id: str | None = Field(default=None, max_length=998)
    """Message-ID of the requester's latest email, so our replies thread under it."""


class TicketMessage(SQLModel, table=True):
    __tablename__ = "ticket_messages"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    inbound_message_id: int | None = Field(default=None, foreign_key="inbound_messages.id")
    outbox_email_id: int | None = Field(default=None, foreign_key="outbox_emails.id")
    direction: str = Field(max_length=8)
    """in | out"""
    message_id: str = Field(max_length=998, index=True)
    from_addr: str = Field(max_length=254)
    subject: str
    body_text: str
    """Plain text only (HTML converted, never rendered), access tokens redacted."""
    attachments: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sender_auth: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True))
    )
    """SPF/DKIM/DMARC of an inbound message as our trusted receiver stamped them
    (``SenderAuthenticity.as_dict``); None for our own mail and older messages."""
    reading_notes: list[str] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))
    """Where a bound made the reading of an inbound message simpler (``ParsedMessage.notes``,
    tokens redacted); None when it was read in full, for our own mail and older messages."""


class Evidence(SQLModel, table=True):
    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_ticket_kind", "ticket_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")  # ix_evidence_ticket_kind serves it
    ticket_message_id: int | None = Field(default=None, foreign_key="ticket_messages.id")
    kind: str = Field(max_length=32)
    """claimed_username | claimed_email | ssh_public_key | fingerprint | ssh_signature | token"""
    value: str
    """Public material only; for a token the masked ``hf_…abcd``."""
    fingerprint: str | None = Field(default=None, max_length=64)
    token_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class TicketNote(SQLModel, table=True):
    __tablename__ = "ticket_notes"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    author: str = Field(max_length=96)
    body: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
