"""Turn an outbox row into the RFC 5322 message that goes on the wire: multipart text + HTML,
a stable Message-ID, threading headers, and header values that cannot smuggle headers in.

The wire bytes are written directly (``message_bytes``): headers encoded explicitly with
``email.header`` (RFC 2047 for anything not plain ASCII) and ``email.utils``, bodies in
7bit or base64 with CRLF lines. The modern ``EmailMessage`` route folded and re-parsed every
header and cost several times the CPU of the rest of a delivery; ``build_message`` reads the
same bytes back with the stdlib's modern policy for callers that want a message object."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import re
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from core.errors import HeaderInjection
from core.settings import Settings, get_settings
from core.store.tables.outbox import OutboxEmail

POLICY = email.policy.SMTP.clone(raise_on_defect=True)
"""How ``build_message`` reads the wire bytes back: a defect in what we wrote is an error."""
EXTRA_HEADERS = ("In-Reply-To", "References", "Auto-Submitted")
"""The only headers a queued row may add; anything else in ``OutboxEmail.headers`` is refused."""
MESSAGE_ID_RE = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_LINE_BREAK_RE = re.compile(r"[\r\n]")
_TEXT_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]+")
MAX_LINE = 78
"""Header lines are folded to this length where they have spaces (RFC 5322 2.1.1)."""
MAX_7BIT_LINE = 998
"""A body line longer than this cannot go as 7bit (RFC 5322 2.1.1); base64 carries it."""


def header_value(name: str, value: str) -> str:
    """``value`` if it is safe as one header line; a CR, LF or other control character
    would start a new header, so it raises ``HeaderInjection`` instead."""
    if _CONTROL_RE.search(value):
        raise HeaderInjection(f"The {name} header holds a line break or control character.")
    return value


def header_text(name: str, value: str) -> str:
    """A free-text header (Subject, a display name) built from a clean value: a stored
    subject may quote a control character from inbound mail, which must not make every
    email that quotes it fail for good, so control characters become spaces. A line break
    can only come from a bug or an attack and is still refused (``HeaderInjection``)."""
    if _LINE_BREAK_RE.search(value):
        raise HeaderInjection(f"The {name} header holds a line break.")
    return " ".join(_TEXT_CONTROL_RE.sub(" ", value).split())


def single_address(name: str, value: str) -> Address:
    """Exactly one bare address (``user@host``): no display name, no list, no line break."""
    header_value(name, value)
    try:
        return Address(addr_spec=value.strip())
    except (ValueError, IndexError) as exc:
        raise HeaderInjection(f"The {name} header must be one email address: {exc}") from None


def _message_ids(name: str, value: str) -> str:
    """The well-formed ``<id@host>`` tokens of ``value``. A malformed id quoted from a
    user's mail is dropped rather than failing our reply; a line break is still refused."""
    header_value(name, value)
    return " ".join(i for i in value.split() if MESSAGE_ID_RE.fullmatch(i))


def _folded(name: str, value: str) -> str:
    """``value`` as the body of header ``name``: plain ASCII folded at spaces, anything else
    (non-ASCII, or text a reader would take for an encoded word) as RFC 2047 UTF-8 words."""
    if value.isascii() and "=?" not in value:
        header = Header(value, "us-ascii", maxlinelen=MAX_LINE, header_name=name)
        return header.encode(splitchars=" ", linesep="\r\n")
    # a continuation line is one space and one word, and a word is at most 75 (RFC 2047)
    header = Header(value, "utf-8", maxlinelen=76, header_name=name)
    return header.encode(linesep="\r\n")


def _mailbox(name: str, address: str) -> str:
    """``Display Name <address>``, the name quoted or RFC 2047-encoded as it needs."""
    if name.isascii() and "=?" not in name:
        return formataddr((name, address))
    return f"{_folded('From', name)} <{address}>"


def _text_part(subtype: str, text: str, boundary: str) -> bytes:
    """One body part with CRLF lines: 7bit when it is short-lined ASCII without NUL (and
    cannot be taken for the boundary), base64 otherwise."""
    lines = text.encode("utf-8").splitlines()
    body = b"\r\n".join(lines) + b"\r\n"
    seven_bit = (
        text.isascii()
        and "\0" not in text
        and boundary not in text
        and all(len(line) <= MAX_7BIT_LINE for line in lines)
    )
    if seven_bit:
        encoding = b"7bit"
    else:
        encoding = b"base64"
        body = base64.encodebytes(body).replace(b"\n", b"\r\n")
    return (
        b"Content-Type: text/" + subtype.encode() + b'; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: " + encoding + b"\r\n\r\n" + body
    )


def message_bytes(row: OutboxEmail, *, settings: Settings | None = None) -> bytes:
    """The message for ``row`` as it goes on the wire (ASCII, CRLF); the same row always
    gives the same bytes, so a retry is recognisably the same email (same Message-ID and
    Date). A value that could add a header or a recipient raises ``HeaderInjection``."""
    settings = settings or get_settings()
    support = single_address("From", settings.support_address).addr_spec
    to = single_address("To", row.to_addr).addr_spec
    if not MESSAGE_ID_RE.fullmatch(header_value("Message-ID", row.message_id)):
        raise HeaderInjection("The Message-ID must look like <id@host>.")
    headers = [
        "From: " + _mailbox(header_text("From", settings.support_name), support),
        "To: " + to,
        "Reply-To: " + support,
        "Subject: " + _folded("Subject", header_text("Subject", row.subject)),
        "Date: " + format_datetime(row.created_at),
        "Message-ID: " + row.message_id,
    ]
    for name, value in row.headers.items():
        if name not in EXTRA_HEADERS:
            raise HeaderInjection(f"The outbox may not set the {name!r} header.")
        value = header_value(name, value) if name == "Auto-Submitted" else _message_ids(name, value)
        if value:
            headers.append(f"{name}: {_folded(name, value)}")
    boundary = "=_" + hashlib.sha256(row.message_id.encode()).hexdigest()[:32]
    headers += [
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    delimiter = b"--" + boundary.encode()
    text, html = row.body_text, row.body_html
    if row.sealed:
        from core.encryption import decrypt_secret  # only secret-bearing mail needs the key

        text, html = decrypt_secret(text), decrypt_secret(html)
    return b"".join(
        (
            "\r\n".join(headers).encode("ascii"),
            b"\r\n\r\n",
            delimiter + b"\r\n",
            _text_part("plain", text, boundary),
            b"\r\n" + delimiter + b"\r\n",
            _text_part("html", html, boundary),
            b"\r\n" + delimiter + b"--\r\n",
        )
    )


def build_message(row: OutboxEmail, *, settings: Settings | None = None) -> EmailMessage:
    """``message_bytes(row)`` read back by the stdlib's modern parser (for callers that look
    at headers and parts); the sender puts the bytes themselves on the wire."""
    return email.message_from_bytes(message_bytes(row, settings=settings), policy=POLICY)
