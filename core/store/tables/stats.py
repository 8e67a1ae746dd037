"""Per-day summaries of the tickets table for the Ops page, kept exact by database triggers
(migration 0003) in the same transaction as the ticket change, so the Ops figures cost the
same however many tickets a date range holds. ``day`` is the UTC day a ticket was received."""

from __future__ import annotations

import math
from datetime import date

from sqlalchemy import Date, Float, Integer, cast, func, literal_column
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel

DURATION_BUCKET_BASE = 1.02
"""Bucket ``b`` of a duration histogram holds ``[BASE**b, BASE**(b + 1))`` seconds, so its
geometric middle is within ``sqrt(BASE) - 1`` (under 1%) of any duration in it."""


def received_day(dialect: str, created_at) -> ColumnElement:
    """The UTC day a ticket was received. SQLite stores UTC as ``YYYY-MM-DD HH:MM:SS``, so
    the day is the first ten characters (the format SQLAlchemy reads a ``Date`` from)."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", created_at), Date)
    return func.substr(created_at, 1, 10)


def seconds_between(dialect: str, later, earlier) -> ColumnElement:
    if dialect == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def duration_bucket(dialect: str, later, earlier) -> ColumnElement:
    """The histogram bucket of ``later - earlier``; one expression for the triggers
    (migration 0003) and the queries, so both put a duration in the same bucket."""
    seconds = seconds_between(dialect, later, earlier)
    at_least_one = (func.greatest if dialect == "postgresql" else func.max)(
        seconds, literal_column("1.0")
    )
    log_base = literal_column(repr(math.log(DURATION_BUCKET_BASE)))
    return cast(func.floor(func.ln(at_least_one) / log_base), Integer)


class TicketDayCount(SQLModel, table=True):
    """Tickets received per UTC day, status and evidence strength."""

    __tablename__ = "stats_ticket_days"

    day: date = Field(primary_key=True)
    status: str = Field(primary_key=True, max_length=16)
    evidence_strength: str = Field(primary_key=True, max_length=8)
    n: int = 0


class TicketDurationBucket(SQLModel, table=True):
    """Histogram of time to first response / to decision per UTC day received: bucket ``b``
    holds durations in ``[BASE**b, BASE**(b + 1))`` seconds (durations under a second fall
    in bucket 0), see ``core.stats.histogram``."""

    __tablename__ = "stats_ticket_durations"

    measure: str = Field(primary_key=True, max_length=16)
    """first_response | decision"""
    day: date = Field(primary_key=True)
    bucket: int = Field(primary_key=True)
    n: int = 0


class TicketEvidenceKindDay(SQLModel, table=True):
    """Tickets received per UTC day carrying at least one piece of evidence of a kind."""

    __tablename__ = "stats_ticket_evidence_kinds"

    day: date = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=32)
    n: int = 0
