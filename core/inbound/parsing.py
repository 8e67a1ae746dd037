"""Raw bytes into a ``ParsedMessage``: the standard library parser with its modern policy
(``mail_policy``) plus the decoding fallbacks real mail needs (wrong or unknown charsets,
8-bit headers, HTML-only bodies, nested ``message/rfc822``). Pure: no database, no clock."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.policy import compat32
from email.utils import getaddresses

import html2text

from core.errors import InvalidInput
from core.inbound.mail_policy import parse_bytes
from core.inbound.redaction import hidden_token

MSGID_RE = re.compile(r"<[^<>\s]{1,900}>")
TEXT_ATTACHMENT_SUFFIXES = (".pub", ".sig", ".txt", ".asc", ".pem", ".key")
MAX_TEXT_ATTACHMENT = 256 * 1024
FALLBACK_CHARSETS = ("utf-8", "cp1252")


class UnparseableMessage(InvalidInput):
    """The bytes are not a message we can turn into a ticket; the reason goes to quarantine."""


@dataclass
class Attachment:
    filename: str | None
    content_type: str
    size: int
    text: str | None = None
    """Decoded text for small textual parts (``.pub``, ``.sig``, nested messages), for evidence."""
    sha256: str | None = None
    """Digest of the decoded payload: two messages differing only in an attachment differ."""

    def as_dict(self) -> dict[str, object]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size}


@dataclass
class ParsedMessage:
    message_id: str | None
    from_addr: str
    from_name: str
    subject: str
    in_reply_to: list[str]
    references: list[str]
    body_text: str
    attachments: list[Attachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    """Lower-cased names of the headers classification reads, raw values joined."""
    content_type: str = "text/plain"
    report_type: str | None = None
    original_message_ids: list[str] = field(default_factory=list)
    """Message-IDs of the messages embedded in a delivery report (whose bounce this is)."""
    hides_token: bool = False
    """An access token hides behind a transfer encoding (see ``redaction.hidden_token``)."""
    sender_problem: str | None = None
    """Why the From is not a valid RFC 5322 addr-spec (None when it is): such a request
    becomes a flagged ticket and is never acknowledged."""

    @property
    def thread_ids(self) -> list[str]:
        """Every Message-ID this message says it answers, nearest first."""
        seen: dict[str, None] = dict.fromkeys(self.in_reply_to + self.references[::-1])
        return list(seen)

    def evidence_texts(self) -> list[str]:
        """Every text evidence may hide in: subject, body, then textual attachments."""
        return [self.subject, self.body_text, *(a.text for a in self.attachments if a.text)]


CLASSIFY_HEADERS = (
    "auto-submitted",
    "precedence",
    "x-auto-response-suppress",
    "list-id",
    "return-path",
    "x-autoreply",
    "x-autorespond",
)


def message_ids(value: str | None) -> list[str]:
    """The ``<...>`` ids in a Message-ID/In-Reply-To/References value, in order."""
    return MSGID_RE.findall(value or "")


def _recover_text(value: str, charset: str | None = None) -> str:
    """Header values parsed from bytes keep undecodable octets as surrogates; turn them back
    into bytes and decode them with the best charset we can guess, so nothing un-storable
    (lone surrogates) reaches the database."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        data = value.encode("utf-8", "surrogateescape")
    return decode_bytes(data, charset)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, else UTF-8, else cp1252; never raises."""
    for candidate in (charset, *FALLBACK_CHARSETS):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1", "replace")


def _raw_header(msg: Message, name: str) -> str | None:
    """The first ``name`` header as received (undecodable octets kept as surrogates)."""
    name = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == name:
            return " ".join(str(value).split())
    return None


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded (``email.header``: the same decoder the modern policy
    uses, without building a header object, which costs more than the parse)."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # a damaged encoded word: keep the text as written
        return value


def _header(msg: Message, name: str, charset: str | None) -> str:
    """One header decoded (RFC 2047); raw 8-bit values decoded with the best charset guess."""
    value = _raw_header(msg, name)
    if not value:
        return ""
    if _has_surrogates(value):
        return _recover_text(value, charset)
    return " ".join(_decode_words(value).split())


def _sender(msg: Message, charset: str | None) -> tuple[str, str]:
    value = _recover_text(_raw_header(msg, "from") or "", charset)
    for name, addr in getaddresses([value]):
        if "@" in addr:
            return addr.strip().lower(), " ".join(_decode_words(name).split())
    return "", ""


def _plain_headers(part: Message) -> None:
    """Read this part's structural headers (Content-Type, -Disposition, -Transfer-Encoding)
    as plain strings. The tree is parsed with the modern policy, but an ``EmailMessage``
    builds a header object on every access, which cost more than the parse itself."""
    part.policy = compat32


def _html_to_text(html: str) -> str:
    """HTML is converted, never rendered; no wrapping, so keys and tokens stay on one line."""
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.unicode_snob = True
    return converter.handle(html)


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(payload or "").encode("utf-8", "surrogateescape")
    try:
        charset = part.get_content_charset()
    except Exception:  # a broken charset parameter means "guess"
        charset = None
    return decode_bytes(payload, charset)


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # RFC 2231 damage: keep the part, drop the name
        return None
    return _recover_text(name) if name else None


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # damaged input: fall back, never lose the message
        return None


class _Walker:
    """Collects body texts and attachments from a MIME tree (one pass, no recursion limit
    surprises: nested messages deeper than ``MAX_DEPTH`` are listed but not opened)."""

    MAX_DEPTH = 8

    def __init__(self, depth: int = 0) -> None:
        self.depth = depth
        self.bodies: list[str] = []
        self.attachments: list[Attachment] = []
        self.original_ids: list[str] = []

    def walk(self, part: Message, *, in_report: bool = False) -> None:
        _plain_headers(part)
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            self._nested(part, in_report=in_report)
            return
        if part.is_multipart():
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if ctype == "multipart/alternative" and children:
                self.walk(self._best_alternative(children), in_report=in_report)
                return
            report = in_report or ctype == "multipart/report"
            for child in children:
                self.walk(child, in_report=report)
            return
        if ctype == "text/rfc822-headers":
            headers = parse_bytes(part.get_payload(decode=True) or b"", headers_only=True)
            self.original_ids += message_ids(str(headers.get("message-id", "")))
        filename = _filename(part)
        maintype = part.get_content_maintype()
        if (
            maintype == "text"
            and _disposition(part) != "attachment"
            and not filename
            and ctype in ("text/plain", "text/html")
        ):
            text = _part_text(part)
            self.bodies.append(_html_to_text(text) if ctype == "text/html" else text)
            return
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        text = None
        textual = maintype == "text" or (
            filename is not None and filename.lower().endswith(TEXT_ATTACHMENT_SUFFIXES)
        )
        if textual and size <= MAX_TEXT_ATTACHMENT:
            text = _part_text(part)
            if ctype == "text/html":
                text = _html_to_text(text)
        digest = hashlib.sha256(payload).hexdigest() if isinstance(payload, bytes) else None
        self.attachments.append(Attachment(filename, ctype, size, text, digest))

    @staticmethod
    def _best_alternative(children: list[Message]) -> Message:
        for wanted in ("text/plain", "text/html"):
            for child in children:
                if child.get_content_type() == wanted:
                    return child
        return children[0]

    def _nested(self, part: Message, *, in_report: bool) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message):
            self.attachments.append(Attachment(_filename(part), "message/rfc822", 0))
            return
        subject = _header(inner, "subject", None)
        if in_report:
            self.original_ids += message_ids(_header(inner, "message-id", None))
        text = None
        if self.depth < self.MAX_DEPTH:
            sub = _Walker(self.depth + 1)
            sub.walk(inner)
            self.original_ids += sub.original_ids
            sub_texts = sub.bodies + [a.text for a in sub.attachments if a.text]
            text = "\n\n".join(sub_texts)[:MAX_TEXT_ATTACHMENT]
        size = len(text.encode()) if text else 0
        self.attachments.append(
            Attachment(_filename(part) or subject or None, "message/rfc822", size, text)
        )


def parse_message(raw: bytes, *, max_bytes: int) -> ParsedMessage:
    """Parse ``raw``; raise ``UnparseableMessage`` (with a reason for staff) when it is too
    large or has no usable sender. Any other oddity is decoded as well as possible."""
    if len(raw) > max_bytes:
        raise UnparseableMessage(f"message of {len(raw)} bytes exceeds the {max_bytes}-byte limit")
    msg: EmailMessage = parse_bytes(raw)
    _plain_headers(msg)
    try:
        body_charset = msg.get_content_charset()
    except Exception:  # damaged input: fall back, never lose the message
        body_charset = None
    from_addr, from_name = _sender(msg, body_charset)
    if not from_addr:
        raise UnparseableMessage("no sender address (From) could be read")
    headers: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = name.lower()
        if key in CLASSIFY_HEADERS:
            text = _recover_text(" ".join(str(value).split()))
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
    walker = _Walker()
    walker.walk(msg)
    report_type = None
    if msg.get_content_type() == "multipart/report":
        report_type = (msg.get_param("report-type") or "").lower() or None  # type: ignore[union-attr]
    message_id = message_ids(_header(msg, "message-id", None))
    return ParsedMessage(
        message_id=message_id[0] if message_id else None,
        from_addr=from_addr,
        from_name=from_name,
        subject=_header(msg, "subject", body_charset),
        in_reply_to=message_ids(_header(msg, "in-reply-to", None)),
        references=message_ids(_header(msg, "references", None)),
        body_text="\n\n".join(walker.bodies).strip("\n"),
        attachments=walker.attachments,
        headers=headers,
        content_type=msg.get_content_type(),
        report_type=report_type,
        original_message_ids=walker.original_ids,
        hides_token=_hidden_token(msg),
    )


def _hidden_token(msg: Message) -> bool:
    try:
        return hidden_token(msg)
    except Exception:  # damaged structure: assume the worst, the slow path will check
        return True


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID from the headers alone, for a message too broken or big to parse."""
    try:
        headers = parse_bytes(raw[:262_144], headers_only=True)
        found = message_ids(str(headers.get("message-id", "")))
    except Exception:  # damaged input: fall back, never lose the message
        return None
    return found[0] if found else None
