"""Heartbeats: each long-running process upserts its row in ``worker_heartbeats`` every few
seconds (``INSERT ... ON CONFLICT DO UPDATE``, one statement, no read first) and marks it
``stopped`` when it ends cleanly; a row whose ``last_seen_at`` is old belongs to a process
that died. Read models for health and stats pages come from ``list_heartbeats``."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from core.clock import Clock, system_clock
from core.store.engine import session_scope
from core.store.tables.workers import WorkerHeartbeat

RUNNING = "running"
DEGRADED = "degraded"
STOPPED = "stopped"


@dataclass(frozen=True)
class WorkerIdentity:
    """Who beats: one per process and role, fixed when the process starts."""

    kind: str
    host: str
    pid: int
    started_at: datetime

    @property
    def worker_id(self) -> str:
        return f"{self.host}:{self.pid}:{self.kind}"

    @classmethod
    def current(cls, kind: str, *, clock: Clock = system_clock) -> WorkerIdentity:
        return cls(kind=kind, host=socket.gethostname()[:100], pid=os.getpid(), started_at=clock())


@dataclass(frozen=True)
class Heartbeat:
    """A worker as health pages show it; ``details`` holds no secret."""

    worker_id: str
    kind: str
    host: str
    pid: int
    started_at: datetime
    last_seen_at: datetime
    status: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def silent_for(self, now: datetime) -> float:
        """Seconds since the last beat (a running worker beats every few seconds)."""
        return (now - self.last_seen_at).total_seconds()


def _insert_for(dialect: str):
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def beat(
    target: Engine | Session,
    identity: WorkerIdentity,
    *,
    status: str = RUNNING,
    details: Mapping[str, Any] | None = None,
    clock: Clock = system_clock,
) -> None:
    """Record that ``identity`` is alive (or ``stopped``) now. With an engine the beat is its
    own short transaction; with a session it joins the caller's."""
    if isinstance(target, Engine):
        with session_scope(target) as session:
            beat(session, identity, status=status, details=details, clock=clock)
        return
    values = {
        "worker_id": identity.worker_id,
        "kind": identity.kind,
        "host": identity.host,
        "pid": identity.pid,
        "started_at": identity.started_at,
        "last_seen_at": clock(),
        "status": status,
        "details": dict(details or {}),
    }
    insert = _insert_for(target.get_bind().dialect.name)
    statement = insert(WorkerHeartbeat).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=["worker_id"],
        set_={k: statement.excluded[k] for k in values if k != "worker_id"},
    )
    target.execute(statement)


def list_heartbeats(session: Session, *, kind: str | None = None) -> list[Heartbeat]:
    """Every worker that ever beat (newest first within a kind), ``kind`` to narrow."""
    query = select(WorkerHeartbeat).order_by(
        WorkerHeartbeat.kind, WorkerHeartbeat.last_seen_at.desc(), WorkerHeartbeat.worker_id
    )
    if kind is not None:
        query = query.where(WorkerHeartbeat.kind == kind)
    return [
        Heartbeat(
            worker_id=row.worker_id,
            kind=row.kind,
            host=row.host,
            pid=row.pid,
            started_at=row.started_at,
            last_seen_at=row.last_seen_at,
            status=row.status,
            details=dict(row.details or {}),
        )
        for row in session.execute(query).scalars()
    ]


def prune_heartbeats(
    session: Session, *, older_than: timedelta, clock: Clock = system_clock
) -> int:
    """Forget workers not seen for ``older_than`` (each restart has a new pid, hence a new
    row); returns how many rows went."""
    cutoff = clock() - older_than
    result = session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at < cutoff))
    return result.rowcount or 0
