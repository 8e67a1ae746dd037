"""Retention removes the raw mail of tickets decided long ago (and of old unattached
auto-replies and bounces) and nothing else: tickets, their thread, decisions and the audit
trail stay; quarantined mail, open tickets' mail and recent decisions' mail stay raw."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from backoffice.cli import app
from core.audit import record_event
from core.store import session_scope
from core.store.tables import AuditEvent, InboundMessage, Ticket, TicketMessage
from tests.support.ticket_rows import ticket_row

runner = CliRunner()
NOW = datetime.now(UTC)


def inbound(session, *, ticket: Ticket | None, status: str, received_at: datetime) -> int:
    raw = f"From: a@example.org\r\nSubject: {status}\r\n\r\nbody {received_at}\r\n".encode()
    row = InboundMessage(
        message_id=f"<{hashlib.sha256(raw).hexdigest()[:16]}@example.org>",
        sha256=hashlib.sha256(raw).hexdigest(),
        source="eml:/tmp/x.eml",
        received_at=received_at,
        raw=raw,
        size=len(raw),
        status=status,
        ticket_id=ticket.id if ticket else None,
    )
    session.add(row)
    session.flush()
    if ticket is not None:
        session.add(
            TicketMessage(
                ticket_id=ticket.id,
                inbound_message_id=row.id,
                direction="in",
                message_id=row.message_id,
                from_addr="a@example.org",
                subject="Lost my 2FA",
                body_text="Please help.",
                attachments=[{"filename": "id.pub", "content_type": "text/plain", "size": 90}],
                created_at=received_at,
            )
        )
    return row.id


def seed(engine) -> dict[str, int]:
    with session_scope(engine) as s:
        old_decided = ticket_row(
            s, created_at=NOW - timedelta(days=210), status="approved",
            decided_after=timedelta(days=10),
        )  # fmt: skip
        recent_decided = ticket_row(
            s, created_at=NOW - timedelta(days=20), status="denied",
            decided_after=timedelta(days=10),
        )  # fmt: skip
        old_open = ticket_row(s, created_at=NOW - timedelta(days=300), status="open")
        ids = {
            "old_decided": inbound(
                s, ticket=old_decided, status="ticket", received_at=NOW - timedelta(days=210)
            ),
            "old_decided_reply": inbound(
                s, ticket=old_decided, status="threaded", received_at=NOW - timedelta(days=205)
            ),
            "recent_decided": inbound(
                s, ticket=recent_decided, status="ticket", received_at=NOW - timedelta(days=20)
            ),
            "old_open": inbound(
                s, ticket=old_open, status="ticket", received_at=NOW - timedelta(days=300)
            ),
            "old_quarantined": inbound(
                s, ticket=None, status="quarantined", received_at=NOW - timedelta(days=400)
            ),
            "old_bounce": inbound(
                s, ticket=None, status="bounce", received_at=NOW - timedelta(days=400)
            ),
            "recent_bounce": inbound(
                s, ticket=None, status="bounce", received_at=NOW - timedelta(days=3)
            ),
        }
        record_event(
            s, action="ticket.approved", actor="staff:sam", ticket_id=old_decided.id,
            details={"reason": "signed challenge"},
        )  # fmt: skip
    return ids


def counts(engine) -> dict[str, int]:
    with session_scope(engine, readonly=True) as s:
        return {
            table.__tablename__: s.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (Ticket, TicketMessage, InboundMessage, AuditEvent)
        }


def raw_sizes(engine) -> dict[int, int]:
    with session_scope(engine, readonly=True) as s:
        return dict(s.execute(select(InboundMessage.id, func.length(InboundMessage.raw))).all())


def test_dry_run_counts_and_changes_nothing(engine):
    ids = seed(engine)
    before = raw_sizes(engine)
    result = runner.invoke(app, ["retention", "--older-than", "180d", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["dry_run"] is True
    assert report["messages"] == 3 and report["tickets"] == 1
    expected_bytes = sum(before[ids[k]] for k in ("old_decided", "old_decided_reply", "old_bounce"))
    assert report["bytes"] == expected_bytes
    assert raw_sizes(engine) == before


def test_removes_only_expired_raw_mail_and_keeps_the_record(engine):
    ids = seed(engine)
    before = counts(engine)
    result = runner.invoke(app, ["retention", "--older-than", "180d"])
    assert result.exit_code == 0, result.output
    assert "Removed the raw mail of 3 message(s)" in result.output
    sizes = raw_sizes(engine)
    gone = {"old_decided", "old_decided_reply", "old_bounce"}
    assert {name for name, i in ids.items() if sizes[i] == 0} == gone
    after = counts(engine)
    assert after == {**before, "audit_events": before["audit_events"] + 1}
    with session_scope(engine, readonly=True) as s:
        ticket = s.get(Ticket, s.get(InboundMessage, ids["old_decided"]).ticket_id)
        assert ticket.status == "approved" and ticket.decided_at is not None
        kept = s.get(InboundMessage, ids["old_decided"])
        assert kept.sha256 and kept.size > 0  # a re-delivery is still recognised
        thread = s.execute(
            select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
        ).scalars().all()  # fmt: skip
        assert [m.body_text for m in thread] == ["Please help."] * 2
        assert thread[0].attachments[0]["filename"] == "id.pub"
        audit = s.execute(
            select(AuditEvent).where(AuditEvent.action == "retention.raw_mail_removed")
        ).scalar_one()
        assert audit.details["messages"] == 3 and audit.actor == "cli"
    again = runner.invoke(app, ["retention", "--older-than", "180d", "--json"])
    assert json.loads(again.output)["messages"] == 0


def test_small_batches_cover_everything(engine):
    from core.operations.retention import remove_raw_mail

    seed(engine)
    report = remove_raw_mail(engine, older_than=timedelta(days=180), batch_size=1)
    assert (report.messages, report.tickets) == (3, 1)


def test_refuses_a_retention_shorter_than_a_day(engine):
    result = runner.invoke(app, ["retention", "--older-than", "2h"])
    assert result.exit_code == 1 and "at least one day" in result.output
