"""Verification reports: what the checks concluded each time a ticket was verified."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from core.store.types import UTCDateTime

REPORT_FLAGGED_SQL = "json_array_length(report -> 'flags') > 0"
"""Literal (not bound), so that queries can prove they match the partial index below."""


class VerificationReportRow(SQLModel, table=True):
    """One row per run, so staff can see how the evidence changed as mail arrived."""

    __tablename__ = "verification_reports"
    __table_args__ = (
        Index("ix_verification_reports_ticket_latest", "ticket_id", "id"),
        Index("ix_verification_reports_recommendation", "recommendation", "ticket_id", "id"),
        Index(
            "ix_verification_reports_flagged",
            "ticket_id",
            "id",
            sqlite_where=text(REPORT_FLAGGED_SQL),
            postgresql_where=text(REPORT_FLAGGED_SQL),
        ),
    )
    """The queue filters on each ticket's latest report: ``ticket_latest`` finds it (and
    whether a newer one exists) from the index alone, ``recommendation`` starts from the
    few reports of a rare recommendation, ``flagged`` holds only reports raising a flag."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")  # ix_..._ticket_latest serves it
    computed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    user_id: int | None = Field(default=None, foreign_key="users.id")
    strength: str = Field(max_length=8)
    recommendation: str = Field(max_length=32)
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """``VerificationReport.to_dict()``: checks with reasons, flags, summary. No secrets."""
