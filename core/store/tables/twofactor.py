"""Second-factor registrations: TOTP secret (encrypted), recovery codes (hashed), throttle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from core.store.types import UTCDateTime


class TotpRegistration(SQLModel, table=True):
    """One per account. ``confirmed_at`` is None while enrolment is pending; a pending row
    never makes sign-in ask for a code."""

    __tablename__ = "totp_registrations"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    secret_encrypted: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_used_step: int | None = Field(default=None, sa_column=Column(BigInteger()))
    """The last accepted RFC 6238 time step; a step is accepted at most once."""


class RecoveryCode(SQLModel, table=True):
    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user_hash", "user_id", "code_hash", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class SecondFactorThrottle(SQLModel, table=True):
    """Consecutive failed second-factor attempts, shared by every process through the DB."""

    __tablename__ = "second_factor_throttle"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    failures: int = 0
    last_failure_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    blocked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    """Authenticator codes: the next attempt allowed (a lock once ``failures`` hit the limit)."""
    recovery_failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    recovery_blocked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    """Recovery codes are judged apart, by a stricter wait that never locks, so guessing
    authenticator codes cannot lock the owner out of their recovery codes."""
    owner_warned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    """When the owner was last emailed that someone with their password fails the second
    factor; cleared by a success."""
