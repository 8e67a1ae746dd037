"""Signed-in staff sessions, kept server-side so a reload or a new tab resumes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from core.store.types import UTCDateTime


class StaffSession(SQLModel, table=True):
    """One browser's sign-in. Only the SHA-256 of the token is stored, so a copy of the
    database cannot be replayed as a cookie; a row ends by idling out, reaching its absolute
    lifetime or being revoked (sign-out, deactivation)."""

    __tablename__ = "staff_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    """Absolute end, however active the session is."""
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
