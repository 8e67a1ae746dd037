"""The done-when check of issue #11: over the shared corpus, the project's own samples and
crafted mail, every message's subject, body and attachment list reads at least as well as
the standard library's modern policy shows it (``tests.support.stdlib_reading``), both as
parsed and as stored on the ticket."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.inbound.parsing import UnparseableMessage, parse_message
from core.store.tables import TicketMessage
from tests.conftest import CORPUS_DIR, corpus_paths, require_corpus
from tests.support.inbox import Inbox
from tests.support.mail import recovery_email
from tests.support.stdlib_reading import worse_reading, worse_than_stdlib

SAMPLES = sorted((Path(__file__).parents[2] / "data" / "mail").glob("*.eml"))
CRAFTED = {
    "html-only": recovery_email(body=None, html="<p>My <b>username</b> is alice</p>"),
    "latin1-labelled-utf8": (
        b"From: a@example.com\r\nSubject: =?utf-8?q?S=E9bastien?=\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nS\xe9bastien\r\n"
    ),
    "unknown-body-charset": (
        b"From: a@example.com\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\ncaf\xc3\xa9\r\n"
    ),
    "attachment-name-8bit": (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
        b'Content-Disposition: attachment; filename="cl\xc3\xa9.pub"\r\n\r\nx\r\n--b--\r\n'
    ),
}


def _check(raw: bytes) -> None:
    try:
        parsed = parse_message(raw, max_bytes=10_000_000)
    except UnparseableMessage as exc:
        assert str(exc)
        return
    assert worse_than_stdlib(raw, parsed) == []


@pytest.mark.parametrize("path", corpus_paths())
def test_shared_corpus_reads_no_worse_than_the_stdlib(path):
    require_corpus()
    _check(path.read_bytes())


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_samples_read_no_worse_than_the_stdlib(path):
    _check(path.read_bytes())


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_mail_reads_no_worse_than_the_stdlib(name):
    _check(CRAFTED[name])


def test_the_check_fails_when_we_read_worse():
    """The comparison is not vacuous: a reading that lost the body, kept an encoded word
    or dropped an attachment is reported."""
    raw = CRAFTED["attachment-name-8bit"]
    parsed = parse_message(raw, max_bytes=10_000_000)
    parsed.body_text = ""
    parsed.subject = "=?utf-8?q?x?="
    parsed.attachments = []
    problems = worse_than_stdlib(raw, parsed)
    assert any("body lost" in p for p in problems)
    assert any("attachment" in p for p in problems)
    assert any("subject" in p for p in problems)


def test_every_ticket_message_stores_a_reading_no_worse_than_the_stdlib(engine, clock):
    """Through the whole pipeline, on SQLite and PostgreSQL: each stored ticket message of
    the corpus and the samples (subject, body, attachment names, as staff see them)."""
    require_corpus()
    paths = [*sorted(CORPUS_DIR.iterdir()), *SAMPLES]
    inbox = Inbox(engine, clock)
    stored = {}
    for path in paths:
        outcome = inbox.ingest(path.read_bytes(), source=str(path))
        stored[outcome.inbound_id] = path
    messages = [m for m in inbox.all(TicketMessage) if m.direction == "in"]
    assert len(messages) >= 30
    for message in messages:
        raw = stored[message.inbound_message_id].read_bytes()
        names = [a["filename"] or "" for a in message.attachments]
        problems = worse_reading(raw, message.subject, message.body_text, names)
        assert problems == [], stored[message.inbound_message_id].name
