"""Queue an email as an outbox row in the caller's transaction (transactional outbox).

Nothing mail-controlled leaves with a token in it: the rendered subject and bodies are
redacted again, and a Message-ID quoted in In-Reply-To/References that holds a token (or
the mask a token left, which names no real message) is dropped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.accounts.token_text import find_tokens
from core.accounts.tokens import TOKEN_PREFIX, redact_tokens
from core.clock import Clock, system_clock
from core.mail.render import render_email
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
) -> dict[str, Any]:
    """The rendered outbox row's column values, for ``queue_email`` and for callers that
    insert many rows in one statement (ingestion)."""
    rendered = render_email(template, context)
    headers: dict[str, Any] = {}
    in_reply_to = _threading_id(in_reply_to) if in_reply_to else None
    references = [r for r in map(_threading_id, references) if r]
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
    if references:
        headers["References"] = " ".join(references)
    if auto_submitted:
        headers["Auto-Submitted"] = _single_line(auto_submitted)
    now = clock()
    return {
        "message_id": new_message_id(),
        "template": template,
        "to_addr": _single_line(to),
        "subject": redact_tokens(rendered.subject),
        "body_text": redact_tokens(rendered.text),
        "body_html": redact_tokens(rendered.html),
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
    hold no secret."""
    row = OutboxEmail(**outbox_values(**email))
    session.add(row)
    return row
