"""The per-day summaries the triggers keep match a from-scratch recount after every kind of
ticket change, and histogram percentiles stay within their stated error (SQLite and
PostgreSQL)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, distinct, func, insert, select, update

from core.stats import figures
from core.store import session_scope
from core.store.tables import (
    Evidence,
    Ticket,
    TicketDayCount,
    TicketDurationBucket,
    TicketEvidenceKindDay,
)
from core.store.tables.stats import duration_bucket, received_day
from tests.support.ticket_rows import ticket_row

H = timedelta(hours=1)
D = timedelta(days=1)


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def summaries(s) -> dict:
    return {
        "days": {
            (_day(d), st, ev): n
            for d, st, ev, n in s.execute(
                select(
                    TicketDayCount.day,
                    TicketDayCount.status,
                    TicketDayCount.evidence_strength,
                    TicketDayCount.n,
                ).where(TicketDayCount.n != 0)
            )
        },
        "durations": {
            (m, _day(d), b): n
            for m, d, b, n in s.execute(
                select(
                    TicketDurationBucket.measure,
                    TicketDurationBucket.day,
                    TicketDurationBucket.bucket,
                    TicketDurationBucket.n,
                ).where(TicketDurationBucket.n != 0)
            )
        },
        "kinds": {
            (_day(d), k): n
            for d, k, n in s.execute(
                select(
                    TicketEvidenceKindDay.day, TicketEvidenceKindDay.kind, TicketEvidenceKindDay.n
                ).where(TicketEvidenceKindDay.n != 0)
            )
        },
    }


def recount(s) -> dict:
    dialect = s.get_bind().dialect.name
    day = received_day(dialect, Ticket.created_at)
    durations = {}
    for measure, column in figures.MEASURES.items():
        bucket = duration_bucket(dialect, column, Ticket.created_at)
        durations |= {
            (measure, _day(d), b): n
            for d, b, n in s.execute(
                select(day, bucket, func.count()).where(column.is_not(None)).group_by(day, bucket)
            )
        }
    return {
        "days": {
            (_day(d), st, ev): n
            for d, st, ev, n in s.execute(
                select(day, Ticket.status, Ticket.evidence_strength, func.count()).group_by(
                    day, Ticket.status, Ticket.evidence_strength
                )
            )
        },
        "durations": durations,
        "kinds": {
            (_day(d), k): n
            for d, k, n in s.execute(
                select(day, Evidence.kind, func.count(distinct(Evidence.ticket_id)))
                .join(Ticket, Ticket.id == Evidence.ticket_id)
                .group_by(day, Evidence.kind)
            )
        },
    }


def assert_in_step(engine) -> None:
    with session_scope(engine, readonly=True) as s:
        assert summaries(s) == recount(s)


def test_summaries_follow_every_ticket_change(engine, clock):
    base = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    with session_scope(engine) as s:
        ids = [
            ticket_row(
                s,
                created_at=base + i * 7 * H,
                status=("new", "open", "approved")[i % 3],
                evidence_strength=("none", "weak", "strong")[i % 3],
                first_response_after=(i + 1) * H if i % 2 else None,
                decided_after=(i + 1) * D if i % 3 == 2 else None,
            ).id
            for i in range(9)
        ]
        for i, ticket_id in enumerate(ids):
            for kind in ("token", "fingerprint", "token")[: i % 4]:
                s.add(Evidence(ticket_id=ticket_id, kind=kind, value="x", created_at=clock()))
    assert_in_step(engine)
    with session_scope(engine, readonly=True) as s:
        assert sum(summaries(s)["days"].values()) == 9

    with session_scope(engine) as s:  # first response, decision, strength, unrelated columns
        s.execute(
            update(Ticket)
            .where(Ticket.id == ids[0])
            .values(status="open", first_response_at=base + 5 * H)
        )
        s.execute(
            update(Ticket)
            .where(Ticket.id == ids[1])
            .values(status="denied", decided_at=base + 3 * D, evidence_strength="strong")
        )
        s.execute(update(Ticket).where(Ticket.id == ids[2]).values(version=Ticket.version + 1))
        s.execute(update(Ticket).where(Ticket.id == ids[3]).values(created_at=base - 3 * D))
    assert_in_step(engine)

    with session_scope(engine) as s:  # evidence and tickets deleted, in either order
        s.execute(delete(Evidence).where(Evidence.ticket_id == ids[1]))
        s.execute(delete(Evidence).where(Evidence.ticket_id == ids[3], Evidence.kind == "token"))
        s.execute(delete(Ticket).where(Ticket.id == ids[1]))
        s.execute(delete(Ticket).where(Ticket.id == ids[4]))
    assert_in_step(engine)
    with session_scope(engine) as s:
        s.add(Evidence(ticket_id=ids[0], kind="ssh_signature", value="x", created_at=clock()))
        s.add(Evidence(ticket_id=ids[0], kind="ssh_signature", value="y", created_at=clock()))
    assert_in_step(engine)


def test_racing_evidence_of_one_kind_counts_its_ticket_once(engine, clock):
    """Two transactions adding the first evidence of one kind to the same ticket at once:
    the second waits for the first (its trigger locks the ticket), then sees its row, so
    the ticket counts once. A ticket written in the adding transaction itself needs no
    lock (nobody else can see it) and still counts once."""
    with session_scope(engine) as s:
        ticket_id = ticket_row(s, created_at=clock()).id
    first_in = threading.Event()
    second_done = threading.Event()

    def second() -> None:
        first_in.wait(10)
        with session_scope(engine) as s:
            s.add(Evidence(ticket_id=ticket_id, kind="fingerprint", value="b", created_at=clock()))
        second_done.set()

    racer = threading.Thread(target=second)
    racer.start()
    with session_scope(engine) as s:
        s.add(Evidence(ticket_id=ticket_id, kind="fingerprint", value="a", created_at=clock()))
        s.flush()
        first_in.set()
        assert not second_done.wait(1.0)  # held back until this transaction ends
        fresh = ticket_row(s, created_at=clock()).id
        s.add(Evidence(ticket_id=fresh, kind="fingerprint", value="c", created_at=clock()))
    racer.join(10)
    assert second_done.is_set()
    assert_in_step(engine)
    with session_scope(engine, readonly=True) as s:
        kinds = summaries(s)["kinds"]
        assert sum(n for (_, kind), n in kinds.items() if kind == "fingerprint") == 2


def _generate(engine, count: int, start: datetime, seed: int = 3) -> None:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        created = start + timedelta(seconds=rng.uniform(0, 10 * 86400))
        first = created + timedelta(seconds=rng.lognormvariate(9, 1.2))
        rows.append(
            {
                "subject": "s",
                "requester_email": "r@example.org",
                "status": "approved",
                "evidence_strength": "strong",
                "challenge_nonce": "n",
                "challenge_expires_at": created,
                "created_at": created,
                "updated_at": created,
                "first_response_at": first,
                "decided_at": first + timedelta(seconds=rng.uniform(0, 3 * 86400)),
            }
        )
    with session_scope(engine) as s:
        s.execute(insert(Ticket), rows)


def test_histogram_percentiles_within_stated_error(engine):
    start = datetime(2026, 10, 1, tzinfo=UTC)
    _generate(engine, 6000, start)
    assert_in_step(engine)
    for a, b in ((start, start + 10 * D), (start + 13 * H, start + 8 * D + 5 * H)):
        with session_scope(engine, readonly=True) as s:
            for measure, column in figures.MEASURES.items():
                approx = figures.durations(s, measure, start=a, end=b)
                exact = figures._exact_durations(s, column, start=a, end=b)
                assert not approx.exact and approx.count == exact.count > 4000
                for got, want in (
                    (approx.median_seconds, exact.median_seconds),
                    (approx.p90_seconds, exact.p90_seconds),
                ):
                    assert got == pytest.approx(want, rel=figures.PERCENTILE_RELATIVE_ERROR)
            # the other cohort figures are exact, edges included
            cohort = figures.cohort(s, start=a, end=b)
            received = s.execute(
                select(func.count()).where(Ticket.created_at >= a, Ticket.created_at < b)
            ).scalar_one()
            assert sum(n for _, n in cohort.per_day()) == received


def test_small_ranges_stay_exact(engine):
    start = datetime(2026, 10, 1, tzinfo=UTC)
    _generate(engine, 300, start)
    with session_scope(engine, readonly=True) as s:
        approx = figures.durations(s, "decision", start=start + 5 * H, end=start + 9 * D)
        exact = figures._exact_durations(
            s, Ticket.decided_at, start=start + 5 * H, end=start + 9 * D
        )
    assert approx == exact and approx.exact
