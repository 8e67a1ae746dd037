"""Everything about one inbound message that needs no database: hash, parse, evidence, the
redacted raw copy and the content digest that makes a re-delivery a duplicate. Pure, so it
runs in a parse process beside the writer (``pipeline``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from core.accounts.tokens import redact_tokens
from core.inbound.authenticity import sender_authenticity, trusted_ids
from core.inbound.evidence import EvidenceItem, extract_evidence
from core.inbound.parsing import (
    Attachment,
    ParsedMessage,
    UnparseableMessage,
    header_message_id,
    parse_message,
)
from core.inbound.redaction import redact_raw
from core.inbound.storage import content_hash, synthetic_message_id
from core.settings import get_settings
from core.verification.sender_authenticity import SenderAuthenticity


@dataclass
class Prepared:
    size: int
    sha256: str
    message_id: str
    stored_raw: bytes
    parsed: ParsedMessage | None
    """Text fields made storable (``storable``) and tokens masked (after the evidence took
    their hashes); None when the mail could not be parsed."""
    evidence: list[EvidenceItem] = field(default_factory=list)
    reason: str | None = None
    """Why it could not be parsed (then it is quarantined)."""
    content_digest: str | None = None
    authenticity: SenderAuthenticity | None = None
    """SPF/DKIM/DMARC from our trusted receivers' headers; None when unparsed."""


def storable(text: str) -> str:
    """``text`` as both databases keep it: PostgreSQL refuses NUL in text and JSON."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _shown_texts(parsed: ParsedMessage, fix: Callable[[str], str]) -> ParsedMessage:
    """``parsed`` with ``fix`` applied to every text that is stored or shown: display
    name, subject, body, attachment names, types and texts. ``fix`` returns a text it
    leaves alone as the same object, and then ``parsed`` itself is returned (a copy costs
    more than the common message's fixing)."""
    from_name, subject = fix(parsed.from_name), fix(parsed.subject)
    body_text = fix(parsed.body_text)
    attachments = [
        replace(
            a,
            filename=fix(a.filename) if a.filename else a.filename,
            content_type=fix(a.content_type),
            text=fix(a.text) if a.text else a.text,
        )
        for a in parsed.attachments
    ]
    unchanged = (
        from_name is parsed.from_name
        and subject is parsed.subject
        and body_text is parsed.body_text
        and all(
            new.filename is old.filename
            and new.content_type is old.content_type
            and new.text is old.text
            for new, old in zip(attachments, parsed.attachments, strict=True)
        )
    )
    if unchanged:
        return parsed
    return replace(
        parsed, from_name=from_name, subject=subject, body_text=body_text, attachments=attachments
    )


def _storable_message(parsed: ParsedMessage) -> ParsedMessage:
    """The parsed message with every text that may be stored made storable (the common
    message has no NUL and is returned as is)."""
    texts = [parsed.from_addr, parsed.from_name, parsed.subject, parsed.body_text]
    texts += [a.text or "" for a in parsed.attachments]
    texts += [a.filename or "" for a in parsed.attachments]
    texts += [*parsed.in_reply_to, *parsed.references, *parsed.headers.values()]
    if not any("\x00" in t for t in texts):
        return parsed
    return replace(
        _shown_texts(parsed, storable),
        from_addr=storable(parsed.from_addr),
        in_reply_to=[storable(r) for r in parsed.in_reply_to],
        references=[storable(r) for r in parsed.references],
        headers={k: storable(v) for k, v in parsed.headers.items()},
    )


def content_digest(parsed: ParsedMessage) -> str:
    """What the sender wrote, as stored (``parsed`` redacted): sender, subject, text and
    each attachment's name, type and payload digest. Transport headers are not part of it,
    so the same email from two MX hosts (or IMAP and SMTP) has one digest."""
    attachments: list[Attachment] = parsed.attachments
    content = [
        parsed.from_addr,
        parsed.subject,
        parsed.body_text,
        [[a.filename, a.content_type, a.size, a.sha256] for a in attachments],
    ]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def prepare(raw: bytes) -> Prepared:
    """Parse and mine ``raw``; never raises for bad mail (the reason is kept instead)."""
    settings = get_settings()
    sha256 = content_hash(raw)
    parsed: ParsedMessage | None = None
    evidence: list[EvidenceItem] = []
    reason = None
    try:
        parsed = _storable_message(parse_message(raw, max_bytes=settings.inbound_max_bytes))
        evidence = extract_evidence(
            parsed.evidence_texts(),
            ignore_emails=[settings.support_address],
            claim_texts=parsed.claim_texts(),
        )
        parsed = _shown_texts(parsed, redact_tokens)  # once, here, not at every use
    except UnparseableMessage as exc:
        reason, parsed = str(exc), None
    except Exception as exc:  # the stdlib parser on hostile input: quarantine, never crash
        reason, parsed = f"parser failed: {type(exc).__name__}: {exc}", None
    message_id = (parsed.message_id if parsed else header_message_id(raw)) or (
        synthetic_message_id(sha256)
    )
    hidden = parsed is None or parsed.hides_token
    return Prepared(
        size=len(raw),
        sha256=sha256,
        message_id=storable(redact_tokens(message_id)),
        stored_raw=redact_raw(raw, hidden=hidden),
        parsed=parsed,
        evidence=evidence,
        reason=storable(redact_tokens(reason)) if reason else None,
        content_digest=content_digest(parsed) if parsed else None,
        authenticity=_authenticity(parsed, settings.trusted_authserv_ids),
    )


def _authenticity(parsed: ParsedMessage | None, setting: str) -> SenderAuthenticity | None:
    if parsed is None:
        return None
    found = sender_authenticity(parsed.authentication_results, trusted_ids(setting))
    if found.authserv_id is not None:
        found = replace(found, authserv_id=storable(found.authserv_id)[:255])
    return found


def prepare_all(raws: list[bytes]) -> list[Prepared]:
    return [prepare(raw) for raw in raws]
