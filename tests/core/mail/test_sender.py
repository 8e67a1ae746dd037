"""The outbox sender against a real aiosmtpd server that fails on demand: delivery, reused
connections, back-off, permanent failures, outages, and several workers at once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import select

from core.mail.sender import OutboxSender
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import OutboxEmail
from tests.core.mail.conftest import queue_many
from tests.support.smtp_sink import SmtpSink


def rows(engine):
    with session_scope(engine) as s:
        return s.exec(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def test_delivers_multipart_mail_with_stable_headers_over_reused_connections(
    engine, clock, sink, monkeypatch
):
    monkeypatch.setenv("BACKOFFICE_SMTP_CONNECTIONS", "2")
    get_settings.cache_clear()
    ids = queue_many(
        engine,
        clock,
        5,
        in_reply_to="<req@mail.example.org>",
        references=["<a@x.org>", "<req@mail.example.org>"],
        auto_submitted="auto-generated",
    )
    result = OutboxSender(engine, clock=clock).deliver_due()
    assert (result.sent, result.retrying, result.failed) == (5, 0, 0)
    assert sink.handler.connections == get_settings().smtp_connections == 2
    assert sorted(m["Message-ID"] for m in sink.messages) == sorted(ids)
    (message,) = [m for m in sink.messages if m["Message-ID"] == ids[0]]
    settings = get_settings()
    assert message["From"] == f"{settings.support_name} <{settings.support_address}>"
    assert message["Reply-To"] == settings.support_address
    assert message["To"] == "user0@example.org"
    assert message["In-Reply-To"] == "<req@mail.example.org>"
    assert message["References"] == "<a@x.org> <req@mail.example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"] is not None
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert (settings.support_address, ["user0@example.org"]) in sink.handler.envelopes
    assert {r.status for r in rows(engine)} == {"sent"}
    assert OutboxSender(engine, clock=clock).deliver_due().attempted == 0


def test_an_outage_delays_but_loses_and_duplicates_nothing(engine, clock, smtp_port, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_SMTP_CONNECTIONS", "2")
    get_settings.cache_clear()
    ids = queue_many(engine, clock, 12)
    down = OutboxSender(engine, clock=clock).deliver_due()
    assert (down.sent, down.retrying) == (0, 2)  # one try per connection, then it stops
    tried = [r for r in rows(engine) if r.attempts]
    assert len(tried) == 2
    for row in tried:
        assert row.status == "queued" and row.attempts == 1
        assert row.next_attempt_at == clock() + timedelta(seconds=60)
        assert "cannot connect" in row.last_error
    untried = [r for r in rows(engine) if not r.attempts]
    assert {(r.status, r.claimed_by, r.next_attempt_at) for r in untried} == {
        ("queued", None, clock())  # not the message's fault: no attempt, still due
    }

    sink = SmtpSink(smtp_port).start()
    try:
        assert OutboxSender(engine, clock=clock).deliver_due().sent == 10
        clock.advance(seconds=60)
        assert OutboxSender(engine, clock=clock).deliver_due().sent == 2
        clock.advance(hours=1)
        assert OutboxSender(engine, clock=clock).deliver_due().attempted == 0
    finally:
        sink.stop()
    assert sorted(m["Message-ID"] for m in sink.messages) == sorted(ids)


def test_a_temporary_refusal_is_retried_with_doubling_back_off(engine, clock, sink):
    queue_many(engine, clock, 1)
    sink.handler.fail_with = "451 4.3.0 Try again later"
    OutboxSender(engine, clock=clock).deliver_due()
    (row,) = rows(engine)
    assert (row.status, row.attempts, row.last_error) == ("queued", 1, "451 4.3.0 Try again later")
    assert row.next_attempt_at == clock() + timedelta(seconds=60)
    clock.advance(seconds=60)
    OutboxSender(engine, clock=clock).deliver_due()
    (row,) = rows(engine)
    assert row.attempts == 2 and row.next_attempt_at == clock() + timedelta(seconds=120)
    sink.handler.fail_with = None
    clock.advance(seconds=120)
    assert OutboxSender(engine, clock=clock).deliver_due().sent == 1
    (row,) = rows(engine)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert len(sink.messages) == 1


def test_a_permanent_refusal_fails_at_once_with_the_servers_reply(engine, clock, sink):
    queue_many(engine, clock, 2)
    sink.handler.fail_with = "550 5.1.1 No such user"
    result = OutboxSender(engine, clock=clock).deliver_due()
    assert (result.sent, result.failed) == (0, 2)
    for row in rows(engine):
        assert (row.status, row.last_error) == ("failed", "550 5.1.1 No such user")
    sink.handler.fail_with = None
    clock.advance(days=1)
    assert OutboxSender(engine, clock=clock).deliver_due().attempted == 0
    assert sink.messages == []


def test_temporary_failures_give_up_after_the_last_attempt(engine, clock, sink, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_OUTBOX_MAX_ATTEMPTS", "2")
    get_settings.cache_clear()
    queue_many(engine, clock, 1)
    sink.handler.fail_with = "452 4.2.2 Mailbox full"
    OutboxSender(engine, clock=clock).deliver_due()
    clock.advance(seconds=60)
    result = OutboxSender(engine, clock=clock).deliver_due()
    assert result.failed == 1
    (row,) = rows(engine)
    assert row.status == "failed" and "452 4.2.2 Mailbox full" in row.last_error


def test_a_row_left_sending_by_a_dead_worker_is_taken_over_after_its_claim(engine, clock, sink):
    queue_many(engine, clock, 1)
    with session_scope(engine) as s:
        row = s.exec(select(OutboxEmail)).one()
        row.status, row.claimed_by = "sending", "dead-worker"
        row.claimed_until = clock() + timedelta(minutes=5)
    assert OutboxSender(engine, clock=clock).deliver_due().attempted == 0
    clock.advance(minutes=6)
    assert OutboxSender(engine, clock=clock).deliver_due().sent == 1


def test_several_workers_send_each_row_exactly_once(engine, clock, sink, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_OUTBOX_BATCH_SIZE", "7")
    get_settings.cache_clear()
    ids = queue_many(engine, clock, 60)
    barrier = threading.Barrier(4)
    totals = []

    def work(n):
        barrier.wait()
        totals.append(OutboxSender(engine, clock=clock, worker_id=f"w{n}").deliver_due().sent)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(totals) == 60
    received = [m["Message-ID"] for m in sink.messages]
    assert len(received) == 60 and sorted(received) == sorted(ids)
    assert {r.status for r in rows(engine)} == {"sent"}
