"""Where a bound made a message's reading simpler than the full one (issue #11 item 6),
staff are told: the notes are stored with the ticket message, on SQLite and PostgreSQL,
access tokens masked, and the Ticket page's read model carries them."""

from __future__ import annotations

from sqlmodel import select

from core.inbound.html_text import MAX_CONVERTED_HTML
from core.inbound.limits import MAX_HEADER_CHARS
from core.inbound.new_tickets import message_fields
from core.inbound.parsing import ParsedMessage
from core.store import session_scope
from core.store.tables import TicketMessage
from core.tickets.views import ticket_view
from tests.support.mail import recovery_email

TOKEN = "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi"


def html_only_email(size: int) -> bytes:
    """An HTML-only request of about ``size`` characters of HTML."""
    paragraph = "<p>I lost my phone, my username is alice. Please help.</p>\n"
    html = paragraph * (size // len(paragraph) + 1)
    return (
        "From: Alice <alice@example.com>\r\nTo: website@huggingface.co\r\n"
        "Subject: Locked out\r\nMessage-ID: <big-html@example.com>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + html
    ).encode()


def _inbound(inbox, ticket_id: int) -> TicketMessage:
    (message,) = [m for m in inbox.messages(ticket_id) if m.direction == "in"]
    return message


def test_a_simplified_reading_is_stored_and_reaches_the_read_model(inbox):
    outcome = inbox.ingest(html_only_email(MAX_CONVERTED_HTML + 1_000))
    assert outcome.status == "ticket"
    stored = _inbound(inbox, outcome.ticket_id)
    (note,) = stored.reading_notes
    assert note.startswith("HTML of ") and "read by a plain tag strip" in note
    assert "my username is alice" in stored.body_text  # the stripped text is still there
    with session_scope(inbox.engine, readonly=True) as s:
        view = ticket_view(s, outcome.ticket_id, clock=inbox.clock)
    assert [m.reading_notes for m in view.messages if m.inbound] == [(note,)]


def test_a_message_read_in_full_and_our_own_mail_carry_no_notes(inbox):
    outcome = inbox.ingest(html_only_email(2_000))
    assert outcome.acknowledged
    messages = inbox.messages(outcome.ticket_id)
    assert {m.direction for m in messages} == {"in", "out"}
    assert all(m.reading_notes is None for m in messages)
    with session_scope(inbox.engine, readonly=True) as s:
        view = ticket_view(s, outcome.ticket_id, clock=inbox.clock)
    assert all(m.reading_notes == () for m in view.messages)


def test_notes_are_stored_and_shown_with_tokens_masked(inbox):
    parsed = ParsedMessage(None, "a@example.com", "", "s", [], [], "body")
    parsed.notes = [f"read from {TOKEN} onwards"]
    assert message_fields(parsed, "<n@example.com>")["reading_notes"] == [
        "read from hf_…TyUi onwards"
    ]
    # a row written in the clear (by an older version, by hand) is still shown masked
    outcome = inbox.ingest(recovery_email())
    with session_scope(inbox.engine) as s:
        row = s.exec(
            select(TicketMessage).where(
                TicketMessage.ticket_id == outcome.ticket_id, TicketMessage.direction == "in"
            )
        ).one()
        row.reading_notes = [f"kept {TOKEN}"]
        s.add(row)
    with session_scope(inbox.engine, readonly=True) as s:
        view = ticket_view(s, outcome.ticket_id, clock=inbox.clock)
    assert [m.reading_notes for m in view.messages if m.inbound] == [("kept hf_…TyUi",)]


def test_headers_read_only_to_the_bound_are_named_in_a_note(inbox):
    """A Subject of encoded words past ``MAX_HEADER_CHARS`` (and a long header in an
    attachment's part) is read from its start; the note names both headers."""
    words = "\r\n ".join(["=?utf-8?q?caf=C3=A9?="] * (MAX_HEADER_CHARS // 20 + 10))
    raw = recovery_email(
        subject="locked out",
        attachments=[("notes.txt", "text/plain", b"hello")],
    ).replace(b"Subject: locked out", b"Subject: " + words.encode(), 1)
    raw = raw.replace(b'filename="notes.txt"', b'filename="notes.txt"; x="' + b"y" * 20_000 + b'"')
    outcome = inbox.ingest(raw)
    stored = _inbound(inbox, outcome.ticket_id)
    assert stored.reading_notes == [
        f"headers over {MAX_HEADER_CHARS} characters read from their start "
        "(Subject, Content-Disposition)"
    ]
    assert stored.subject.startswith("cafécafé")  # adjacent encoded words join
