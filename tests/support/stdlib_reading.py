"""What the standard library's modern policy shows of a message (subject, body as
``get_body`` picks it, attachment names), and where our ``ParsedMessage`` reads worse:
more damage (replacement characters, undecoded encoded words, control characters), text
that the standard library read cleanly and we lost, or an attachment we do not list."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default

from core.inbound.html_text import html_to_text
from core.inbound.parsing import ParsedMessage
from core.inbound.sanitize import clean_line

ENCODED_WORD_RE = re.compile(r"=\?[^?\s]+\?[QqBb]\?[^?]*\?=")
DAMAGE_RE = re.compile("[\ufffd\ud800-\udfff\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
WORD_RE = re.compile(r"[^\W_]+")


def damage(text: str) -> int:
    """Replacement characters, lone surrogates, C0/C1 controls and undecoded words."""
    return len(DAMAGE_RE.findall(text)) + len(ENCODED_WORD_RE.findall(text))


@dataclass
class Reading:
    subject: str | None
    body: str | None
    attachments: list[str] = field(default_factory=list)


def _safe(read):
    try:
        return read()
    except Exception:  # the standard library itself fails on this part: it shows nothing
        return None


def stdlib_reading(raw: bytes) -> Reading:
    msg: EmailMessage = email.message_from_bytes(raw, policy=default)  # type: ignore[assignment]
    subject = _safe(lambda: str(msg["subject"]) if msg["subject"] is not None else "")
    body_part = _safe(lambda: msg.get_body(("plain", "html")))
    body = None
    if body_part is not None:
        content = _safe(body_part.get_content)
        if isinstance(content, str):
            is_html = body_part.get_content_type() == "text/html"
            body = html_to_text(content)[0] if is_html else content
    names = []
    for part in msg.walk():
        if part is body_part or part.is_multipart():
            continue
        name = _safe(part.get_filename)
        if name:
            names.append(name)
    return Reading(subject, body, names)


def _words(text: str) -> set[str]:
    return set(WORD_RE.findall(text.lower()))


def worse_than_stdlib(raw: bytes, ours: ParsedMessage) -> list[str]:
    """Every way ``ours`` reads ``raw`` worse than the standard library does (empty: none)."""
    names = [a.filename or "" for a in ours.attachments]
    return worse_reading(raw, ours.subject, ours.body_text, names)


def worse_reading(raw: bytes, subject: str, body: str, names: list[str]) -> list[str]:
    """``worse_than_stdlib`` for a reading as stored (a ticket message's subject, body and
    attachment names)."""
    std = stdlib_reading(raw)
    problems = []
    if std.subject is not None:
        theirs = clean_line(std.subject)
        if damage(subject) > damage(theirs):
            problems.append(f"subject {subject!r} more damaged than {theirs!r}")
        elif damage(theirs) == 0 and subject != theirs:
            problems.append(f"subject {subject!r} differs from a clean {theirs!r}")
    if std.body is not None:
        if damage(body) > damage(std.body):
            problems.append("body more damaged than the standard library's")
        elif damage(std.body) == 0:
            lost = _words(std.body) - _words(body)
            if lost:
                problems.append(f"body lost words the standard library read: {sorted(lost)[:8]}")
    for name in std.attachments:
        theirs = clean_line(name)
        if theirs in names:
            continue
        if damage(theirs) == 0 or not any(damage(n) <= damage(theirs) for n in names):
            problems.append(f"attachment {theirs!r} not listed (ours: {names})")
    return problems
