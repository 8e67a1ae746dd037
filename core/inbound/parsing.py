"""Raw bytes into a ``ParsedMessage``: the standard library parser with its modern policy
(``mail_policy``), read never worse than that policy shows it: charsets through
``charsets``, every MIME branch walked for attachments and evidence, the body chosen the
way ``EmailMessage.get_body`` chooses it, senders checked by ``senders``, and every read
bounded (``limits``, ``html_text``). Pure: no database, no clock."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.policy import compat32

from core.errors import InvalidInput
from core.inbound.charsets import declared_charset, decode_bytes, decode_words, recover_8bit
from core.inbound.classify import classify
from core.inbound.html_text import MAX_CONVERTED_HTML, html_to_text, strip_tags
from core.inbound.limits import MAX_HEADER_CHARS, MAX_NESTED_MESSAGES, structure_problem
from core.inbound.mail_policy import parse_bytes
from core.inbound.own_text import own_text
from core.inbound.redaction import hidden_token, long_headers
from core.inbound.sanitize import clean_body, clean_line
from core.inbound.senders import choose_sender

__all__ = [
    "Attachment",
    "ParsedMessage",
    "UnparseableMessage",
    "decode_bytes",
    "header_message_id",
    "message_ids",
    "parse_message",
]

MSGID_RE = re.compile(r"<[^<>\s]{1,900}>")
TEXT_ATTACHMENT_SUFFIXES = (".pub", ".sig", ".txt", ".asc", ".pem", ".key")
MAX_TEXT_ATTACHMENT = 256 * 1024
MAX_NOTED_HEADERS = 5
BODY_TYPES = ("text/plain", "text/html")
PREFERENCE = ("text/plain", "text/html")
"""``get_body(('plain', 'html'))``: the plain text first, else the HTML."""


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
    own_text: str = ""
    """The part of the body its sender wrote for this message (``own_text``): no quoted
    reply, forwarded message, signature or newsletter footer."""
    notes: list[str] = field(default_factory=list)
    """Where a bound made the reading simpler than the full one (for staff)."""
    authentication_results: list[str] = field(default_factory=list)
    """The ``Authentication-Results`` values, topmost first (``authenticity`` reads them)."""

    @property
    def thread_ids(self) -> list[str]:
        """Every Message-ID this message says it answers, nearest first."""
        seen: dict[str, None] = dict.fromkeys(self.in_reply_to + self.references[::-1])
        return list(seen)

    def evidence_texts(self) -> list[str]:
        """Every text evidence may hide in: subject, body, then textual attachments."""
        return [self.subject, self.body_text, *(a.text for a in self.attachments if a.text)]

    def claim_texts(self) -> list[str]:
        """The texts a claimed account may be read from: the subject and the sender's own
        new text, never quoted, forwarded or attached material."""
        return [self.subject, self.own_text]


CLASSIFY_HEADERS = (
    "from",
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


def _raw_headers(msg: Message) -> dict[str, list[str]]:
    """Every header as received, by lower-cased name, unfolded and cut to
    ``MAX_HEADER_CHARS`` at a space (so no encoded word is cut in half); undecodable
    octets kept as surrogates."""
    found: dict[str, list[str]] = {}
    for key, value in msg.raw_items():
        found.setdefault(key.lower(), []).append(_bounded(str(value)))
    return found


def _bounded(value: str) -> str:
    if len(value) > MAX_HEADER_CHARS:
        value = value[:MAX_HEADER_CHARS]
        space = max(value.rfind(" "), value.rfind("\t"), value.rfind("\n"))
        value = value[:space] if space > 0 else value
    return " ".join(value.split())


def _header_text(value: str, charset: str | None) -> str:
    """One header value as text: raw 8-bit octets (UTF-8 first, then ``charset``), then
    RFC 2047 words, then cleaned to one line."""
    return clean_line(decode_words(recover_8bit(value, charset), charset))


def _header(headers: dict[str, list[str]], name: str, charset: str | None) -> str:
    values = headers.get(name)
    return _header_text(values[0], charset) if values else ""


def _plain_headers(part: Message) -> None:
    """Read this part's structural headers (Content-Type, -Disposition, -Transfer-Encoding)
    as plain strings. The tree is parsed with the modern policy, but an ``EmailMessage``
    builds a header object on every access, which cost more than the parse itself."""
    part.policy = compat32


def _payload_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    return str(part.get_payload() or "").encode("utf-8", "surrogateescape")


def _param(part: Message, name: str, header: str) -> str | tuple | None:
    """A header parameter. A value with raw 8-bit octets (which ``compat32`` hands out as
    a ``Header``) is decoded first (UTF-8, then the part's charset), and one longer than
    ``MAX_HEADER_CHARS`` is read from its start only (the parameter parser is quadratic in
    quotes and semicolons)."""
    value = part.get(header)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_HEADER_CHARS:
        raw = next(str(v) for k, v in part.raw_items() if k.lower() == header)
        probe = Message()
        probe[header] = recover_8bit(raw[:MAX_HEADER_CHARS], declared_charset(part))
        part = probe
    return part.get_param(name, header=header)


def _filename(part: Message) -> str | None:
    """The attachment's name: RFC 2231 (decoded with its charset's superset), else an
    RFC 2047 or raw 8-bit name (Outlook writes both) decoded like a header."""
    disposition, ctype = part.get("content-disposition"), part.get("content-type")
    if "name" not in str(disposition or "").lower() and "name" not in str(ctype or "").lower():
        return None
    try:
        value = _param(part, "filename", "content-disposition")
        if value is None:
            value = _param(part, "name", "content-type")
    except Exception:  # RFC 2231 damage: keep the part, drop the name
        return None
    if value is None:
        return None
    charset = declared_charset(part)
    if isinstance(value, tuple):
        encoding, _language, text = value
        name = decode_bytes(str(text).encode("raw-unicode-escape", "surrogateescape"), encoding)
    else:
        name = str(value)
    if name.startswith('"') and name.endswith('"') and len(name) > 1:
        name = name[1:-1]
    return _header_text(name[:MAX_HEADER_CHARS], charset) or None


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # damaged input: fall back, never lose the message
        return None


def _find_body_priority(part: Message) -> int | None:
    """The best ``PREFERENCE`` rank a body inside ``part`` can have, as ``get_body``
    looks for one (attachments skipped, ``multipart/related`` through its start part)."""
    _plain_headers(part)
    if _disposition(part) == "attachment":
        return None
    ctype = part.get_content_type()
    if ctype in PREFERENCE:
        return PREFERENCE.index(ctype)
    if not part.is_multipart():
        return None
    children = _children(part)
    if ctype == "multipart/related":
        children = children[:1] if children else []
        start = _related_start(part)
        children = [start] if start is not None else children
    ranks = [r for r in map(_find_body_priority, children) if r is not None]
    return min(ranks) if ranks else None


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [c for c in payload if isinstance(c, Message)] if isinstance(payload, list) else []


def _related_start(part: Message) -> Message | None:
    """The root of a ``multipart/related`` (its ``start`` parameter, else the first part)."""
    children = _children(part)
    start = part.get_param("start")
    if isinstance(start, str):
        for child in children:
            _plain_headers(child)
            if str(child.get("content-id", "")).strip() == start.strip():
                return child
    return children[0] if children else None


class _Walker:
    """Collects body texts and attachments from every branch of a MIME tree. The body is
    what ``get_body`` would pick (plus further inline text parts of a ``multipart/mixed``,
    which mail clients split around inline images); the other renderings of a
    ``multipart/alternative`` are skipped, but attachments are taken from every branch.
    Nested messages are opened ``MAX_NESTED_MESSAGES`` deep."""

    def __init__(self, depth: int = 0, budget: list[int] | None = None) -> None:
        self.depth = depth
        self.bodies: list[str] = []
        self.named_texts: list[str] = []
        """Inline text parts with a file name: the body when there is no other text."""
        self.attachments: list[Attachment] = []
        self.original_ids: list[str] = []
        self.notes: list[str] = []
        self.html_budget = budget if budget is not None else [MAX_CONVERTED_HTML]
        """Characters of HTML this message may still convert in full (shared, mutable)."""

    def texts(self) -> list[str]:
        return self.bodies or self.named_texts[:1]

    def walk(self, part: Message, *, in_report: bool = False, alternate: bool = False) -> None:
        """``alternate``: inside a rendering of a ``multipart/alternative`` that was not
        chosen (its text parts are another rendering of the body, its files still count)."""
        _plain_headers(part)
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            self._nested(part, in_report=in_report)
            return
        if part.is_multipart():
            self._multipart(part, ctype, in_report=in_report, alternate=alternate)
            return
        if ctype == "text/rfc822-headers":
            headers = parse_bytes(part.get_payload(decode=True) or b"", headers_only=True)
            self.original_ids += message_ids(_header(_raw_headers(headers), "message-id", None))
        maintype = ctype.split("/")[0]  # get_content_maintype(), without reading it again
        if maintype == "multipart":  # its boundary never came: keep the text
            if not alternate:
                self.bodies.append(self._text(part, "text/plain"))
            return
        filename = _filename(part)
        body_like = ctype in BODY_TYPES and _disposition(part) != "attachment"
        if body_like and not filename:
            if not alternate:
                self.bodies.append(self._text(part, ctype))
            return
        payload = _payload_bytes(part)
        size = len(payload)
        text = None
        textual = maintype == "text" or (
            filename is not None and filename.lower().endswith(TEXT_ATTACHMENT_SUFFIXES)
        )
        if textual and size <= MAX_TEXT_ATTACHMENT:
            text = self._text(part, ctype)
            if body_like and not alternate:
                self.named_texts.append(text)
        digest = hashlib.sha256(payload).hexdigest()
        self.attachments.append(Attachment(filename, ctype, size, text, digest))

    def _multipart(self, part: Message, ctype: str, *, in_report: bool, alternate: bool) -> None:
        children = _children(part)
        in_report = in_report or ctype == "multipart/report"
        chosen: Message | None = None
        if ctype == "multipart/alternative" and children:
            ranked = [
                (r, i) for i, c in enumerate(children) if (r := _find_body_priority(c)) is not None
            ]
            chosen = children[min(ranked)[1]] if ranked else children[-1]
        elif ctype == "multipart/related" and children:
            chosen = _related_start(part)
        for child in children:
            other = chosen is not None and child is not chosen
            self.walk(child, in_report=in_report, alternate=alternate or other)

    def _text(self, part: Message, ctype: str) -> str:
        text = decode_bytes(_payload_bytes(part), declared_charset(part))
        if ctype == "text/html":
            text = self._html(text)
        return clean_body(text)

    def _html(self, html: str) -> str:
        if len(html) > self.html_budget[0]:
            self.notes.append(
                f"HTML of {len(html)} characters read by a plain tag strip (the message's "
                f"{MAX_CONVERTED_HTML} characters of full conversion were used up)"
            )
            return strip_tags(html)
        text, note = html_to_text(html)
        self.html_budget[0] -= len(html)
        if note:
            self.notes.append(note)
        return text

    def _nested(self, part: Message, *, in_report: bool) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        filename = _filename(part)
        if not isinstance(inner, Message):
            data = _payload_bytes(part)
            self.attachments.append(
                Attachment(
                    filename, "message/rfc822", len(data), None, hashlib.sha256(data).hexdigest()
                )
            )
            return
        _plain_headers(inner)
        inner_headers = _raw_headers(inner)
        subject = _header(inner_headers, "subject", None)
        if in_report:
            self.original_ids += message_ids(_header(inner_headers, "message-id", None))
        text = None
        if self.depth < MAX_NESTED_MESSAGES:
            sub = _Walker(self.depth + 1, self.html_budget)
            sub.walk(inner)
            self.original_ids += sub.original_ids
            self.notes += sub.notes
            sub_texts = sub.texts() + [a.text for a in sub.attachments if a.text]
            text = "\n\n".join(sub_texts)[:MAX_TEXT_ATTACHMENT]
        else:
            self.notes.append(f"messages nested over {MAX_NESTED_MESSAGES} deep were not opened")
        data = text.encode() if text else b""
        self.attachments.append(
            Attachment(
                filename or subject or None,
                "message/rfc822",
                len(data),
                text,
                hashlib.sha256(data).hexdigest(),
            )
        )


def parse_message(raw: bytes, *, max_bytes: int) -> ParsedMessage:
    """Parse ``raw``; raise ``UnparseableMessage`` (with a reason for staff) when it is too
    large or too deeply structured, or has no sender at all and is not automatic mail. A
    sender that is not a valid address is kept, with ``sender_problem`` saying why. Any
    other oddity is decoded as well as possible."""
    if len(raw) > max_bytes:
        raise UnparseableMessage(f"message of {len(raw)} bytes exceeds the {max_bytes}-byte limit")
    problem = structure_problem(raw)
    if problem:
        raise UnparseableMessage(problem)
    try:
        msg: EmailMessage = parse_bytes(raw)
        _plain_headers(msg)
        walker = _Walker()
        walker.walk(msg)
    except RecursionError:
        raise UnparseableMessage("MIME structure nested too deeply to read") from None
    body_charset = declared_charset(msg)
    raw_headers = _raw_headers(msg)
    sender = choose_sender(recover_8bit(v, body_charset) for v in raw_headers.get("from", []))
    headers: dict[str, str] = {}
    for key in CLASSIFY_HEADERS:
        if key in raw_headers:
            headers[key] = ", ".join(clean_line(recover_8bit(v)) for v in raw_headers[key])
    content_type = msg.get_content_type()
    report_type = None
    if content_type == "multipart/report":
        report_type = (str(_param(msg, "report-type", "content-type") or "")).lower() or None
    message_id = message_ids(_header(raw_headers, "message-id", None))
    body = "\n\n".join(walker.texts()).strip("\n")
    parsed = ParsedMessage(
        message_id=message_id[0] if message_id else None,
        from_addr=sender.addr,
        from_name=sender.name,
        subject=_header(raw_headers, "subject", body_charset),
        in_reply_to=message_ids(_header(raw_headers, "in-reply-to", None)),
        references=message_ids(_header_text(" ".join(raw_headers.get("references", [])), None)),
        body_text=body,
        attachments=walker.attachments,
        headers=headers,
        content_type=content_type,
        report_type=report_type,
        original_message_ids=walker.original_ids,
        hides_token=_hidden_token(msg, raw),
        sender_problem=sender.problem,
        own_text=own_text(body),
        notes=_header_notes(raw) + walker.notes,
        authentication_results=raw_headers.get("authentication-results", []),
    )
    if not sender.addr and classify(parsed).kind == "request":
        raise UnparseableMessage(sender.problem or "no sender address (From) could be read")
    return parsed


def _header_notes(raw: bytes) -> list[str]:
    """Headers read only to their first ``MAX_HEADER_CHARS`` (``mail_policy``), by name."""
    names = list(dict.fromkeys(long_headers(raw)))
    if not names:
        return []
    more = ", ..." if len(names) > MAX_NOTED_HEADERS else ""
    shown = ", ".join(names[:MAX_NOTED_HEADERS]) + more
    return [f"headers over {MAX_HEADER_CHARS} characters read from their start ({shown})"]


def _hidden_token(msg: Message, raw: bytes) -> bool:
    try:
        return hidden_token(msg, raw)
    except Exception:  # damaged structure: assume the worst, the slow path will check
        return True


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID from the headers alone, for a message too broken or big to parse."""
    try:
        headers = parse_bytes(raw[:262_144], headers_only=True)
        found = message_ids(_header(_raw_headers(headers), "message-id", None))
    except Exception:  # damaged input: fall back, never lose the message
        return None
    return found[0] if found else None
