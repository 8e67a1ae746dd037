"""Approved 2FA resets waiting out their cooling-off period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Column, Field, SQLModel

from core.store.types import UTCDateTime

PENDING_RESET_STATUSES = ("pending", "applied", "cancelled")


class PendingReset(SQLModel, table=True):
    """One approved reset. It leaves ``pending`` exactly once, by a conditional UPDATE: to
    ``applied`` (a worker, once ``due_at`` has passed) or to ``cancelled`` (the owner's link).
    The cancel link's token is stored only as a keyed hash."""

    __tablename__ = "pending_resets"
    __table_args__ = (Index("ix_pending_resets_status_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    approved_by: str = Field(max_length=128)
    """The audit actor whose approval (or confirmation) scheduled the reset."""
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(default="pending", max_length=16)
    cancel_token_hash: str = Field(max_length=64, unique=True)
    applied_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
