"""Counters that cap acknowledgement emails, claimed by one conditional upsert each so
racing ingesters cannot both pass a limit (``core.tickets.acknowledgement``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from core.store.types import UTCDateTime


class AckQuota(SQLModel, table=True):
    """One window of one limit: a normalised sender address (per day) or ``*`` (the global
    rate, per hour). ``n`` acknowledgements were granted since ``window_start``."""

    __tablename__ = "ack_quotas"

    key: str = Field(primary_key=True, max_length=254)
    window_start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    n: int = 0
    granted: int = 0
    """How many the last claim got, returned by the claim statement itself."""
