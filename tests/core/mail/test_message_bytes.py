"""The hand-written wire bytes read, with the stdlib's modern policy, exactly like the message
the stdlib's own ``EmailMessage`` builder makes from the same row: same headers, same text and
HTML, and only ASCII lines of legal length with CRLF endings."""

from __future__ import annotations

import email
import email.policy
import hashlib
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from core.mail.message import build_message, message_bytes
from core.settings import Settings
from core.store.tables import OutboxEmail

READ = email.policy.default.clone(raise_on_defect=True)
LONG_WORDS = " ".join(f"word{n}" for n in range(60))


def stdlib_message(row: OutboxEmail, settings: Settings) -> EmailMessage:
    """The reference: the same row built with ``EmailMessage`` under the SMTP policy."""
    msg = EmailMessage(policy=email.policy.SMTP)
    support = Address(addr_spec=settings.support_address)
    msg["From"] = Address(settings.support_name, support.username, support.domain)
    msg["To"] = Address(addr_spec=row.to_addr)
    msg["Reply-To"] = support
    msg["Subject"] = " ".join(row.subject.split())
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.message_id
    for name, value in row.headers.items():
        msg[name] = value
    msg.set_content(row.body_text)
    msg.add_alternative(row.body_html, subtype="html")
    msg.set_boundary("=_" + hashlib.sha256(row.message_id.encode()).hexdigest()[:32])
    return msg


def row(**overrides) -> OutboxEmail:
    values = dict(
        id=1,
        message_id="<abc.1@huggingface.co>",
        template="denied",
        to_addr="user@example.org",
        subject="Your request",
        body_text="Hi there,\n\nWe could not verify the account.\n",
        body_html="<p>Hi there,</p>\n<p>We could not verify the account.</p>\n",
        headers={},
        created_at=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
        next_attempt_at=datetime(2026, 11, 28, tzinfo=UTC),
    )
    return OutboxEmail(**(values | overrides))


ROWS = {
    "plain": {},
    "long subject": {"subject": f"Re: {LONG_WORDS} [#42]"},
    "non-ASCII subject": {"subject": "Re: Zugang gesperrt – bitte helfen Sie mir 🙏 [#7]"},
    "long non-ASCII subject": {"subject": "Réinitialisation " * 20},
    "subject like an encoded word": {"subject": "Re: =?utf-8?q?Bcc=3A_x?= hello"},
    "subject with quotes and specials": {"subject": 'Re: "help" (me) <now>, a; b: c'},
    "threading": {
        "headers": {
            "In-Reply-To": "<a1@mail.example>",
            "References": " ".join(f"<id{n}.{'x' * 20}@mail.example>" for n in range(12)),
            "Auto-Submitted": "auto-replied",
        }
    },
    "non-ASCII bodies": {"body_text": "Grüße, Zoë\n— the team ✓\n", "body_html": "<p>ça va ✓</p>"},
    "long body lines": {"body_text": "x" * 1500 + "\n" + "y " * 600, "body_html": "<p>" * 400},
    "line endings and dots": {"body_text": "a\r\nb\rc\n.\n..dot\nFrom here\n", "body_html": ""},
    "empty bodies": {"body_text": "", "body_html": ""},
    "body quoting the boundary": {
        "body_text": "--=_" + hashlib.sha256(b"<abc.1@huggingface.co>").hexdigest()[:32] + "--\n"
    },
}
NAMES = ["Hugging Face Support", "Support, Hugging Face", "Zoë's Support Désk"]


def headers(message: EmailMessage) -> list[tuple[str, str]]:
    return [(name, str(value)) for name, value in message.items()]


def content(message: EmailMessage, kind: str) -> str:
    return message.get_body((kind,)).get_content().replace("\r\n", "\n")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case", sorted(ROWS))
def test_the_wire_bytes_read_like_the_stdlib_builder(case, name):
    settings = Settings(support_name=name)
    outbox_row = row(**ROWS[case])
    wire = message_bytes(outbox_row, settings=settings)
    ours = email.message_from_bytes(wire, policy=READ)
    theirs = email.message_from_bytes(stdlib_message(outbox_row, settings).as_bytes(), policy=READ)

    mime = {"MIME-Version", "Content-Type", "Content-Transfer-Encoding"}
    expected = [h for h in headers(theirs) if h[0] not in mime]
    if case == "subject like an encoded word":  # the stdlib's builder lets a reader decode it
        expected = [(n, outbox_row.subject if n == "Subject" else v) for n, v in expected]
    assert [h for h in headers(ours) if h[0] not in mime] == expected
    assert ours.get_content_type() == theirs.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in ours.iter_parts()] == ["text/plain", "text/html"]
    for kind in ("plain", "html"):
        if case == "body quoting the boundary":  # the stdlib's builder cuts this body off
            expected = getattr(outbox_row, f"body_{'text' if kind == 'plain' else kind}")
            assert content(ours, kind) == expected.replace("\r\n", "\n") or "\n"
        else:
            assert content(ours, kind) == content(theirs, kind)
    assert not ours.defects and all(not part.defects for part in ours.walk())
    assert wire.isascii() and b"\n" not in wire.replace(b"\r\n", b"")
    assert max(len(line) for line in wire.split(b"\r\n")) <= 998
    assert wire == message_bytes(outbox_row, settings=settings)


def test_header_lines_are_folded_and_non_ascii_is_encoded():
    wire = message_bytes(row(subject=f"Re: {LONG_WORDS} ü"), settings=Settings())
    subject = [line for line in wire.split(b"\r\n") if b"?utf-8?" in line]
    assert len(subject) > 1 and all(len(line.split()[-1]) <= 75 for line in subject)  # RFC 2047
    wire = message_bytes(row(subject=f"Re: {LONG_WORDS}"), settings=Settings())
    head = wire.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert max(len(line) for line in head if not line.startswith(b"Content-Type")) <= 78


def test_build_message_is_the_wire_bytes_read_back():
    settings = Settings()
    assert (
        build_message(row(), settings=settings).as_bytes()
        == email.message_from_bytes(
            message_bytes(row(), settings=settings), policy=email.policy.SMTP
        ).as_bytes()
    )
