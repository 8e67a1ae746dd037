"""One message through the whole pipeline, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from core.accounts.tokens import hash_token
from core.inbound import (
    SourceMessage,
    default_parse_processes,
    ingest_messages,
    reprocess_quarantined,
)
from core.inbound.pipeline import _prepared_batches
from core.inbound.process_tuning import (
    GC_FIRST_GENERATION,
    HANDOFF_SWITCH_SECONDS,
    fewer_collections,
)
from core.settings import get_settings
from core.store import session_scope
from core.store.tables import AuditEvent, Evidence, OutboxEmail, Ticket
from core.tickets.challenge import challenge_text, signing_command
from tests.support.mail import recovery_email
from tests.support.signing import make_key

TOKEN = "hf_" + "ZyXwVuTsRqPoNmLkJiHgFeDcBaZyXwVuTs"


def test_new_request_opens_an_acknowledged_ticket(inbox, tmp_path):
    pair = make_key(tmp_path, "ed25519")
    raw = recovery_email(
        message_id="<req-1@example.com>",
        references="<older@example.com>",
        body=f"My username is alice.\nKey: {pair.public_line}\nToken: {TOKEN}\n",
    )
    outcome = inbox.ingest(raw)
    assert outcome.status == "ticket" and outcome.acknowledged and not outcome.flagged

    ticket = inbox.ticket(outcome.ticket_id)
    assert ticket.status == "new" and ticket.version == 1
    assert ticket.requester_email == "alice@example.com"
    assert ticket.requester_name == "Alice Example"
    assert ticket.claimed_username == "alice"
    assert ticket.last_inbound_message_id == "<req-1@example.com>"
    assert ticket.challenge_nonce and ticket.challenge_expires_at > ticket.created_at

    (stored,) = inbox.inbound()
    assert stored.status == "ticket" and stored.ticket_id == ticket.id
    assert stored.sha256 == hashlib.sha256(raw).hexdigest() and stored.size == len(raw)
    assert TOKEN.encode() not in stored.raw

    evidence = {e.kind: e for e in inbox.evidence(ticket.id)}
    assert evidence["ssh_public_key"].value == pair.public_line
    assert evidence["token"].value == "hf_…VuTs"
    assert evidence["token"].token_hash == hash_token(TOKEN)
    assert evidence["claimed_username"].value == "alice"

    incoming, ack_message = inbox.messages(ticket.id)
    assert (incoming.direction, ack_message.direction) == ("in", "out")
    assert TOKEN not in incoming.body_text and "hf_…VuTs" in incoming.body_text

    (ack,) = inbox.outbox()
    assert ack.template == "ticket_received" and ack.ticket_id == ticket.id
    assert ack.to_addr == "alice@example.com"
    assert ack.message_id == ack_message.message_id
    assert ack.headers["In-Reply-To"] == "<req-1@example.com>"
    assert ack.headers["References"] == "<older@example.com> <req-1@example.com>"
    assert ack.headers["Auto-Submitted"] == "auto-replied"
    assert f"[#{ticket.id}]" in ack.subject
    assert challenge_text(ticket) in ack.body_text
    assert signing_command() in ack.body_text
    assert "ticket.created" in [a.action for a in inbox.all(AuditEvent)]


def test_same_bytes_twice_is_a_duplicate(inbox):
    raw = recovery_email()
    assert inbox.ingest(raw).status == "ticket"
    again = inbox.ingest(raw)
    assert again.status == "duplicate" and again.inbound_id is None
    assert len(inbox.inbound()) == 1 and len(inbox.all(Ticket)) == 1


def test_redelivery_with_other_transport_headers_is_a_duplicate(inbox):
    raw = recovery_email(message_id="<same@example.com>")
    first = inbox.ingest(raw)
    second = inbox.ingest(b"Received: from relay2.example.com\r\n" + raw)
    assert second.status == "duplicate" and second.ticket_id == first.ticket_id
    assert len(inbox.all(Ticket)) == 1 and len(inbox.inbound()) == 2


def test_reused_message_id_with_other_content_is_a_new_message(inbox):
    inbox.ingest(recovery_email(message_id="<reused@example.com>", body="first"))
    other = inbox.ingest(recovery_email(message_id="<reused@example.com>", body="second"))
    assert other.status == "ticket"


def test_acknowledgements_are_rate_limited_per_sender(inbox, clock):
    limit = get_settings().ack_max_per_sender_per_day
    outcomes = [inbox.ingest(recovery_email(body=f"request {i}")) for i in range(limit + 2)]
    assert [o.acknowledged for o in outcomes] == [True] * limit + [False, False]
    assert all(o.status == "ticket" for o in outcomes)
    other = inbox.ingest(recovery_email(sender="bob@example.com"))
    assert other.acknowledged
    clock.advance(days=1, seconds=1)
    assert inbox.ingest(recovery_email(body="next day")).acknowledged


def test_mail_from_the_support_address_is_never_answered(inbox):
    outcome = inbox.ingest(recovery_email(sender=get_settings().support_address))
    assert outcome.status == "ticket" and not outcome.acknowledged
    assert inbox.outbox() == []


def test_auto_reply_is_recorded_not_answered(inbox):
    outcome = inbox.ingest(recovery_email(headers={"Auto-Submitted": "auto-replied"}))
    assert outcome.status == "auto" and outcome.ticket_id is None
    assert inbox.all(Ticket) == [] and inbox.outbox() == []
    assert inbox.inbound()[0].status == "auto"


def _bounce_for(original_message_id: str) -> bytes:
    dsn = EmailMessage()
    dsn["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.com>"
    dsn["To"] = get_settings().support_address
    dsn["Subject"] = "Undelivered Mail Returned to Sender"
    dsn["Message-ID"] = "<bounce-1@mx.example.com>"
    dsn.set_content("Your message could not be delivered.")
    original = EmailMessage()
    original["From"] = get_settings().support_address
    original["Message-ID"] = original_message_id
    original["Subject"] = "[#1] We received your request"
    original.set_content("...")
    dsn.add_attachment(original)
    dsn.replace_header("Content-Type", dsn["Content-Type"].replace("mixed", "report"))
    dsn.set_param("report-type", "delivery-status")
    return dsn.as_bytes()


def test_bounce_of_our_acknowledgement_is_attached_to_its_ticket(inbox):
    ticket_id = inbox.ingest(recovery_email()).ticket_id
    (ack,) = inbox.outbox()
    outcome = inbox.ingest(_bounce_for(ack.message_id))
    assert outcome.status == "bounce" and outcome.ticket_id == ticket_id
    assert inbox.inbound()[-1].ticket_id == ticket_id
    assert [m.from_addr for m in inbox.messages(ticket_id)][-1] == "mailer-daemon@mx.example.com"
    assert len(inbox.outbox()) == 1
    assert inbox.ticket(ticket_id).version == 1


def test_unknown_bounce_is_recorded_without_ticket(inbox):
    outcome = inbox.ingest(_bounce_for("<not-ours@example.com>"))
    assert outcome.status == "bounce" and outcome.ticket_id is None


def test_oversized_message_is_quarantined_then_reprocessed(inbox, engine, monkeypatch, clock):
    monkeypatch.setenv("BACKOFFICE_INBOUND_MAX_BYTES", "500")
    get_settings.cache_clear()
    raw = recovery_email(body="x" * 1000)
    outcome = inbox.ingest(raw)
    assert outcome.status == "quarantined" and "exceeds" in outcome.reason
    (row,) = inbox.inbound()
    assert row.raw == raw and row.status == "quarantined" and "exceeds" in row.reason
    assert row.from_addr is None

    monkeypatch.setenv("BACKOFFICE_INBOUND_MAX_BYTES", "100000")
    get_settings.cache_clear()
    with session_scope(engine) as s:
        again = reprocess_quarantined(s, row.id, clock=clock)
    assert again.status == "ticket"
    assert inbox.inbound()[0].status == "ticket"


def test_processing_failure_quarantines_only_that_message(engine, clock, monkeypatch):
    import core.inbound.write as write

    real = write.message_fields

    def flaky(parsed, message_id):
        if "boom" in parsed.subject:
            raise ValueError("simulated bug")
        return real(parsed, message_id)

    monkeypatch.setattr(write, "message_fields", flaky)
    messages = [SourceMessage(recovery_email(subject=s), "test") for s in ("one", "boom", "three")]
    report = ingest_messages(engine, messages, clock=clock, batch_size=10)
    assert (report.new_tickets, report.quarantined, report.balanced) == (2, 1, True)
    with session_scope(engine, readonly=True) as s:
        assert s.execute(select(func.count()).select_from(Ticket)).scalar() == 2
        assert s.execute(select(func.count()).select_from(OutboxEmail)).scalar() == 2


def _token_messages() -> list[bytes]:
    qp = (
        b"From: t1@example.com\r\nMessage-ID: <qp@x>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        + f"Gr=C3=BC=C3=9Fe, token {TOKEN[:20]}=\r\n{TOKEN[20:]} bye\r\n".encode()
    )
    b64_subject = base64.b64encode(f"my token {TOKEN}".encode()).decode()
    return [
        recovery_email(body=f"token: {TOKEN}", sender="x <t0@example.com>"),
        qp,
        recovery_email(subject=f"=?utf-8?b?{b64_subject}?=", sender="t2@example.com"),
        recovery_email(
            sender="t3@example.com",
            attachments=[("token.txt", "text/plain", f"{TOKEN}\n".encode())],
        ),
        recovery_email(sender="t4@example.com", body=None, html=f"<p>token <b>{TOKEN}</b></p>"),
        recovery_email(sender="t5@example.com", body="x" * 10, headers={"X-Note": TOKEN}),
    ]


def _all_stored_text(engine) -> str:
    chunks = []
    with session_scope(engine, readonly=True) as s:
        for table in SQLModel.metadata.sorted_tables:
            for row in s.execute(select(table)).mappings():
                for value in row.values():
                    if isinstance(value, bytes):
                        chunks.append(value.decode("latin-1"))
                    elif isinstance(value, dict | list):
                        chunks.append(json.dumps(value))
                    elif value is not None:
                        chunks.append(str(value))
    return "\n".join(chunks)


def test_no_stored_row_or_log_line_holds_a_full_token(inbox, engine, caplog):
    caplog.set_level(logging.DEBUG)
    outcomes = [inbox.ingest(raw) for raw in _token_messages()]
    assert all(o.status == "ticket" for o in outcomes), outcomes
    token_evidence = [e for e in inbox.all(Evidence) if e.kind == "token"]
    assert len(token_evidence) == 5  # the X-Note header is not evidence, only redacted
    assert {e.token_hash for e in token_evidence} == {hash_token(TOKEN)}
    stored = _all_stored_text(engine)
    assert "hf_" in stored
    assert TOKEN not in stored
    assert TOKEN.lower() not in stored.lower()
    assert TOKEN not in caplog.text


def test_two_ingesters_racing_create_one_ticket(engine, clock):
    raw = recovery_email()
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        from core.inbound import ingest_bytes

        with session_scope(engine) as s:
            barrier.wait()
            outcomes.append(ingest_bytes(s, raw, source="race", clock=clock))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.status for o in outcomes) == ["duplicate", "ticket"]
    with session_scope(engine, readonly=True) as s:
        assert s.execute(select(func.count()).select_from(Ticket)).scalar() == 1


@pytest.mark.parametrize("bad", [b"", b"\x00\xff garbage", b"From: \r\n\r\n"])
def test_garbage_is_quarantined_with_its_bytes(inbox, bad):
    outcome = inbox.ingest(bad)
    assert outcome.status == "quarantined" and outcome.reason
    assert inbox.inbound()[0].raw == bad


@pytest.mark.parametrize("batch_size", [1, 10])
def test_redelivery_detected_within_and_across_batches(engine, clock, batch_size):
    raw = recovery_email(message_id="<twice@example.com>")
    messages = [
        SourceMessage(raw, "a"),
        SourceMessage(recovery_email(sender="other@example.com"), "a"),
        SourceMessage(b"Received: from relay2.example.com\r\n" + raw, "b"),
    ]
    report = ingest_messages(engine, messages, clock=clock, batch_size=batch_size)
    assert (report.new_tickets, report.duplicates, report.balanced) == (2, 1, True)


def test_evidence_is_verified_as_it_arrives(inbox, engine, clock, tmp_path):
    """The verification report is recomputed by ingestion itself: a registered public key
    makes a new ticket weak, and a reply carrying a valid token makes it strong."""
    from core.accounts.ssh_keys import add_ssh_key
    from core.accounts.tokens import issue_token
    from core.verification import latest_report
    from tests.support.recovery_tickets import make_user

    pair = make_key(tmp_path, "ed25519")
    with session_scope(engine) as s:
        alice = make_user(s, "alice", clock=clock)
        add_ssh_key(s, user=alice, public_key=pair.public_line, clock=clock)
        token = issue_token(s, user=alice, name="laptop", clock=clock).plaintext
    first = inbox.ingest(
        recovery_email(
            message_id="<req-v1@example.org>",
            sender="Alice <alice@example.org>",
            body=f"My username is alice.\nKey: {pair.public_line}\n",
        )
    )
    ticket = inbox.ticket(first.ticket_id)
    assert (ticket.user_id, ticket.evidence_strength) == (alice.id, "weak")
    reply = inbox.ingest(
        recovery_email(
            message_id="<req-v2@example.org>",
            sender="Alice <alice@example.org>",
            subject=f"Re: [#{ticket.id}] Lost my phone",
            body=f"Here is my token: {token}\n",
        )
    )
    assert reply.status == "threaded" and reply.ticket_id == ticket.id
    assert inbox.ticket(ticket.id).evidence_strength == "strong"
    with session_scope(engine, readonly=True) as s:
        report = latest_report(s, ticket.id)
    assert report.strength == "strong"
    assert {c.name: c.result for c in report.checks}["token"] == "pass"


@pytest.mark.parametrize("parse_processes", [0, 2])
def test_batch_mixes_new_tickets_replies_and_duplicates(engine, clock, parse_processes):
    """New requests written together, then a reply to one of them and the same bytes again
    in the same batch: the reply threads, the copy is a duplicate, every message counted;
    parsing in worker processes changes nothing."""
    first = recovery_email(message_id="<first@example.com>", sender="bob@example.com")
    messages = [
        SourceMessage(first, "a"),
        SourceMessage(recovery_email(sender="carol@example.com"), "a"),
        SourceMessage(
            recovery_email(
                sender="bob@example.com",
                subject="Re: Lost my authenticator",
                in_reply_to="<first@example.com>",
                body="My username is bob.",
            ),
            "a",
        ),
        SourceMessage(recovery_email(sender="dave@example.com"), "a"),
        SourceMessage(first, "b"),
    ]
    report = ingest_messages(
        engine, messages, clock=clock, batch_size=10, parse_processes=parse_processes
    )
    assert (report.new_tickets, report.threaded, report.duplicates, report.balanced) == (
        3,
        1,
        1,
        True,
    )
    with session_scope(engine, readonly=True) as s:
        tickets = s.exec(select(Ticket).order_by(Ticket.id)).scalars().all()
        assert [t.requester_email for t in tickets] == [
            "bob@example.com",
            "carol@example.com",
            "dave@example.com",
        ]
        assert tickets[0].version == 2
        assert s.execute(select(func.count()).select_from(OutboxEmail)).scalar() == 3
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar() == 3


def _numbered(count: int) -> list[SourceMessage]:
    return [
        SourceMessage(recovery_email(message_id=f"<m{i}@example.com>"), "a") for i in range(count)
    ]


def test_the_writer_prepares_the_chunks_no_parse_process_has_started():
    """While the parse processes are busy, the writer prepares the chunks they have not
    started itself instead of waiting, and every transaction keeps the stream's order."""
    messages = _numbered(12)
    busy = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(busy.wait, 30)  # the only parse process is taken
        batches = list(_prepared_batches(pool, messages, batch_size=4, processes=1))
        busy.set()
    assert [m for batch, _ in batches for m in batch] == messages
    prepared = [p.message_id for _, ps in batches for p in ps]
    assert prepared == [f"<m{i}@example.com>" for i in range(12)]
    assert all(len(batch) <= 4 for batch, _ in batches)


