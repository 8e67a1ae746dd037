"""The sender's own new text of a body: without quoted lines (``>``), the quoted or
forwarded message below a reply header ("On ... wrote:", "-----Original Message-----",
Outlook's ``From:/Sent:`` block, "Begin forwarded message:"), the signature below
``-- `` and a newsletter footer. A claim ("my username is ...") is read only from this
text: a quoted reply or a forwarded message names someone else's account as easily."""

from __future__ import annotations

import re

REPLY_HEADER_RE = re.compile(
    r"(?i)^\s*(?:"
    r"on\b.{0,300}\bwrote:|"
    r"le\b.{0,300}\ba [ée]crit\s?:|"
    r"am\b.{0,300}\bschrieb.{0,300}:|"
    r"el\b.{0,300}\bescribi[óo]:|"
    r"op\b.{0,300}\bschreef.{0,300}:|"
    r"在.{0,300}写道[:：]|"
    r"-{2,}\s*(?:original message|forwarded message|weitergeleitete nachricht|"
    r"message transféré|mensaje reenviado|messaggio inoltrato)\s*-{2,}.*|"
    r"begin forwarded message:|"
    r"_{20,}"
    r")\s*$"
)
WRAPPED_HEADER_START_RE = re.compile(r"(?i)^\s*(?:on|le|am|el|op)\s|^\s*在")
"""How a reply header that a client wrapped onto two lines starts."""
OUTLOOK_FROM_RE = re.compile(r"(?i)^\s*\*?(?:from|von|de|van|da)\s*:\*?\s+\S")
OUTLOOK_FIELD_RE = re.compile(
    r"(?i)^\s*\*?(?:sent|date|to|subject|gesendet|an|betreff|envoy[ée]|objet|enviado|asunto)"
    r"\s*:"
)
SIGNATURE_RE = re.compile(r"^(?:-- ?|sent from my [\w ]{1,40}|get outlook for \w+)\s*$", re.I)
FOOTER_RE = re.compile(
    r"\bunsubscribe\b|you (?:are receiving|received) this|to stop receiving|"
    r"manage (?:your )?(?:email |subscription )?preferences|this (?:e-?mail|message) was sent to"
)
"""Searched in lower-cased text: a case-insensitive search costs Python's ``re`` several
times a lower-casing and a plain one."""
FOOTER_WORDS = ("unsubscribe", "receiv", "preferences", "was sent to")
"""One of these is in every ``FOOTER_RE`` match: a text holding none is not searched (the
pattern opens with a ``\\b``, so ``re`` tries it at every character)."""
CUT_HINT_RE = re.compile(
    r"(?m)^\s*(?:>|(?:on|le|am|el|op)\s|在|-{2}|_{20}|begin forwarded|"
    r"\*?(?:from|von|de|van|da)\s*:|sent from my|get outlook)"
)
"""Some line may start quoted, forwarded or signature material: only then is the body
read line by line (most recovery emails hold none). Searched in lower-cased text."""
MAX_CHARS = 100_000
"""Characters of a body searched (claims sit at the top; the bound keeps the scan short)."""
FOOTER_WINDOW = 25
"""A footer marker counts only this many lines from the end: a footer closes the mail."""


def _cut_at(lines: list[str]) -> int:
    """Index of the first line that starts quoted, forwarded or signature material."""
    for i, line in enumerate(lines):
        if REPLY_HEADER_RE.match(line):
            return i
        if (
            i + 1 < len(lines)
            and WRAPPED_HEADER_START_RE.match(line)
            and REPLY_HEADER_RE.match(f"{line} {lines[i + 1]}")
            and not REPLY_HEADER_RE.match(lines[i + 1])
        ):
            return i
        if OUTLOOK_FROM_RE.match(line) and any(
            OUTLOOK_FIELD_RE.match(following) for following in lines[i + 1 : i + 5]
        ):
            return i
        if SIGNATURE_RE.match(line):
            return i
    return len(lines)


def _footer_start(lines: list[str]) -> int:
    """Start of the paragraph holding a newsletter footer marker near the end."""
    for i in range(max(0, len(lines) - FOOTER_WINDOW), len(lines)):
        if FOOTER_RE.search(lines[i].lower()):
            while i > 0 and lines[i - 1].strip():
                i -= 1
            return i
    return len(lines)


def _has_footer(lowered: str) -> bool:
    return any(word in lowered for word in FOOTER_WORDS) and FOOTER_RE.search(lowered) is not None


def own_text(body: str) -> str:
    """The part of ``body`` its sender wrote for this message (see the module)."""
    body = body[:MAX_CHARS]
    lowered = body.lower()
    if not CUT_HINT_RE.search(lowered) and not _has_footer(lowered):
        return body.strip("\n")
    lines = body.split("\n")
    lines = lines[: _cut_at(lines)]
    lines = lines[: _footer_start(lines)]
    return "\n".join(line for line in lines if not line.lstrip().startswith(">")).strip("\n")
