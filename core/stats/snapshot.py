"""Everything a monitor scrapes, at one instant: ticket volume, backlog by status and age,
times to first response and to decision, the outbox, quarantine, second-factor lockouts and
the workers' heartbeats. Each figure is an aggregate over indexed columns or the per-day
summaries (``core.stats.figures``); nothing loads every ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlmodel import Session

from core.clock import Clock, system_clock
from core.stats import figures
from core.stats.figures import Durations
from core.stats.queues import Lockouts, OutboxQueue, Quarantine, lockouts, outbox_queue, quarantine
from core.store.tables.stats import TicketDayCount
from core.store.tables.tickets import OPEN_STATUSES_SQL, TICKET_STATUSES, Ticket
from core.workers.heartbeats import STOPPED, Heartbeat, list_heartbeats

BACKLOG_AGES = (
    ("1h", timedelta(hours=1)),
    ("1d", timedelta(days=1)),
    ("3d", timedelta(days=3)),
    ("7d", timedelta(days=7)),
)
"""Open tickets older than each age: cumulative, like a histogram's ``le`` buckets."""
WINDOWS = (("1d", timedelta(days=1)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30)))
"""Tickets received in the last day, week and month; durations over the last week."""
DURATION_WINDOW = "7d"


@dataclass(frozen=True)
class StatsSnapshot:
    at: datetime
    tickets_by_status: dict[str, int]
    received: dict[str, int]
    backlog: dict[str, int]
    backlog_older_than: dict[str, int]
    oldest_open_age: timedelta | None
    first_response: Durations
    decision: Durations
    outbox: OutboxQueue
    quarantine: Quarantine
    lockouts: Lockouts
    workers: list[Heartbeat]
    """Workers not stopped (running, degraded, or silent because they died)."""


def tickets_by_status(session: Session) -> dict[str, int]:
    """Every ticket ever received, by current status, from the per-day summaries."""
    rows = dict(
        session.execute(
            select(TicketDayCount.status, func.sum(TicketDayCount.n)).group_by(
                TicketDayCount.status
            )
        ).all()
    )
    return {status: int(rows.get(status) or 0) for status in TICKET_STATUSES}


def backlog_older_than(session: Session, now: datetime) -> dict[str, int]:
    """Open tickets older than each of ``BACKLOG_AGES``, read from the open-tickets index."""
    columns = [
        func.count().filter(Ticket.created_at < now - age).label(name) for name, age in BACKLOG_AGES
    ]
    row = session.execute(select(*columns).where(text(OPEN_STATUSES_SQL))).one()
    return {name: int(row[i]) for i, (name, _) in enumerate(BACKLOG_AGES)}


def stats_snapshot(session: Session, *, clock: Clock = system_clock) -> StatsSnapshot:
    now = clock()
    received = {
        name: sum(figures.cohort(session, start=now - span, end=now).per_status().values())
        for name, span in WINDOWS
    }
    window = dict(WINDOWS)[DURATION_WINDOW]
    return StatsSnapshot(
        at=now,
        tickets_by_status=tickets_by_status(session),
        received=received,
        backlog=figures.backlog(session),
        backlog_older_than=backlog_older_than(session, now),
        oldest_open_age=figures.oldest_open_age(session, clock=clock),
        first_response=figures.durations(session, "first_response", start=now - window, end=now),
        decision=figures.durations(session, "decision", start=now - window, end=now),
        outbox=outbox_queue(session, clock=clock),
        quarantine=quarantine(session, clock=clock),
        lockouts=lockouts(session, clock=clock),
        workers=[w for w in list_heartbeats(session) if w.status != STOPPED],
    )
