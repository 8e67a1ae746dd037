"""Ops figures against a known dataset, on SQLite and PostgreSQL (exact medians and p90s)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from core.stats import ops_report
from core.store import session_scope
from core.store.tables import Evidence, InboundMessage
from tests.support.ticket_rows import ticket_row

H = timedelta(hours=1)
D = timedelta(days=1)
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def report(engine, clock):
    """Received in November: five tickets (Mon 16th x2, Tue 17th, Mon 23rd, Fri 27th) plus
    one in October that every cohort figure must ignore."""
    with session_scope(engine) as s:
        rows = [
            # created_at, status, strength, first response after, decided after
            (datetime(2026, 11, 16, 9, tzinfo=UTC), "approved", "strong", 1 * H, 1 * D),
            (datetime(2026, 11, 16, 15, tzinfo=UTC), "denied", "none", 2 * H, 2 * D),
            (datetime(2026, 11, 17, 9, tzinfo=UTC), "approved", "weak", 3 * H, 4 * D),
            (datetime(2026, 11, 23, 9, tzinfo=UTC), "awaiting_user", "weak", 4 * H, None),
            (datetime(2026, 11, 27, 9, tzinfo=UTC), "new", "none", 10 * H, None),
            (datetime(2026, 10, 20, 9, tzinfo=UTC), "open", "none", 100 * H, None),
        ]
        tickets = [
            ticket_row(
                s,
                created_at=created,
                status=status,
                evidence_strength=strength,
                first_response_after=first,
                decided_after=decided,
            )
            for created, status, strength, first, decided in rows
        ]
        for ticket, kinds in zip(
            tickets,
            [("token",), ("ssh_public_key", "fingerprint"), ("ssh_public_key",)],
            strict=False,
        ):
            for kind in kinds:
                s.add(Evidence(ticket_id=ticket.id, kind=kind, value="x", created_at=clock()))
        s.add(
            InboundMessage(
                message_id="<q@x>",
                sha256="0" * 64,
                source="eml:x",
                received_at=clock(),
                raw=b"x",
                size=1,
                status="quarantined",
                reason="unparseable",
            )
        )
    with session_scope(engine, readonly=True) as s:
        return ops_report(s, start=START, end=END, clock=clock)


def test_volume_per_day_and_week(report):
    assert report.received == 5
    assert report.received_per_day == [
        (date(2026, 11, 16), 2),
        (date(2026, 11, 17), 1),
        (date(2026, 11, 23), 1),
        (date(2026, 11, 27), 1),
    ]
    assert report.received_per_week == [(date(2026, 11, 16), 3), (date(2026, 11, 23), 2)]


def test_backlog_and_oldest_open(report, clock):
    assert report.backlog == {"new": 1, "open": 1, "awaiting_user": 1}
    assert report.oldest_open_age == clock() - datetime(2026, 10, 20, 9, tzinfo=UTC)


def test_response_and_decision_percentiles(report):
    fr = report.first_response
    assert fr.count == 5
    assert fr.median_seconds == pytest.approx(3 * 3600)
    assert fr.p90_seconds == pytest.approx(7.6 * 3600)  # 4h + 0.6 * (10h - 4h)
    dec = report.decision
    assert dec.count == 3
    assert dec.median_seconds == pytest.approx(2 * 86400)
    assert dec.p90_seconds == pytest.approx(3.6 * 86400)  # 2d + 0.8 * (4d - 2d)


def test_outcomes_evidence_and_mail(report):
    assert (report.approved, report.denied) == (2, 1)
    assert report.approval_ratio == pytest.approx(2 / 3)
    assert report.evidence_strength == {"strong": 1, "none": 2, "weak": 2}
    assert report.evidence_kinds == {"fingerprint": 1, "ssh_public_key": 2, "token": 1}
    assert report.outbox == {"queued": 0, "failed": 0}
    assert report.quarantined == 1


def test_csv_export(report):
    rows = list(csv.reader(io.StringIO(report.to_csv())))
    assert rows[0] == ["section", "name", "value"]
    assert ["first_response", "median_seconds", "10800.0"] in rows
    assert ["received_per_week", "2026-11-23", "2"] in rows
    assert ["outcome", "approval_ratio", "0.6667"] in rows


def test_empty_range(engine, clock):
    with session_scope(engine, readonly=True) as s:
        empty = ops_report(s, start=START, end=END, clock=clock)
    assert empty.received == 0 and empty.first_response.median_seconds is None
    assert empty.oldest_open_age is None and empty.approval_ratio is None
