"""Ops figures, each one SQL statement (or a few) over indexed columns; nothing loads every
ticket. Cohort figures (volume, response and decision times, outcomes, evidence) are for
tickets *received* in the date range: its whole UTC days are read from the per-day summaries
that triggers keep exact (``core.store.tables.stats``), and only the partial days at its
edges from ``tickets``, so their cost does not grow with the number of tickets in the range.

Percentiles are exact (like ``percentile_cont``) while the range holds at most
``EXACT_PERCENTILES_UP_TO`` durations; above that they are read from the log-scale
histograms, within ``PERCENTILE_RELATIVE_ERROR`` of the exact value (durations under one
second count as one second)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, distinct, func, literal_column, select, text
from sqlmodel import Session

from core.clock import Clock, system_clock
from core.store.tables.stats import (
    DURATION_BUCKET_BASE,
    TicketDayCount,
    TicketDurationBucket,
    TicketEvidenceKindDay,
    duration_bucket,
    received_day,
    seconds_between,
)
from core.store.tables.tickets import OPEN_STATUSES, OPEN_STATUSES_SQL, Evidence, Ticket

EXACT_PERCENTILES_UP_TO = 2000
PERCENTILE_RELATIVE_ERROR = math.sqrt(DURATION_BUCKET_BASE) - 1
"""Under 1%: a histogram percentile is the geometric middle of the bucket(s) holding it."""


@dataclass(frozen=True)
class Durations:
    """Median and 90th percentile (linear interpolation, like ``percentile_cont``); not
    ``exact`` when read from the histograms (within ``PERCENTILE_RELATIVE_ERROR``)."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None
    exact: bool = True


def _in_range(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [Ticket.created_at >= start, Ticket.created_at < end]


def _is_postgres(session: Session) -> bool:
    return _dialect(session) == "postgresql"


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


@dataclass(frozen=True)
class _Split:
    """``[start, end)`` as whole UTC days ``[first_day, end_day)`` (read from the summaries;
    empty when first_day >= end_day) and the partial days at its edges (read from tickets)."""

    first_day: date
    end_day: date
    edges: list[tuple[datetime, datetime]]

    def days(self, column) -> list[ColumnElement[bool]]:
        return [column >= self.first_day, column < self.end_day]


def _split(start: datetime, end: datetime) -> _Split:
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first = start.date() + timedelta(days=0 if start.time() == time.min else 1)
    last = end.date()
    if first >= last:
        return _Split(first, first, [(start, end)] if start < end else [])
    first_at, last_at = (datetime.combine(d, time.min, UTC) for d in (first, last))
    edges = [(a, b) for a, b in ((start, first_at), (last_at, end)) if a < b]
    return _Split(first, last, edges)


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


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def cohort(session: Session, *, start: datetime, end: datetime) -> Cohort:
    split = _split(start, end)
    rows = list(
        session.execute(
            select(
                TicketDayCount.day,
                TicketDayCount.status,
                TicketDayCount.evidence_strength,
                TicketDayCount.n,
            ).where(*split.days(TicketDayCount.day), TicketDayCount.n != 0)
        )
    )
    day = received_day(_dialect(session), Ticket.created_at).label("day")
    for edge_start, edge_end in split.edges:
        rows += session.execute(
            select(day, Ticket.status, Ticket.evidence_strength, func.count())
            .where(*_in_range(edge_start, edge_end))
            .group_by(day, Ticket.status, Ticket.evidence_strength)
        )
    return Cohort([(_as_date(d), st, ev, n) for d, st, ev, n in rows])


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


MEASURES = {"first_response": Ticket.first_response_at, "decision": Ticket.decided_at}


def durations(session: Session, measure: str, *, start: datetime, end: datetime) -> Durations:
    """Median and p90 of time to ``measure`` (first_response | decision) for tickets received
    in the range: exact up to ``EXACT_PERCENTILES_UP_TO`` of them, else from the histograms
    (whole days from the summary, edge days bucketed from tickets by the same expression)."""
    until_column = MEASURES[measure]
    split = _split(start, end)
    bucket = duration_bucket(_dialect(session), until_column, Ticket.created_at)
    histogram: dict[int, int] = {}
    queries = [
        select(TicketDurationBucket.bucket, func.sum(TicketDurationBucket.n))
        .where(TicketDurationBucket.measure == measure, *split.days(TicketDurationBucket.day))
        .group_by(TicketDurationBucket.bucket)
    ] + [
        select(bucket, func.count())
        .where(*_in_range(a, b), until_column.is_not(None))
        .group_by(bucket)
        for a, b in split.edges
    ]
    for query in queries:
        for b, n in session.execute(query):
            histogram[b] = histogram.get(b, 0) + int(n)
    count = sum(histogram.values())
    if count == 0:
        return Durations(0, None, None)
    if count > EXACT_PERCENTILES_UP_TO:
        return _from_histogram(histogram, count)
    return _exact_durations(session, until_column, start=start, end=end)


def _from_histogram(histogram: dict[int, int], count: int) -> Durations:
    """Percentiles with ``percentile_cont``'s interpolation between neighbouring ranks, each
    rank's value taken as its bucket's geometric middle."""
    buckets = sorted(histogram.items())

    def value_at(rank: int) -> float:
        seen = 0
        for b, n in buckets:
            seen += n
            if rank < seen:
                return DURATION_BUCKET_BASE ** (b + 0.5)
        raise AssertionError("rank beyond the histogram")

    def percentile(p: float) -> float:
        position = p * (count - 1)
        lower = math.floor(position)
        low = value_at(lower)
        if position == lower:
            return low
        return low + (position - lower) * (value_at(lower + 1) - low)

    return Durations(count, percentile(0.5), percentile(0.9), exact=False)


def _exact_durations(
    session: Session, until_column, *, start: datetime, end: datetime
) -> Durations:
    """PostgreSQL computes ``percentile_cont``; SQLite counts the rows and reads the (at most
    two) neighbouring values at each percentile's position with ORDER BY ... OFFSET."""
    seconds = seconds_between(_dialect(session), until_column, Ticket.created_at)
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
    split = _split(start, end)
    queries = [
        select(TicketEvidenceKindDay.kind, func.sum(TicketEvidenceKindDay.n))
        .where(*split.days(TicketEvidenceKindDay.day))
        .group_by(TicketEvidenceKindDay.kind)
    ] + [
        select(Evidence.kind, func.count(distinct(Evidence.ticket_id)))
        .join(Ticket, Ticket.id == Evidence.ticket_id)
        .where(*_in_range(a, b))
        .group_by(Evidence.kind)
        for a, b in split.edges
    ]
    totals: dict[str, int] = {}
    for query in queries:
        for kind, n in session.execute(query):
            totals[kind] = totals.get(kind, 0) + int(n)
    return {kind: n for kind, n in sorted(totals.items()) if n}
