"""Long-running processes say they are alive: one row per worker, upserted every few seconds,
so ``backoffice health``/``stats`` can tell running, stopped and silent (dead) workers apart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from core.store.types import UTCDateTime


class WorkerHeartbeat(SQLModel, table=True):
    __tablename__ = "worker_heartbeats"

    worker_id: str = Field(primary_key=True, max_length=160)
    """``host:pid:kind``: one row per process and role, stable for the process's life."""
    kind: str = Field(max_length=32, index=True)
    """``worker``, ``outbox-sender``, ``smtpd``, ``imap``, ``maildir``."""
    host: str = Field(max_length=128)
    pid: int
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(max_length=16)
    """``running``, ``degraded`` (a dependency is down, retrying) or ``stopped``."""
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """Small, secret-free facts: enabled sources, the failing dependency, counters."""
