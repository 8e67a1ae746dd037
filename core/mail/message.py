"""Turn an outbox row into the RFC 5322 message that goes on the wire: multipart text + HTML,
a stable Message-ID, threading headers, and header values that cannot smuggle headers in."""

from __future__ import annotations

import email.policy
import hashlib
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from core.errors import HeaderInjection
from core.settings import Settings, get_settings
from core.store.tables import OutboxEmail

POLICY = email.policy.SMTP.clone(raise_on_defect=True)
"""CRLF line endings, and any defect in what we build is an error rather than a warning."""
EXTRA_HEADERS = ("In-Reply-To", "References", "Auto-Submitted")
"""The only headers a queued row may add; anything else in ``OutboxEmail.headers`` is refused."""
MESSAGE_ID_RE = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_LINE_BREAK_RE = re.compile(r"[\r\n]")
_TEXT_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]+")


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


def build_message(row: OutboxEmail, *, settings: Settings | None = None) -> EmailMessage:
    """The message for ``row``; building it twice gives the same headers and bodies, so a
    retry is recognisably the same email (same Message-ID and Date)."""
    settings = settings or get_settings()
    support = single_address("From", settings.support_address)
    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address(
        display_name=header_text("From", settings.support_name),
        username=support.username,
        domain=support.domain,
    )
    msg["To"] = single_address("To", row.to_addr)
    msg["Reply-To"] = support
    msg["Subject"] = header_text("Subject", row.subject)
    msg["Date"] = format_datetime(row.created_at)
    if not MESSAGE_ID_RE.fullmatch(header_value("Message-ID", row.message_id)):
        raise HeaderInjection("The Message-ID must look like <id@host>.")
    msg["Message-ID"] = row.message_id
    for name, value in row.headers.items():
        if name not in EXTRA_HEADERS:
            raise HeaderInjection(f"The outbox may not set the {name!r} header.")
        value = header_value(name, value) if name == "Auto-Submitted" else _message_ids(name, value)
        if value:
            msg[name] = value
    msg.set_content(row.body_text)
    msg.add_alternative(row.body_html, subtype="html")
    msg.set_boundary("=_" + hashlib.sha256(row.message_id.encode()).hexdigest()[:32])
    return msg
