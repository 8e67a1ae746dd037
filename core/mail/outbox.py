"""Queue an email as an outbox row in the caller's transaction (transactional outbox).

Nothing mail-controlled leaves with a token in it: the rendered subject and bodies are
redacted again, and a Message-ID quoted in In-Reply-To/References that holds a token (or
the mask a token left, which names no real message) is dropped. A template whose values
stand apart (``values_stand_apart``) rendered from plain values has those values redacted
instead of its bodies: the same result, without reading our own text for tokens on every
acknowledgement an ingest writes."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlmodel import Session

from core.accounts.token_text import find_tokens, seen_text
from core.accounts.tokens import TOKEN_PREFIX, redact_tokens
from core.clock import Clock, system_clock
from core.mail.render import PLAIN_VALUE_RE, render_email, template_environment
from core.settings import get_settings
from core.store.tables import OutboxEmail


def new_message_id() -> str:
    domain = get_settings().support_address.rpartition("@")[2] or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def _single_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("header value with a line break")
    return value


def _threading_id(value: str) -> str | None:
    """``value`` for a threading header, or None when it holds a token or a token's mask."""
    value = _single_line(value).strip()
    if not value.isascii() or find_tokens(value) or TOKEN_PREFIX + "*" in value:
        return None
    return value


SLOT = "\x00"
JOINS_BEFORE_RE = re.compile(r"(?:[\w\x00\-\u2010-\u2015.:@+/=&]|[hH][fF]\W{0,3})\Z")
"""Text before a value that a token could run on from (a letter, a separator, ``hf``)."""
JOINS_AFTER_RE = re.compile(r"[\w\x00]|\W{1,3}[A-Za-z_]{34}")
"""Text after a value that a token begun in it could run on into (matched at the value's end)."""


@lru_cache
def values_stand_apart(template: str) -> bool:
    """Whether every file of ``template`` keeps its values apart (``keeps_values_apart``):
    then a token in the rendered text would lie inside one value, and redacting the values
    is redacting the text."""
    env = template_environment()
    return all(
        keeps_values_apart(env.loader.get_source(env, f"{template}/{part}")[0])  # type: ignore[union-attr]
        for part in ("subject.txt", "body.txt", "body.html")
    )


def keeps_values_apart(source: str) -> bool:
    """Whether a template ``source`` prints only plain values, each set apart (as a reader
    sees the text, markup ignored) by characters no token can run across. False for any
    block, comment, filter or expression, for a value inside markup, and for a value
    touching a letter, a separator, ``hf`` or another value."""
    if "{%" in source or "{#" in source:
        return False
    slotted = PLAIN_VALUE_RE.sub(SLOT, source)
    if "{{" in slotted:
        return False
    seen = seen_text(slotted)
    if seen.count(SLOT) != slotted.count(SLOT):
        return False  # a value inside a tag or comment, which the reading sets aside
    at = seen.find(SLOT)
    while at != -1:
        if JOINS_BEFORE_RE.search(seen, 0, at) or JOINS_AFTER_RE.match(seen, at + 1):
            return False
        at = seen.find(SLOT, at + 1)
    return True


TOKEN_FREE_KEPT = 256
_token_free: dict[str, None] = {}
"""Template values recently found to hold no token, oldest first (``_redact_value``)."""
_token_free_lock = threading.Lock()


def _redact_value(value: str) -> str:
    """``redact_tokens`` of a template value, skipped for a value recently found clean: the
    acknowledgements of an ingest share most of theirs (the signing command, support name,
    hub URL, the batch's expiry). Only values that hold no token are remembered, so no
    token's text is kept beyond the render that masks it."""
    if value in _token_free:
        return value
    redacted = redact_tokens(value)
    if redacted == value:
        with _token_free_lock:
            if len(_token_free) >= TOKEN_FREE_KEPT:
                del _token_free[next(iter(_token_free))]
            _token_free[value] = None
    return redacted


def _plain(value: Any) -> bool:
    return value is None or type(value) in (str, int)


def outbox_values(
    *,
    template: str,
    to: str,
    context: dict[str, Any],
    user_id: int | None = None,
    ticket_id: int | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    auto_submitted: str | None = None,
    clock: Clock = system_clock,
    send_after: datetime | None = None,
    sealed: bool = False,
) -> dict[str, Any]:
    """The rendered outbox row's column values, for ``queue_email`` and for callers that
    insert many rows in one statement (ingestion). ``sealed``: the context holds a one-time
    secret (a password-reset or cancel link), so the bodies are stored encrypted and only
    the sender opens them; the subject must not hold it."""
    if values_stand_apart(template) and all(map(_plain, context.values())):
        masked = {k: _redact_value(v) if type(v) is str else v for k, v in context.items()}
        rendered = render_email(template, masked)
        text, html = rendered.text, rendered.html
    else:
        rendered = render_email(template, context)
        text, html = redact_tokens(rendered.text), redact_tokens(rendered.html)
    headers: dict[str, Any] = {}
    in_reply_to = _threading_id(in_reply_to) if in_reply_to else None
    references = [r for r in map(_threading_id, references) if r]
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
    if references:
        headers["References"] = " ".join(references)
    if auto_submitted:
        headers["Auto-Submitted"] = _single_line(auto_submitted)
    if sealed:
        from core.encryption import encrypt_secret  # only secret-bearing mail needs the key

        text, html = encrypt_secret(text), encrypt_secret(html)
    now = clock()
    return {
        "message_id": new_message_id(),
        "template": template,
        "to_addr": _single_line(to),
        "subject": redact_tokens(rendered.subject),  # folded to one line after rendering
        "body_text": text,
        "body_html": html,
        "sealed": sealed,
        "headers": headers,
        "user_id": user_id,
        "ticket_id": ticket_id,
        "status": "queued",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": send_after or now,
    }


def queue_email(session: Session, **email: Any) -> OutboxEmail:
    """Render the email now and add it to the outbox; it is sent only if the caller's
    transaction commits. Takes the keyword arguments of ``outbox_values``; the context must
    hold no secret unless ``sealed`` is set."""
    row = OutboxEmail(**outbox_values(**email))
    session.add(row)
    return row
