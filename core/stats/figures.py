"""Ops figures, each one SQL statement (or a few) over indexed columns; nothing loads every
ticket. Cohort figures (volume, response and decision times, outcomes, evidence) are for
tickets *received* in the date range, so one range-scan of ``created_at`` bounds them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Date, cast, distinct, func, literal_column, select, text
from sqlmodel import Session

from core.clock import Clock, system_clock
from core.store.tables import Evidence, InboundMessage, OutboxEmail, Ticket
from core.store.tables.tickets import OPEN_STATUSES, OPEN_STATUSES_SQL


@dataclass(frozen=True)
class Durations:
    """Median and 90th percentile (linear interpolation, like ``percentile_cont``)."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None


def _in_range(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [Ticket.created_at >= start, Ticket.created_at < end]


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _bucket(session: Session, unit: str) -> ColumnElement:
    """The UTC day (or Monday of the week) a ticket was received, as a date."""
    if _is_postgres(session):
        utc = func.timezone("UTC", Ticket.created_at)
        return cast(func.date_trunc(unit, utc), Date)
    if unit == "day":
        return func.date(Ticket.created_at)
    return func.date(Ticket.created_at, "-6 days", "weekday 1")


def received_per(
    session: Session, unit: str, *, start: datetime, end: datetime
) -> list[tuple[date, int]]:
    """Tickets received per ``day`` or ``week`` in ``[start, end)``, oldest first."""
    bucket = _bucket(session, unit).label("bucket")
    rows = session.execute(
        select(bucket, func.count()).where(*_in_range(start, end)).group_by(bucket).order_by(bucket)
    )
    return [(b if isinstance(b, date) else date.fromisoformat(b), n) for b, n in rows]


def backlog(session: Session) -> dict[str, int]:
    """Open tickets per open status (the partial index holds only open tickets)."""
    rows = dict(
        session.execute(
            select(Ticket.status, func.count())
            .where(text(OPEN_STATUSES_SQL))
            .group_by(Ticket.status)
        ).all()
    )
    return {status: rows.get(status, 0) for status in OPEN_STATUSES}


def oldest_open_age(session: Session, *, clock: Clock = system_clock) -> timedelta | None:
    oldest = session.execute(
        select(func.min(Ticket.created_at)).where(text(OPEN_STATUSES_SQL))
    ).scalar_one()
    if oldest is None:
        return None
    return clock() - oldest


def _seconds_between(session: Session, later, earlier) -> ColumnElement[float]:
    if _is_postgres(session):
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def durations(session: Session, until_column, *, start: datetime, end: datetime) -> Durations:
    """Median and p90 of ``until_column - created_at`` for tickets received in the range.
    PostgreSQL computes ``percentile_cont``; SQLite counts the rows and reads the (at most
    two) neighbouring values at each percentile's position with ORDER BY ... OFFSET."""
    seconds = _seconds_between(session, until_column, Ticket.created_at)
    where = [*_in_range(start, end), until_column.is_not(None)]
    if _is_postgres(session):
        n, median, p90 = session.execute(
            select(
                func.count(),
                func.percentile_cont(0.5).within_group(seconds),
                func.percentile_cont(0.9).within_group(seconds),
            ).where(*where)
        ).one()
        return Durations(n, _float(median), _float(p90))
    n = session.execute(select(func.count()).where(*where)).scalar_one()
    if n == 0:
        return Durations(0, None, None)

    def percentile(p: float) -> float:
        position = p * (n - 1)
        lower = math.floor(position)
        values = (
            session.execute(
                select(seconds.label("s"))
                .where(*where)
                .order_by(literal_column("s"))
                .limit(2)
                .offset(lower)
            )
            .scalars()
            .all()
        )
        if len(values) == 1 or position == lower:
            return float(values[0])
        return float(values[0]) + (position - lower) * (float(values[1]) - float(values[0]))

    return Durations(n, percentile(0.5), percentile(0.9))


def _float(value) -> float | None:
    return None if value is None else float(value)


def outcomes(session: Session, *, start: datetime, end: datetime) -> dict[str, int]:
    """Tickets received in the range per status (decided and not)."""
    rows = dict(
        session.execute(
            select(Ticket.status, func.count())
            .where(*_in_range(start, end))
            .group_by(Ticket.status)
        ).all()
    )
    return rows


def evidence_strength_mix(session: Session, *, start: datetime, end: datetime) -> dict[str, int]:
    rows = session.execute(
        select(Ticket.evidence_strength, func.count())
        .where(*_in_range(start, end))
        .group_by(Ticket.evidence_strength)
    )
    return {strength: n for strength, n in rows}


def evidence_kind_mix(session: Session, *, start: datetime, end: datetime) -> dict[str, int]:
    """How many tickets received in the range carried each kind of evidence."""
    rows = session.execute(
        select(Evidence.kind, func.count(distinct(Evidence.ticket_id)))
        .join(Ticket, Ticket.id == Evidence.ticket_id)
        .where(*_in_range(start, end))
        .group_by(Evidence.kind)
        .order_by(Evidence.kind)
    )
    return {kind: n for kind, n in rows}


def outbox_health(session: Session) -> dict[str, int]:
    """Emails waiting (queued or being sent) and failed for good."""
    rows = dict(
        session.execute(
            select(OutboxEmail.status, func.count())
            .where(OutboxEmail.status.in_(("queued", "sending", "failed")))
            .group_by(OutboxEmail.status)
        ).all()
    )
    return {
        "queued": rows.get("queued", 0) + rows.get("sending", 0),
        "failed": rows.get("failed", 0),
    }


def quarantined_mail(session: Session) -> int:
    return session.execute(
        select(func.count()).where(InboundMessage.status == "quarantined")
    ).scalar_one()
