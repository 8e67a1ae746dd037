"""Duplicates, re-deliveries, per-message faults and the acknowledgement limits, decided by
the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading

from sqlalchemy import func, select

import core.inbound.prepare as prepare_module
import core.inbound.write as write
from core.inbound import SourceMessage, ingest_bytes, ingest_messages
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import InboundMessage, OutboxEmail, Ticket
from tests.support.mail import recovery_email


def _count(engine, table, *where) -> int:
    with session_scope(engine, readonly=True) as s:
        return s.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_same_message_id_with_other_attachments_is_another_message(inbox):
    """Issue 11 item 5: same Message-ID, sender, subject and text, but another attachment
    (same name, type and size): a second ticket, not a re-delivery."""
    first = recovery_email(
        message_id="<att@example.com>",
        attachments=[("key.bin", "application/octet-stream", b"A" * 64)],
    )
    second = recovery_email(
        message_id="<att@example.com>",
        attachments=[("key.bin", "application/octet-stream", b"B" * 64)],
    )
    assert inbox.ingest(first).status == "ticket"
    assert inbox.ingest(second).status == "ticket"
    again = inbox.ingest(b"Received: from mx2.example.com\r\n" + second)
    assert again.status == "duplicate" and "re-delivery" in again.reason
    assert len(inbox.all(Ticket)) == 2


def test_redelivery_row_keeps_its_raw_copy_and_points_at_the_ticket(inbox):
    raw = recovery_email(message_id="<kept@example.com>")
    first = inbox.ingest(raw)
    copy = b"Received: from mx2.example.com\r\n" + raw
    second = inbox.ingest(copy)
    assert (second.status, second.ticket_id) == ("duplicate", first.ticket_id)
    rows = inbox.inbound()
    assert [r.status for r in rows] == ["ticket", "duplicate"]
    assert rows[1].raw == copy and rows[1].ticket_id == first.ticket_id
    assert rows[0].content_digest and rows[1].content_digest is None
    assert inbox.ingest(copy).inbound_id is None  # the same bytes again: nothing stored


def test_racing_copies_of_one_email_make_one_ticket(engine, clock):
    """Four sessions ingest four copies (each with its own Received line) at once."""
    raw = recovery_email(message_id="<race@example.com>")
    copies = [f"Received: from mx{i}.example.com\r\n".encode() + raw for i in range(4)]
    barrier = threading.Barrier(4)
    outcomes = []

    def run(copy):
        with session_scope(engine) as s:
            barrier.wait()
            outcomes.append(ingest_bytes(s, copy, source="race", clock=clock))

    threads = [threading.Thread(target=run, args=(c,)) for c in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.status for o in outcomes) == ["duplicate"] * 3 + ["ticket"]
    assert _count(engine, Ticket) == 1 and _count(engine, OutboxEmail) == 1


def test_nul_bytes_in_subject_and_from_do_not_sink_the_batch(engine, clock):
    """Issue 11 item 7: a NUL in a Subject or From (PostgreSQL refuses NUL in text) is made
    storable; the good mail of the same batch commits and every message is marked done."""
    bad_subject = recovery_email(sender="nul1@example.com").replace(
        b"Subject: Lost my authenticator", b"Subject: Lost my\x00 authenticator"
    )
    bad_from = recovery_email(sender="nul2@example.com").replace(
        b"From: nul2@example.com", b"From: Nul\x00 Name <nul2@example.com>"
    )
    assert b"\x00" in bad_subject and b"\x00" in bad_from
    done = []
    raws = [recovery_email(sender="good1@example.com"), bad_subject, bad_from]
    raws.append(recovery_email(sender="good2@example.com"))
    messages = [
        SourceMessage(r, "maildir", done=lambda i=i: done.append(i)) for i, r in enumerate(raws)
    ]
    report = ingest_messages(engine, messages, clock=clock, batch_size=10)
    assert report.balanced and report.seen == 4 and sorted(done) == [0, 1, 2, 3]
    assert report.new_tickets + report.quarantined == 4 and report.new_tickets >= 2
    with session_scope(engine, readonly=True) as s:
        subjects = s.execute(select(Ticket.subject)).scalars().all()
    assert not any("\x00" in subject for subject in subjects)


def test_a_message_the_database_refuses_is_quarantined_alone(engine, clock, monkeypatch):
    """A row the database itself refuses (here a NOT NULL column) quarantines that message
    only, on both databases; the others of the batch are written."""
    real = write.message_fields

    def refused(parsed, message_id):
        fields = real(parsed, message_id)
        return {**fields, "body_text": None} if "refuse" in parsed.subject else fields

    monkeypatch.setattr(write, "message_fields", refused)
    subjects = ["one", "please refuse me", "three"]
    messages = [
        SourceMessage(recovery_email(sender=f"s{i}@example.com", subject=s), "t")
        for i, s in enumerate(subjects)
    ]
    report = ingest_messages(engine, messages, clock=clock, batch_size=10)
    assert (report.new_tickets, report.quarantined, report.balanced) == (2, 1, True)
    with session_scope(engine, readonly=True) as s:
        (row,) = s.execute(
            select(InboundMessage).where(InboundMessage.status == "quarantined")
        ).scalars()
        assert row.subject == "please refuse me" and "processing failed" in row.reason
    assert _count(engine, Ticket) == 2


def test_plus_addressing_does_not_escape_the_sender_limit(inbox):
    """Issue 10 item 13: victim+1@, victim+2@... are one mailbox for the limit."""
    limit = get_settings().ack_max_per_sender_per_day
    outcomes = [
        inbox.ingest(recovery_email(sender=f"Victim <Victim+{i}@example.com>", body=f"req {i}"))
        for i in range(limit + 3)
    ]
    assert all(o.status == "ticket" for o in outcomes)
    assert sum(o.acknowledged for o in outcomes) == limit
    assert (
        inbox.ingest(recovery_email(sender="victim@example.com", body="plain")).acknowledged
        is False
    )


def test_global_acknowledgement_rate(inbox, clock, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_ACK_MAX_PER_HOUR", "2")
    get_settings.cache_clear()
    outcomes = [inbox.ingest(recovery_email(sender=f"u{i}@example.org")) for i in range(4)]
    assert [o.acknowledged for o in outcomes] == [True, True, False, False]
    clock.advance(hours=1, seconds=1)
    assert inbox.ingest(recovery_email(sender="late@example.org")).acknowledged


def test_global_rate_within_one_batch(engine, clock, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_ACK_MAX_PER_HOUR", "3")
    get_settings.cache_clear()
    messages = [SourceMessage(recovery_email(sender=f"b{i}@example.org"), "t") for i in range(6)]
    report = ingest_messages(engine, messages, clock=clock, batch_size=10)
    assert (report.new_tickets, report.acknowledged) == (6, 3)
    assert _count(engine, OutboxEmail) == 3


def test_greeting_does_not_echo_a_display_name_that_looks_like_content(inbox):
    spam = "Win a prize at http://evil.example now"
    inbox.ingest(recovery_email(sender=f'"{spam}" <target@example.com>'))
    inbox.ingest(recovery_email(sender="Zoë O'Brien <zoe@example.com>"))
    spammed, named = inbox.outbox()
    assert "evil.example" not in spammed.body_text and "evil.example" not in spammed.body_html
    assert spammed.body_text.startswith("Hi there,")
    assert named.body_text.startswith("Hi Zoë O'Brien,")
    assert inbox.ticket(1).requester_name == spam  # kept for staff, shown literally there


def test_sender_problem_opens_a_flagged_ticket_never_acknowledged(inbox, monkeypatch):
    real = prepare_module.parse_message

    def with_problem(raw, **kwargs):
        return dataclasses.replace(real(raw, **kwargs), sender_problem="two @ signs")

    monkeypatch.setattr(prepare_module, "parse_message", with_problem)
    outcome = inbox.ingest(recovery_email())
    assert outcome.status == "ticket" and outcome.flagged and not outcome.acknowledged
    ticket = inbox.ticket(outcome.ticket_id)
    assert ticket.flagged and "two @ signs" in ticket.flag_reason
    assert inbox.outbox() == []


def test_reprocessed_copies_make_one_ticket(inbox, engine, clock, monkeypatch):
    """Re-processing goes through the same path: two quarantined copies of one email
    (too large at the time) become one ticket and one re-delivery."""
    from core.inbound import reprocess_quarantined

    monkeypatch.setenv("BACKOFFICE_INBOUND_MAX_BYTES", "500")
    get_settings.cache_clear()
    raw = recovery_email(message_id="<big@example.com>", body="x" * 1000)
    first = inbox.ingest(raw)
    second = inbox.ingest(b"Received: from mx2.example.com\r\n" + raw)
    assert first.status == second.status == "quarantined"
    monkeypatch.setenv("BACKOFFICE_INBOUND_MAX_BYTES", "100000")
    get_settings.cache_clear()
    with session_scope(engine) as s:
        one = reprocess_quarantined(s, first.inbound_id, clock=clock)
    with session_scope(engine) as s:
        two = reprocess_quarantined(s, second.inbound_id, clock=clock)
    assert (one.status, two.status) == ("ticket", "duplicate")
    assert two.ticket_id == one.ticket_id and "re-delivery" in two.reason
    assert [r.status for r in inbox.inbound()] == ["ticket", "duplicate"]
    assert len(inbox.all(Ticket)) == 1


def test_stranger_replying_in_the_same_batch_opens_a_flagged_ticket(engine, clock):
    """A reply to a ticket opened earlier in the same batch, from someone else, is planned
    against that ticket and opens its own flagged ticket instead of joining it."""
    first = recovery_email(message_id="<open@example.com>", sender="bob@example.com")
    stranger = recovery_email(
        sender="mallory@example.com", in_reply_to="<open@example.com>", body="me too"
    )
    report = ingest_messages(
        engine, [SourceMessage(first, "a"), SourceMessage(stranger, "a")], clock=clock
    )
    assert (report.new_tickets, report.threaded, report.flagged) == (2, 0, 1)
    with session_scope(engine, readonly=True) as s:
        flagged = s.execute(select(Ticket).where(Ticket.flagged)).scalar_one()
    assert flagged.requester_email == "mallory@example.com"
    assert "<open@example.com>" in flagged.flag_reason