def test_transactions_shrink_once_the_stream_has_ended():
    """Transactions hold up to a batch while mail keeps coming; once the stream has
    ended each takes about half of what is left, so the last write, which no parsing can
    overlap, is small."""
    messages = _numbered(60)
    with ThreadPoolExecutor(1) as pool:
        batches = list(_prepared_batches(pool, messages, batch_size=16, processes=1))
    sizes = [len(batch) for batch, _ in batches]
    assert sum(sizes) == 60 and max(sizes) <= 16
    assert [p.message_id for _, ps in batches for p in ps] == [
        f"<m{i}@example.com>" for i in range(60)
    ]
    assert sizes[-1] == 1 and sizes[-3:] == sorted(sizes[-3:], reverse=True), sizes
    assert all(len(ps) == len(batch) for batch, ps in batches)


def test_default_parse_processes(monkeypatch):
    """One parse process beside the writer for more than a batch of mail on 2+ cores;
    none for a single batch or a single core."""
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert default_parse_processes(10_000, 100) == 1
    assert default_parse_processes(None, 100) == 1
    assert default_parse_processes(100, 100) == 0
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert default_parse_processes(10_000, 100) == 0


def test_ingest_collects_cycles_less_often_and_restores_the_collector(engine, clock):
    """While ingesting, what was loaded before is set aside from the cycle collector and
    young objects are collected less often; afterwards the collector is as it was."""
    before = gc.get_threshold()
    seen = []

    def during(session, batch):
        seen.append((gc.get_threshold()[0], gc.get_freeze_count()))

    ingest_messages(engine, _numbered(3), clock=clock, batch_size=2, in_transaction=during)
    assert seen and all(first >= GC_FIRST_GENERATION and frozen > 0 for first, frozen in seen)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_ingest_with_parse_processes_keeps_them_fed_and_restores_the_switch_interval(engine, clock):
    """While parse processes run, this process hands the GIL over in short slices (the
    executor's threads feed them); afterwards the interpreter is as it was."""
    before = sys.getswitchinterval()
    seen = []

    def during(session, batch):
        seen.append(sys.getswitchinterval())

    report = ingest_messages(
        engine, _numbered(6), clock=clock, batch_size=2, in_transaction=during, parse_processes=1
    )
    assert report.new_tickets + report.threaded + report.duplicates == 6
    assert seen and all(interval <= HANDOFF_SWITCH_SECONDS for interval in seen)
    assert sys.getswitchinterval() == before


def test_overlapping_ingests_leave_the_collector_as_they_found_it():
    """Two ingests in two threads of one worker: the setting holds until the last ends,
    and the first to end does not undo it under the other (nor leave it changed)."""
    before = gc.get_threshold()
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] >= GC_FIRST_GENERATION and gc.get_freeze_count() > 0
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
