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


@dataclass(frozen=True)
class Cohort:
    """Tickets received in a range, counted per UTC day, status and evidence strength: one
    GROUP BY over the covering cohort index; the per-week, per-status and per-strength
    figures are sums of its (at most days x 6 x 3) rows."""

    rows: list[tuple[date, str, str, int]]

    def per_day(self) -> list[tuple[date, int]]:
        return self._sum(lambda day, status, strength: day)

    def per_week(self) -> list[tuple[date, int]]:
        """Keyed by the Monday of each ISO week."""
        return self._sum(lambda day, status, strength: day - timedelta(days=day.weekday()))

    def per_status(self) -> dict[str, int]:
        return dict(self._sum(lambda day, status, strength: status))

    def per_strength(self) -> dict[str, int]:
        return dict(self._sum(lambda day, status, strength: strength))

    def _sum(self, key) -> list:
        totals: dict = {}
        for day, status, strength, n in self.rows:
            k = key(day, status, strength)
            totals[k] = totals.get(k, 0) + n
        return sorted(totals.items())


def _day(session: Session) -> ColumnElement:
    """The UTC day a ticket was received. SQLite stores UTC as ``YYYY-MM-DD HH:MM:SS``, so
    the day is the first ten characters (cheaper than parsing with ``date()``)."""
    if _is_postgres(session):
        return cast(func.timezone("UTC", Ticket.created_at), Date)
    return func.substr(Ticket.created_at, 1, 10)


def cohort(session: Session, *, start: datetime, end: datetime) -> Cohort:
    day = _day(session).label("day")
    rows = session.execute(
        select(day, Ticket.status, Ticket.evidence_strength, func.count())
        .where(*_in_range(start, end))
        .group_by(day, Ticket.status, Ticket.evidence_strength)
    )
    return Cohort(
        [(d if isinstance(d, date) else date.fromisoformat(d), st, ev, n) for d, st, ev, n in rows]
    )


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
