"""Verification reports: what the checks concluded each time a ticket was verified."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from core.store.types import UTCDateTime


class VerificationReportRow(SQLModel, table=True):
    """One row per run, so staff can see how the evidence changed as mail arrived."""

    __tablename__ = "verification_reports"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    computed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    user_id: int | None = Field(default=None, foreign_key="users.id")
    strength: str = Field(max_length=8)
    recommendation: str = Field(max_length=32)
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """``VerificationReport.to_dict()``: checks with reasons, flags, summary. No secrets."""
