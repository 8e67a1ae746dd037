"""Hub accounts and the records that recovery relies on (SSH keys, access tokens)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

from core.store.types import UTCDateTime


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=96, unique=True, index=True)
    email: str = Field(max_length=254, unique=True, index=True)
    """Stored lower-cased so look-ups are case-insensitive on every database."""
    password_hash: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    high_value: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    """Resetting this account's 2FA takes two staff members (staff accounts always do)."""


class SshKey(SQLModel, table=True):
    __tablename__ = "ssh_keys"
    __table_args__ = (UniqueConstraint("fingerprint_sha256", name="uq_ssh_keys_fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    key_type: str = Field(max_length=64)
    public_key: str
    """The normalised ``type base64`` line (comment dropped)."""
    comment: str = ""
    fingerprint_sha256: str = Field(max_length=64)
    fingerprint_md5: str = Field(max_length=64, index=True)
    bits: int | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    """A revoked key stays on record (its fingerprint stays taken) but proves nothing."""


class AccessToken(SQLModel, table=True):
    __tablename__ = "access_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    last4: str = Field(max_length=4)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_reason: str | None = None
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class PasswordThrottle(SQLModel, table=True):
    """Consecutive failed passwords per account (``scope`` "account", ``subject`` the user id
    or, for a login that names no account, the login) and per client (``scope`` "client",
    ``subject`` what the face knows of it: an address, "cli"), shared through the database."""

    __tablename__ = "password_throttle"

    scope: str = Field(max_length=16, primary_key=True)
    subject: str = Field(max_length=254, primary_key=True)
    failures: int = 0
    last_failure_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    blocked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
