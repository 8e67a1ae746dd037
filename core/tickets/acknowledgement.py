"""The automatic "we received your request" email of a new ticket, with its signing
challenge. It is an auto-reply (RFC 3834) and threads under the user's message. Anyone can
make us send it to any address, so it is capped by counters the database holds: a few per
sender address per day (plus-addressing and case do not make a new sender) and a global
number per hour, each claimed by one conditional upsert so racing ingesters cannot pass a
limit. It greets the requester by name only when the display name looks like a name."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import Session

from core.clock import Clock, system_clock
from core.mail.addresses import is_addr_spec
from core.mail.outbox import outbox_values
from core.settings import get_settings
from core.store.tables import Ticket
from core.store.types import UTCDateTime
from core.tickets.challenge import challenge_text, signing_command, stamp

TEMPLATE = "ticket_received"
MAX_REFERENCES = 10
GLOBAL_KEY = "*"
"""The global rate's counter (no address is ``*``)."""
NAME_RE = re.compile(r"[^\W\d_]+(?:[ '.\-]{1,2}[^\W\d_]+){0,3}\.?")
MAX_NAME = 40


def address_key(address: str) -> str:
    """The mailbox an address reaches, for limits: lower case, without a ``+tag``."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return address.strip().lower()
    return f"{local.split('+', 1)[0] or local}@{domain}"


def greeting_name(display_name: str) -> str:
    """The name to greet with, or "" when the display name looks like content (a URL, an
    address, digits, a sentence) that an attacker would like us to echo to a victim."""
    name = " ".join(display_name.split())
    if len(name) > MAX_NAME or not NAME_RE.fullmatch(name):
        return ""
    return name


def may_acknowledge(to: str) -> bool:
    """Never to ourselves, and never to what is not an address (``Test test@example.com``):
    the sender of a request may be anything its author typed."""
    if not is_addr_spec(to):
        return False
    return address_key(to) != address_key(get_settings().support_address)


def claim_acknowledgements(
    session: Session, wanted: Mapping[str, int], *, clock: Clock = system_clock
) -> dict[str, int]:
    """Claim up to ``wanted[address]`` acknowledgements per address (keys as
    ``address_key`` gives them) in the caller's transaction: how many each may send. The
    per-address counters are claimed first (in key order, so concurrent batches lock them in
    one order), then the global one for what they granted; what the global rate refuses is
    taken from the last addresses, whose claims then stay counted (fewer emails, never
    more)."""
    settings = get_settings()
    now = clock()
    wanted = {k: n for k, n in sorted(wanted.items()) if n > 0 and k != GLOBAL_KEY}
    if not wanted:
        return {}
    granted = _claim(
        session, wanted, settings.ack_max_per_sender_per_day, now - timedelta(days=1), now
    )
    total = sum(granted.values())
    if total:
        allowed = _claim(
            session, {GLOBAL_KEY: total}, settings.ack_max_per_hour, now - timedelta(hours=1), now
        )[GLOBAL_KEY]
        for key in reversed(list(granted)):
            cut = min(granted[key], total - allowed)
            granted[key] -= cut
            total -= cut
    return granted


CLAIM = """
INSERT INTO ack_quotas AS q (key, window_start, n, granted)
SELECT {key}, :now, {least}({wanted}, :limit), {least}({wanted}, :limit) FROM {rows} WHERE true
ON CONFLICT (key) DO UPDATE SET
  window_start = CASE WHEN q.window_start <= :since
    THEN excluded.window_start ELSE q.window_start END,
  n = CASE WHEN q.window_start <= :since
    THEN excluded.n ELSE {least}(q.n + excluded.n, :limit) END,
  granted = CASE WHEN q.window_start <= :since
    THEN excluded.n ELSE {greatest}({least}(q.n + excluded.n, :limit) - q.n, 0) END
RETURNING key, granted
"""
"""One statement for all counters of a claim, its rows passed as arrays (PostgreSQL:
``unnest``; SQLite: a JSON array), so its text is the same whatever their number."""
CLAIMS = {
    "postgresql": text(
        CLAIM.format(
            key="u.k",
            wanted="u.w",
            least="least",
            greatest="greatest",
            rows="unnest(CAST(:keys AS varchar[]), CAST(:wanted AS integer[])) AS u(k, w)",
        )
    ),
    "sqlite": text(
        CLAIM.format(
            key="json_extract(j.value, '$[0]')",
            wanted="json_extract(j.value, '$[1]')",
            least="min",
            greatest="max",
            rows="json_each(:pairs) AS j",
        )
    ),
}
CLAIMS = {
    name: sql.bindparams(
        bindparam("now", type_=UTCDateTime()), bindparam("since", type_=UTCDateTime())
    )
    for name, sql in CLAIMS.items()
}


def _claim(
    session: Session, wanted: dict[str, int], limit: int, since: datetime, now: datetime
) -> dict[str, int]:
    """One upsert over the counters of ``wanted`` (in key order, the order their rows are
    locked in): a counter whose window began at or before ``since`` starts a new window;
    each gets what fits under ``limit``."""
    dialect = session.get_bind().dialect.name
    keys = sorted(wanted)
    params: dict[str, Any] = {"now": now, "since": since, "limit": limit}
    if dialect == "postgresql":
        params |= {"keys": keys, "wanted": [wanted[k] for k in keys]}
    else:
        params["pairs"] = json.dumps([[k, wanted[k]] for k in keys])
    granted = dict.fromkeys(wanted, 0)
    granted.update(dict(session.execute(CLAIMS[dialect], params).all()))
    return granted


def acknowledgement_values(
    ticket: Ticket,
    *,
    in_reply_to: str | None,
    references: Sequence[str] = (),
    clock: Clock = system_clock,
) -> dict[str, Any]:
    """The acknowledgement's outbox row values (rendered), without the limit check."""
    settings = get_settings()
    refs = [*references, in_reply_to] if in_reply_to else list(references)
    return outbox_values(
        template=TEMPLATE,
        to=ticket.requester_email.lower(),
        context={
            "ticket_number": ticket.id,
            "requester_name": greeting_name(ticket.requester_name),
            "subject": ticket.subject,
            "challenge_text": challenge_text(ticket),
            "challenge_expires": stamp(ticket.challenge_expires_at, "%Y-%m-%d %H:%M UTC"),
            "signing_command": signing_command(),
            "support_name": settings.support_name,
            "hub_url": settings.hub_url,
        },
        ticket_id=ticket.id,
        user_id=ticket.user_id,
        in_reply_to=in_reply_to,
        references=list(dict.fromkeys(refs))[-MAX_REFERENCES:],
        auto_submitted="auto-replied",
        clock=clock,
    )
