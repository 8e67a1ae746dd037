"""Password-reset links: one live link per account, stored only as a keyed hash."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from core.store.types import UTCDateTime


class PasswordResetLink(SQLModel, table=True):
    """The account's latest reset link. One row per account (the primary key), so issuing a
    new link replaces the old one and the resend cooldown is one conditional upsert.

    ``password_marker`` is a keyed hash of the password hash at issue time: any later
    password change, by whatever path, makes the link stop matching."""

    __tablename__ = "password_reset_links"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    password_marker: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
