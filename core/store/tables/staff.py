"""Staff of the support back office: a Hub ``User`` (password + TOTP) with a role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from core.store.types import UTCDateTime

STAFF_ROLES = ("agent", "admin", "ops")


class StaffMember(SQLModel, table=True):
    """The staff side of a user row; sign-in reuses the user's password and 2FA."""

    __tablename__ = "staff_members"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    role: str = Field(max_length=16)
    """agent | admin | ops"""
    active: bool = True
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_by: str = Field(default="system", max_length=128)
